// Messages of the host channel: schema ids and hand-written fixed layouts (SHM_DESIGN.md
// "Every message", step 4). Each message is a fixed little-endian prefix, static_assert-ed,
// followed by the variable part its lengths announce; the lengths must add up exactly.
//
//   DPU -> host: RequestHead, RequestBody, StreamReset, FlowEvent, QuotePart
//   host -> DPU: ResponseHead, ResponseBody (streamed responses are many of these), StreamReset,
//                IdentityLabel (client CIDR -> workload identity), Drain, AttestChallenge
//
// Attestation on the channel (ATTESTATION.md): the host sends an AttestChallenge with a fresh
// nonce whenever it wants proof (at once on a new channel, then every interval); the DPU
// answers with the quote's JSON over that nonce, cut into QuoteParts in order, or with one
// QuotePart flagged kQuoteRefused whose data says why it cannot quote.
//
// Header fields (in request and response heads) follow the prefix and the target as
// { u16 name_len, u16 value_len, name, value } records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace dpuguard::shm {

enum class MessageSchema : uint16_t {
  kRequestHead = 1,
  kRequestBody = 2,
  kResponseHead = 3,
  kResponseBody = 4,
  kStreamReset = 5,
  kFlowEvent = 6,
  kIdentityLabel = 7,
  kDrain = 8,
  kAttestChallenge = 9,
  kQuotePart = 10,
  kStreamWindow = 11,
};
inline constexpr uint16_t kMessageVersion = 1;

inline constexpr uint32_t kMaxTargetBytes = 8192;
inline constexpr uint32_t kMaxFieldsBytes = 65536;
inline constexpr uint16_t kMaxFields = 128;
inline constexpr uint32_t kMaxIdentityBytes = 255;

// Methods a host backend can be asked for (CONNECT is refused before routing).
enum class WireMethod : uint8_t { kGet = 1, kHead, kPost, kPut, kDelete, kPatch, kOptions, kTrace };
inline constexpr uint8_t kMaxWireMethod = static_cast<uint8_t>(WireMethod::kTrace);

inline constexpr uint8_t kHeadEndStream = 1u << 0;   // no body follows this head
inline constexpr uint32_t kBodyEndStream = 1u << 0;  // last body message of the stream

struct RequestHeadPrefix {
  uint64_t stream_id;
  uint8_t method;  // WireMethod
  uint8_t flags;   // kHeadEndStream; other bits reserved
  uint16_t field_count;
  uint32_t target_len;  // origin-form target, then the fields
  uint32_t fields_len;
  uint32_t reserved;
};
static_assert(sizeof(RequestHeadPrefix) == 24 && std::is_trivially_copyable_v<RequestHeadPrefix>);
static_assert(offsetof(RequestHeadPrefix, target_len) == 12 &&
              offsetof(RequestHeadPrefix, fields_len) == 16);

struct ResponseHeadPrefix {
  uint64_t stream_id;
  uint16_t status;  // 100..599
  uint8_t flags;    // kHeadEndStream; other bits reserved
  uint8_t reserved0;
  uint16_t field_count;
  uint16_t reserved1;
  uint32_t fields_len;
  uint32_t reserved2;
};
static_assert(sizeof(ResponseHeadPrefix) == 24 && std::is_trivially_copyable_v<ResponseHeadPrefix>);
static_assert(offsetof(ResponseHeadPrefix, field_count) == 12 &&
              offsetof(ResponseHeadPrefix, fields_len) == 16);

struct BodyPrefix {
  uint64_t stream_id;
  uint32_t flags;  // kBodyEndStream; other bits reserved
  uint32_t data_len;
};
static_assert(sizeof(BodyPrefix) == 16 && std::is_trivially_copyable_v<BodyPrefix>);

enum class ResetReason : uint32_t {
  kClientGone = 1,
  kTimeout = 2,
  kBackendError = 3,
  kRefused = 4
};
inline constexpr uint32_t kMaxResetReason = static_cast<uint32_t>(ResetReason::kRefused);

struct StreamReset {
  uint64_t stream_id;
  uint32_t reason;  // ResetReason
  uint32_t reserved;
};
static_assert(sizeof(StreamReset) == 16 && std::is_trivially_copyable_v<StreamReset>);

// Per-stream flow control of response bodies: the host sends at most kInitialStreamWindow body
// bytes of a stream ahead of the DPU's grants; a StreamWindow (DPU to host) grants `credit`
// more, once the DPU has passed that many on to its client. A slow client then holds back its
// own backend, not the ring nor the other streams.
inline constexpr uint32_t kInitialStreamWindow = 1u << 20;
inline constexpr uint32_t kMaxStreamCredit = 16u << 20;  // one grant, at most
struct StreamWindow {
  uint64_t stream_id;
  uint32_t credit;  // 1..kMaxStreamCredit
  uint32_t reserved;
};
static_assert(sizeof(StreamWindow) == 16 && std::is_trivially_copyable_v<StreamWindow>);

struct FlowEvent {
  uint64_t stream_id;
  uint64_t start_unix_ns;
  uint32_t duration_us;
  uint16_t status;
  uint8_t family;  // 4 or 6
  uint8_t reserved0;
  uint8_t client_addr[16];  // IPv4 in the first 4 bytes, rest zero
  uint16_t client_port;
  uint16_t reserved1;
  uint32_t bytes_in;
  uint32_t bytes_out;
  uint32_t reserved2;
  char route[32];  // route name, NUL-padded, printable ASCII
  // The measurement id (ATTESTATION.md) of the config snapshot that judged the exchange:
  // 16 lowercase hex digits, or all zero when none. The host ties the event to a quote.
  char measurement[16];
};
static_assert(sizeof(FlowEvent) == 104 && std::is_trivially_copyable_v<FlowEvent>);
static_assert(offsetof(FlowEvent, client_addr) == 24 && offsetof(FlowEvent, route) == 56 &&
              offsetof(FlowEvent, measurement) == 88);

// Labels the clients of one network with a workload identity, or (kLabelWithdraw) takes the
// label of that network back; the identity then repeats the one withdrawn.
inline constexpr uint32_t kLabelWithdraw = 1u << 0;

struct IdentityLabelPrefix {
  uint8_t family;      // 4 or 6
  uint8_t prefix_len;  // <= 32 or 128
  uint16_t identity_len;
  uint32_t flags;    // kLabelWithdraw; other bits reserved
  uint8_t addr[16];  // network address; bits past prefix_len must be zero
};
static_assert(sizeof(IdentityLabelPrefix) == 24 &&
              std::is_trivially_copyable_v<IdentityLabelPrefix>);

struct Drain {
  uint32_t deadline_ms;
  uint32_t reserved;
};
static_assert(sizeof(Drain) == 8 && std::is_trivially_copyable_v<Drain>);

inline constexpr size_t kChallengeNonceBytes = 32;
struct AttestChallenge {
  uint8_t nonce[kChallengeNonceBytes];  // random; the quote's nonce is their lowercase hex
};
static_assert(sizeof(AttestChallenge) == 32 && std::is_trivially_copyable_v<AttestChallenge>);

inline constexpr uint32_t kQuoteRefused = 1u << 0;        // data: why the DPU cannot quote
inline constexpr uint32_t kMaxQuoteWireBytes = 2u << 20;  // attest::kMaxQuoteBytes

struct QuotePartPrefix {
  uint32_t total_len;  // the whole quote (or refusal text), 1..kMaxQuoteWireBytes
  uint32_t offset;     // where this part's data starts; parts come in order
  uint32_t flags;      // kQuoteRefused; other bits reserved
  uint32_t data_len;   // >= 1, offset + data_len <= total_len
};
static_assert(sizeof(QuotePartPrefix) == 16 && std::is_trivially_copyable_v<QuotePartPrefix>);

}  // namespace dpuguard::shm
