// ChannelTrust: whether the host trusts the DPU end of one channel (ATTESTATION.md). It
// challenges the DPU on the channel itself with a fresh random nonce (at once, again after
// every reset, then every interval), reassembles the QuoteParts that answer, and verifies the
// quote: the signature with the device's public key, the nonce, every digest against the
// expectation. The verdict is pending until the first answer, then trusted (with the quote's
// measurement id) or refused (with one line saying why, logged when it changes). A challenge
// still unanswered when the next one is due makes the verdict refused: a DPU that stops
// answering stops being trusted within two intervals.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "attest/expectation.h"
#include "shm/host/host_channel.h"
#include "shm/message_codec.h"
#include "shm/messages.h"

namespace dpuguard::host {

// What every channel is checked against: the device's public key and the expectation.
struct TrustAnchor {
  std::string public_pem;
  attest::Expectation expect;
};

class ChannelTrust {
 public:
  enum class State { kPending, kTrusted, kRefused };

  explicit ChannelTrust(const TrustAnchor& anchor) : anchor_(anchor) {}

  // Any thread: a fresh challenge for the caller to post (refusing first if the last one went
  // unanswered); false when no random nonce could be drawn.
  bool challenge(shm::AttestChallenge* out);
  // Both: challenge() and post it on `channel`.
  void challenge(shm::HostChannel& channel);
  // The channel thread: the DPU re-created the channel; pending again, challenged at once.
  void onReset(shm::HostChannel& channel);
  // The channel thread: one part of the answer; the last one decides.
  void onQuotePart(const shm::QuotePartView& part);

  State state() const;
  // Trusted, and `measurement_id` is the measurement the verified quote names.
  bool trusts(std::string_view measurement_id) const;
  // Waits while pending, up to `timeout_ms`; true when trusted.
  bool awaitVerdict(uint32_t timeout_ms);

 private:
  void decide(std::string why, std::string id);  // mutex_ held; "" why = trusted
  void verifyAssembled();                        // mutex_ held

  const TrustAnchor& anchor_;
  mutable std::mutex mutex_;
  std::condition_variable verdict_cv_;
  State state_ = State::kPending;
  std::string measurement_id_;  // trusted: the verified quote's
  std::string last_line_;       // the verdict logged last
  std::string nonce_;           // hex of the challenge outstanding, "" for none
  bool answered_ = true;        // whether nonce_ got its whole answer
  std::string assembly_;        // the answer's parts so far
  uint32_t assembly_total_ = 0;
  uint32_t assembly_flags_ = 0;
};

}  // namespace dpuguard::host
