// MessageCodec: bounds-checked encode, check and decode of the host-channel messages in
// messages.h. check*() are the SchemaCheck functions the consumers run on their private copy;
// decode*() assume a payload that passed its check. Encoders write into a caller buffer and
// return the bytes written, or 0 when the message does not fit or a field is not encodable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "shm/channel_end.h"
#include "shm/messages.h"
#include "shm/schema_registry.h"

namespace dpuguard::shm {

struct WireField {
  std::string_view name;
  std::string_view value;
};

// Walks the { u16 name_len, u16 value_len, name, value } records of a checked head.
class FieldCursor {
 public:
  explicit FieldCursor(std::span<const std::byte> records) : rest_(records) {}
  // Fills `out` with the next field; false at the end.
  bool next(WireField& out);

 private:
  std::span<const std::byte> rest_;
};

struct RequestHeadView {
  RequestHeadPrefix prefix{};
  std::string_view target;
  FieldCursor fields{{}};
};

struct ResponseHeadView {
  ResponseHeadPrefix prefix{};
  FieldCursor fields{{}};
};

struct BodyView {
  BodyPrefix prefix{};
  std::span<const std::byte> data;
};

struct QuotePartView {
  QuotePartPrefix prefix{};
  std::string_view data;
};

struct IdentityLabelView {
  IdentityLabelPrefix prefix{};
  std::string_view identity;
};

bool checkRequestHead(std::span<const std::byte> p);
bool checkResponseHead(std::span<const std::byte> p);
bool checkBody(std::span<const std::byte> p);
bool checkStreamReset(std::span<const std::byte> p);
bool checkStreamWindow(std::span<const std::byte> p);
bool checkFlowEvent(std::span<const std::byte> p);
bool checkIdentityLabel(std::span<const std::byte> p);
bool checkDrain(std::span<const std::byte> p);
bool checkAttestChallenge(std::span<const std::byte> p);
bool checkQuotePart(std::span<const std::byte> p);

RequestHeadView decodeRequestHead(std::span<const std::byte> p);
ResponseHeadView decodeResponseHead(std::span<const std::byte> p);
BodyView decodeBody(std::span<const std::byte> p);
IdentityLabelView decodeIdentityLabel(std::span<const std::byte> p);
QuotePartView decodeQuotePart(std::span<const std::byte> p);
// Fixed-size messages: a copy of the struct.
template <class Fixed>
Fixed decodeFixed(std::span<const std::byte> p);

size_t encodeRequestHead(std::span<std::byte> out, uint64_t stream_id, WireMethod method,
                         uint8_t flags, std::string_view target, std::span<const WireField> fields);
size_t encodeResponseHead(std::span<std::byte> out, uint64_t stream_id, uint16_t status,
                          uint8_t flags, std::span<const WireField> fields);
size_t encodeBody(std::span<std::byte> out, uint64_t stream_id, uint32_t flags,
                  std::span<const std::byte> data);
size_t encodeIdentityLabel(std::span<std::byte> out, const IdentityLabelPrefix& prefix,
                           std::string_view identity);
// One part of `whole` (a quote or a refusal) starting at `offset`, as much as fits in `out`;
// *taken says how much of it went in.
size_t encodeQuotePart(std::span<std::byte> out, std::string_view whole, size_t offset,
                       uint32_t flags, size_t* taken);

// The allowlists of each direction, with the limits above (payloads also obey the ring's
// RingGeometry::maxPayload()).
const SchemaRegistry& dpuToHostSchemas();
const SchemaRegistry& hostToDpuSchemas();

// The channel as dpuguard and dpuguard-host run it: both rings of `geometry`, this side's
// allowlist for what it sends and the peer's for what it reads.
ChannelConfig channelConfigFor(RegionRole role, RingGeometry geometry, uint32_t batch = 32);

}  // namespace dpuguard::shm
