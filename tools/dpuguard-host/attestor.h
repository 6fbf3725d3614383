// Attestor: `dpuguard-host verify --admin`'s side of attestation (ATTESTATION.md). It asks
// dpuguard's admin port for a quote over a fresh random nonce (GET /attestation?nonce=HEX) and
// checks the signature with the device's public key, the nonce, and every digest against the
// expectation. (serve and events challenge the DPU on the channel instead: channel_trust.h.)
#pragma once

#include <netinet/in.h>

#include <string>

#include "attest/expectation.h"

namespace dpuguard::host {

class Attestor {
 public:
  Attestor(sockaddr_in admin, std::string public_pem, attest::Expectation expect)
      : admin_(admin), public_pem_(std::move(public_pem)), expect_(std::move(expect)) {}

  // One round: "" when a fresh quote verifies (with *measurement_id set), else why not.
  std::string verifyOnce(std::string* measurement_id);

 private:
  sockaddr_in admin_;
  std::string public_pem_;
  attest::Expectation expect_;
};

// A whole regular file of at most kMaxInputFileBytes (a quote, an expectation, a key);
// false with *why.
inline constexpr size_t kMaxInputFileBytes = 4u << 20;
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
