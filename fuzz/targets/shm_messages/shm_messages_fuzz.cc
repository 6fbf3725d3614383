// Fuzz target: every host-channel schema decoder (shm/message_codec). Invariants:
//   - a payload the check accepts decodes with every view inside the payload, its fields
//     iterate exactly field_count times, and re-encoding the decoded message gives back the
//     same bytes (one encoding per message: nothing in an accepted payload goes unexplained);
//   - the check never reads outside the payload (ASan) and is deterministic.
// Input: byte 0 picks the schema (0xFD a quote part, 0xFE an attestation challenge, any other
// value modulo 7 one of the first seven, as before those two existed, so the corpus keeps its
// meaning), the rest is the payload as a peer wrote it.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz/common/fuzz_target.h"
#include "shm/message_codec.h"

namespace {

using namespace dpuguard::shm;

constexpr MessageSchema kSchemas[] = {MessageSchema::kRequestHead, MessageSchema::kResponseHead,
                                      MessageSchema::kRequestBody, MessageSchema::kStreamReset,
                                      MessageSchema::kFlowEvent,   MessageSchema::kIdentityLabel,
                                      MessageSchema::kDrain};
constexpr const char* kNames[] = {"request_head", "response_head",  "body", "stream_reset",
                                  "flow_event",   "identity_label", "drain"};
constexpr uint8_t kWindowSelector = 0xFC;
constexpr uint8_t kQuotePartSelector = 0xFD;
constexpr uint8_t kChallengeSelector = 0xFE;

MessageSchema select(uint8_t b) {
  if (b == kWindowSelector) return MessageSchema::kStreamWindow;
  if (b == kQuotePartSelector) return MessageSchema::kQuotePart;
  if (b == kChallengeSelector) return MessageSchema::kAttestChallenge;
  return kSchemas[b % std::size(kSchemas)];
}

const char* nameOf(uint8_t b) {
  if (b == kWindowSelector) return "stream_window";
  if (b == kQuotePartSelector) return "quote_part";
  if (b == kChallengeSelector) return "attest_challenge";
  return kNames[b % std::size(kSchemas)];
}

bool check(MessageSchema s, std::span<const std::byte> p) {
  switch (s) {
    case MessageSchema::kRequestHead:
      return checkRequestHead(p);
    case MessageSchema::kResponseHead:
      return checkResponseHead(p);
    case MessageSchema::kRequestBody:
      return checkBody(p);
    case MessageSchema::kStreamReset:
      return checkStreamReset(p);
    case MessageSchema::kStreamWindow:
      return checkStreamWindow(p);
    case MessageSchema::kFlowEvent:
      return checkFlowEvent(p);
    case MessageSchema::kIdentityLabel:
      return checkIdentityLabel(p);
    case MessageSchema::kQuotePart:
      return checkQuotePart(p);
    case MessageSchema::kAttestChallenge:
      return checkAttestChallenge(p);
    default:
      return checkDrain(p);
  }
}

bool inside(std::string_view v, std::span<const std::byte> p) {
  const auto* b = reinterpret_cast<const char*>(p.data());
  return v.empty() || (v.data() >= b && v.data() + v.size() <= b + p.size());
}

std::vector<WireField> fieldsOf(FieldCursor c, std::span<const std::byte> p, size_t expected) {
  std::vector<WireField> out;
  WireField f;
  while (c.next(f)) {
    if (!inside(f.name, p) || !inside(f.value, p)) std::abort();
    out.push_back(f);
  }
  if (out.size() != expected) std::abort();
  return out;
}

// Decodes an accepted payload, re-encodes it and compares.
void roundTrip(MessageSchema s, std::span<const std::byte> p) {
  std::vector<std::byte> again(p.size() + 64);
  size_t n = p.size();
  switch (s) {
    case MessageSchema::kRequestHead: {
      const RequestHeadView v = decodeRequestHead(p);
      if (!inside(v.target, p)) std::abort();
      const auto f = fieldsOf(v.fields, p, v.prefix.field_count);
      n = encodeRequestHead(again, v.prefix.stream_id, static_cast<WireMethod>(v.prefix.method),
                            v.prefix.flags, v.target, f);
      break;
    }
    case MessageSchema::kResponseHead: {
      const ResponseHeadView v = decodeResponseHead(p);
      const auto f = fieldsOf(v.fields, p, v.prefix.field_count);
      n = encodeResponseHead(again, v.prefix.stream_id, v.prefix.status, v.prefix.flags, f);
      break;
    }
    case MessageSchema::kRequestBody: {
      const BodyView v = decodeBody(p);
      n = encodeBody(again, v.prefix.stream_id, v.prefix.flags, v.data);
      break;
    }
    case MessageSchema::kIdentityLabel: {
      const IdentityLabelView v = decodeIdentityLabel(p);
      if (!inside(v.identity, p)) std::abort();
      n = encodeIdentityLabel(again, v.prefix, v.identity);
      break;
    }
    case MessageSchema::kQuotePart: {
      const QuotePartView v = decodeQuotePart(p);
      if (!inside(v.data, p) || v.data.size() != v.prefix.data_len) std::abort();
      // The part as the DPU cuts it: `whole` holds the data at its offset (bounded here).
      if (v.prefix.total_len <= 65536) {
        std::string whole(v.prefix.total_len, '\0');
        whole.replace(v.prefix.offset, v.data.size(), v.data);
        size_t taken = 0;
        n = encodeQuotePart(std::span(again.data(), p.size()), whole, v.prefix.offset,
                            v.prefix.flags, &taken);
        if (taken != v.data.size()) std::abort();
      } else {
        std::memcpy(again.data(), p.data(), p.size());
      }
      break;
    }
    default:  // fixed layouts: the bytes are the struct
      std::memcpy(again.data(), p.data(), p.size());
      break;
  }
  if (n != p.size() || std::memcmp(again.data(), p.data(), n) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const MessageSchema s = select(data[0]);
  // A private, exactly sized copy, as the ring consumer hands it over: ASan sees any overread.
  std::vector<std::byte> payload(reinterpret_cast<const std::byte*>(data + 1),
                                 reinterpret_cast<const std::byte*>(data + size));
  const bool ok = check(s, payload);
  if (ok != check(s, payload)) std::abort();
  if (ok) roundTrip(s, payload);
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  if (input.empty()) return "empty";
  const auto sel = static_cast<uint8_t>(input[0]);
  const auto p = std::as_bytes(std::span(input.data() + 1, input.size() - 1));
  return std::string(check(select(sel), p) ? "accepted:" : "rejected:") + nameOf(sel);
}
