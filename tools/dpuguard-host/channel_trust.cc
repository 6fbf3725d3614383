// ChannelTrust: challenge, reassemble, verify, decide.
#include "tools/dpuguard-host/channel_trust.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>

#include "attest/digest.h"
#include "attest/quote.h"

namespace dpuguard::host {

bool ChannelTrust::challenge(shm::AttestChallenge* out) {
  *out = shm::AttestChallenge{};
  if (RAND_bytes(out->nonce, sizeof out->nonce) != 1) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!answered_) decide("the DPU did not answer the last challenge within the interval", "");
  nonce_ =
      attest::toHex(std::string_view(reinterpret_cast<const char*>(out->nonce), sizeof out->nonce));
  answered_ = false;
  assembly_.clear();
  assembly_total_ = 0;
  return true;
}

void ChannelTrust::challenge(shm::HostChannel& channel) {
  shm::AttestChallenge c;
  if (challenge(&c))
    channel.post(shm::MessageSchema::kAttestChallenge, std::as_bytes(std::span(&c, 1)));
}

void ChannelTrust::onReset(shm::HostChannel& channel) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    state_ = State::kPending;
    measurement_id_.clear();
    answered_ = true;  // the old epoch's challenge is void, not unanswered
  }
  challenge(channel);
}

void ChannelTrust::onQuotePart(const shm::QuotePartView& part) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (answered_ || nonce_.empty()) {
    decide("the DPU sent a quote no challenge asked for", "");
    return;
  }
  // Parts come in order, each where the last ended, all of one size and kind.
  if (part.prefix.offset == 0) {
    assembly_.clear();
    assembly_total_ = part.prefix.total_len;
    assembly_flags_ = part.prefix.flags;
  }
  if (part.prefix.offset != assembly_.size() || part.prefix.total_len != assembly_total_ ||
      part.prefix.flags != assembly_flags_) {
    answered_ = true;
    decide("the DPU's quote arrived out of order", "");
    return;
  }
  assembly_.append(part.data);
  if (assembly_.size() == assembly_total_) verifyAssembled();
}

void ChannelTrust::verifyAssembled() {
  answered_ = true;
  const std::string text = std::move(assembly_);
  assembly_.clear();
  if (assembly_flags_ & shm::kQuoteRefused) {
    decide("the DPU did not quote: " + text.substr(0, 200), "");
    return;
  }
  attest::SignedQuote q;
  std::string why;
  if (!attest::parseQuote(text, &q, &why)) {
    decide(why, "");
    return;
  }
  why = attest::verifyQuote(q, nonce_, anchor_.public_pem, anchor_.expect);
  // Signed for the admin port (anyone may ask there, with any nonce): relayed, not an answer.
  if (why.empty() && q.quote.context != attest::kContextHostChannel)
    why = "the quote was signed for '" + q.quote.context + "', not for the host channel (a relay?)";
  decide(why, why.empty() ? q.quote.log.id() : "");
}

void ChannelTrust::decide(std::string why, std::string id) {
  state_ = why.empty() ? State::kTrusted : State::kRefused;
  measurement_id_ = std::move(id);
  std::string line = why.empty() ? "dpuguard-host: quote verified: measurement " + measurement_id_
                                 : "dpuguard-host: not trusted, bridging nothing: " + why;
  // `why` may quote the DPU's own words (its refusal text): no control bytes or escapes reach
  // the log from there, one line per verdict.
  for (char& c : line) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  if (line != last_line_) {
    std::fprintf(stderr, "%s\n", line.c_str());
    last_line_ = line;
  }
  verdict_cv_.notify_all();
}

ChannelTrust::State ChannelTrust::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

bool ChannelTrust::trusts(std::string_view measurement_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_ == State::kTrusted && measurement_id_ == measurement_id;
}

bool ChannelTrust::awaitVerdict(uint32_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  verdict_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                       [this] { return state_ != State::kPending; });
  return state_ == State::kTrusted;
}

}  // namespace dpuguard::host
