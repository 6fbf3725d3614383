// Attestor: the host's side of attestation (ATTESTATION.md). It asks dpuguard's admin port for
// a quote over a fresh random nonce (GET /attestation?nonce=HEX), checks the signature with
// the device's public key, the nonce, and every digest against the expectation, and keeps the
// verdict: `serve --expect` bridges no request and `events --expect` passes no flow event
// until it is trusted. watch() re-verifies every interval, so a reload that makes the
// measurement unknown stops the bridging within one interval, and one line says what differs.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "attest/expectation.h"

namespace dpuguard::host {

class Attestor {
 public:
  Attestor(sockaddr_in admin, std::string public_pem, attest::Expectation expect)
      : admin_(admin), public_pem_(std::move(public_pem)), expect_(std::move(expect)) {}
  ~Attestor();

  // One round: "" when a fresh quote verifies (with *measurement_id set), else why not.
  std::string verifyOnce(std::string* measurement_id);
  // Verifies now and then every `interval_ms` on a thread of its own, logging each change.
  void watch(uint32_t interval_ms);
  // Whether the last round verified.
  const std::atomic<bool>& trusted() const { return trusted_; }
  // Whether the last round verified a quote of measurement `id` (a flow event's): an event
  // judged by another binary, config or rule set than the one verified is not trusted.
  bool trusts(std::string_view id) const;

 private:
  sockaddr_in admin_;
  std::string public_pem_;
  attest::Expectation expect_;
  std::atomic<bool> trusted_{false};
  mutable std::mutex mutex_;
  std::string trusted_id_;  // guarded by mutex_; empty when not trusted
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A whole file; false with *why.
bool readFile(const std::string& path, std::string* out, std::string* why);

// "IP:PORT" or "http://IP:PORT" (IPv4).
bool parseAddress(std::string text, sockaddr_in* out);

// GET `target` from `server` (HTTP/1.1, Connection: close, `timeout_ms` for the whole
// exchange, at most attest::kMaxQuoteBytes of body): true with the status and body.
bool httpGet(const sockaddr_in& server, const std::string& target, uint32_t timeout_ms, int* status,
             std::string* body, std::string* why);

// `dpuguard-host verify --expect FILE --pubkey FILE (--admin http://IP:PORT |
//  --quote FILE --nonce HEX)`: 0 verified, 1 refused (one line says why), 2 usage.
int verifyCommand(int argc, char** argv);

}  // namespace dpuguard::host
