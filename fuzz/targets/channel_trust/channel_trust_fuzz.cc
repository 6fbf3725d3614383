// Fuzz target: what dpuguard-host's ChannelTrust (tools/dpuguard-host/channel_trust.h) reads
// from a DPU end it does not trust yet: challenges and QuotePart messages in any order, cut
// anywhere, as the ring consumer hands them over (only parts the codec accepts reach it).
// The input is a script: each step is one byte, 0x00-0x3f a new challenge, anything else a
// QuotePart whose payload follows as u16 length + bytes.
// Invariants:
//   - no sequence of parts makes the channel trusted: the anchor's key signed no quote over
//     this run's nonces (each is fresh and random), so only a signature could, and there is none;
//   - a part that arrives with no challenge outstanding, out of order, or after the answer is
//     complete leaves the channel refused, never pending;
//   - what is reassembled stays within the quote size the codec allows (ASan sees the rest).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz/common/fuzz_target.h"
#include "shm/message_codec.h"
#include "tools/dpuguard-host/channel_trust.h"

namespace {

using namespace dpuguard;

// An Ed25519 public key no quote over these nonces was signed with (RFC 8032 test 1's).
constexpr const char* kStrangerKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
    "-----END PUBLIC KEY-----\n";

void fail(const char* what) {
  __builtin_trap();
  (void)what;
}

struct Step {
  bool challenge = false;
  std::vector<std::byte> payload;  // a QuotePart's bytes
};

// Cuts the script into steps; false at its end.
bool nextStep(const uint8_t*& p, const uint8_t* end, Step* s) {
  if (p == end) return false;
  const uint8_t op = *p++;
  s->challenge = op < 0x40;
  s->payload.clear();
  if (s->challenge) return true;
  if (end - p < 2) return false;
  size_t n = p[0] | (size_t{p[1]} << 8);
  p += 2;
  n = std::min<size_t>(n, static_cast<size_t>(end - p));
  s->payload.assign(reinterpret_cast<const std::byte*>(p),
                    reinterpret_cast<const std::byte*>(p + n));
  p += n;
  return true;
}

}  // namespace

namespace dpuguard::fuzz {

std::string describeInput(std::string_view input) {
  const auto* p = reinterpret_cast<const uint8_t*>(input.data());
  const uint8_t* end = p + input.size();
  size_t challenges = 0, parts = 0, refused = 0;
  Step s;
  while (nextStep(p, end, &s)) {
    if (s.challenge)
      ++challenges;
    else if (shm::checkQuotePart(s.payload))
      ++parts;
    else
      ++refused;
  }
  return "accepted:script " + std::to_string(challenges) + " challenges, " + std::to_string(parts) +
         " parts, " + std::to_string(refused) + " refused by the codec";
}

}  // namespace dpuguard::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const host::TrustAnchor anchor{kStrangerKey, {}};
  host::ChannelTrust trust(anchor);
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  bool outstanding = false;  // a challenge not yet completely answered
  Step s;
  while (nextStep(p, end, &s)) {
    if (s.challenge) {
      shm::AttestChallenge c;
      if (!trust.challenge(&c)) return 0;  // no randomness: nothing to check
      outstanding = true;
      continue;
    }
    if (!shm::checkQuotePart(s.payload)) continue;  // the ring consumer stops it
    const shm::QuotePartView part = shm::decodeQuotePart(s.payload);
    if (part.data.size() != part.prefix.data_len ||
        part.prefix.offset + uint64_t{part.prefix.data_len} > part.prefix.total_len ||
        part.prefix.total_len > shm::kMaxQuoteWireBytes)
      fail("the codec let a part through that does not fit its quote");
    trust.onQuotePart(part);
    const host::ChannelTrust::State st = trust.state();
    if (st == host::ChannelTrust::State::kTrusted) fail("trusted without a signature");
    if (!outstanding && st != host::ChannelTrust::State::kRefused)
      fail("an unsolicited part did not refuse the channel");
    if (st == host::ChannelTrust::State::kRefused) outstanding = false;
  }
  return 0;
}
