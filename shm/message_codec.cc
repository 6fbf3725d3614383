// MessageCodec: every length is checked against what is left before it is used; the
// variable parts must fill the payload exactly, so no byte goes unexplained.
#include "shm/message_codec.h"

#include <algorithm>
#include <cstring>

#include "shm/ring_layout.h"

namespace dpuguard::shm {
namespace {

constexpr size_t kFieldHeader = 4;

template <class T>
bool readPrefix(std::span<const std::byte> p, T& out) {
  if (p.size() < sizeof(T)) return false;
  std::memcpy(&out, p.data(), sizeof(T));
  return true;
}

std::string_view text(std::span<const std::byte> p) {
  return {reinterpret_cast<const char*>(p.data()), p.size()};
}

bool isTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}
bool isValueChar(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}  // VCHAR, SP, HTAB, obs-text
bool isVisible(unsigned char c) {
  return c > 0x20 && c < 0x7f;
}
bool isLowerHex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

template <class Pred>
bool all(std::string_view s, Pred pred) {
  for (char c : s) {
    if (!pred(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// `count` field records that fill `records` exactly; RFC 9110 §5.1, §5.5 character rules.
bool checkFields(std::span<const std::byte> records, uint16_t count) {
  FieldCursor cursor(records);
  size_t used = 0;
  WireField f;
  for (uint16_t i = 0; i < count; ++i) {
    if (!cursor.next(f) || f.name.empty() || !all(f.name, isTchar) || !all(f.value, isValueChar))
      return false;
    if (!f.value.empty() && (f.value.front() == ' ' || f.value.front() == '\t' ||
                             f.value.back() == ' ' || f.value.back() == '\t')) {
      return false;
    }
    used += kFieldHeader + f.name.size() + f.value.size();
  }
  return used == records.size();
}

bool zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

size_t encodeFields(std::span<std::byte> out, size_t pos, std::span<const WireField> fields) {
  for (const WireField& f : fields) {
    if (f.name.size() > UINT16_MAX || f.value.size() > UINT16_MAX) return 0;
    const size_t need = kFieldHeader + f.name.size() + f.value.size();
    if (out.size() - pos < need) return 0;
    const uint16_t lens[2] = {static_cast<uint16_t>(f.name.size()),
                              static_cast<uint16_t>(f.value.size())};
    std::memcpy(out.data() + pos, lens, sizeof lens);
    std::memcpy(out.data() + pos + kFieldHeader, f.name.data(), f.name.size());
    std::memcpy(out.data() + pos + kFieldHeader + f.name.size(), f.value.data(), f.value.size());
    pos += need;
  }
  return pos;
}

size_t fieldsBytes(std::span<const WireField> fields) {
  size_t n = 0;
  for (const WireField& f : fields) n += kFieldHeader + f.name.size() + f.value.size();
  return n;
}

}  // namespace

bool FieldCursor::next(WireField& out) {
  if (rest_.size() < kFieldHeader) return false;
  uint16_t lens[2];
  std::memcpy(lens, rest_.data(), sizeof lens);
  const size_t n = kFieldHeader + size_t{lens[0]} + lens[1];
  if (rest_.size() < n) return false;
  out.name = text(rest_.subspan(kFieldHeader, lens[0]));
  out.value = text(rest_.subspan(kFieldHeader + lens[0], lens[1]));
  rest_ = rest_.subspan(n);
  return true;
}

bool checkRequestHead(std::span<const std::byte> p) {
  RequestHeadPrefix h;
  if (!readPrefix(p, h) || h.reserved != 0 || (h.flags & ~kHeadEndStream) != 0) return false;
  if (h.method == 0 || h.method > kMaxWireMethod || h.field_count > kMaxFields) return false;
  if (h.target_len == 0 || h.target_len > kMaxTargetBytes || h.fields_len > kMaxFieldsBytes)
    return false;
  if (sizeof h + uint64_t{h.target_len} + h.fields_len != p.size()) return false;
  const std::string_view target = text(p.subspan(sizeof h, h.target_len));
  if ((target.front() != '/' && target != "*") || !all(target, isVisible)) return false;
  return checkFields(p.subspan(sizeof h + h.target_len), h.field_count);
}

bool checkResponseHead(std::span<const std::byte> p) {
  ResponseHeadPrefix h;
  if (!readPrefix(p, h) || h.reserved0 != 0 || h.reserved1 != 0 || h.reserved2 != 0) return false;
  if ((h.flags & ~kHeadEndStream) != 0 || h.status < 100 || h.status > 599) return false;
  if (h.field_count > kMaxFields || h.fields_len > kMaxFieldsBytes ||
      sizeof h + uint64_t{h.fields_len} != p.size()) {
    return false;
  }
  return checkFields(p.subspan(sizeof h), h.field_count);
}

bool checkBody(std::span<const std::byte> p) {
  BodyPrefix h;
  return readPrefix(p, h) && (h.flags & ~kBodyEndStream) == 0 &&
         sizeof h + uint64_t{h.data_len} == p.size();
}

bool checkStreamReset(std::span<const std::byte> p) {
  StreamReset r;
  return p.size() == sizeof r && readPrefix(p, r) && r.reserved == 0 && r.reason >= 1 &&
         r.reason <= kMaxResetReason;
}

bool checkStreamWindow(std::span<const std::byte> p) {
  StreamWindow w;
  return p.size() == sizeof w && readPrefix(p, w) && w.reserved == 0 && w.credit >= 1 &&
         w.credit <= kMaxStreamCredit;
}

bool checkFlowEvent(std::span<const std::byte> p) {
  FlowEvent e;
  if (p.size() != sizeof e || !readPrefix(p, e)) return false;
  if (e.reserved0 != 0 || e.reserved1 != 0 || e.reserved2 != 0) return false;
  if (e.family != 4 && e.family != 6) return false;
  if (e.family == 4 && !zero(e.client_addr + 4, 12)) return false;
  if (e.status != 0 && (e.status < 100 || e.status > 599)) return false;
  const std::string_view route(e.route, sizeof e.route);
  const size_t end = route.find('\0');
  if (end == 0 || !all(route.substr(0, end), isVisible)) return false;
  if (end != std::string_view::npos &&
      !zero(reinterpret_cast<const uint8_t*>(e.route) + end, sizeof e.route - end))
    return false;
  const std::string_view id(e.measurement, sizeof e.measurement);
  return zero(reinterpret_cast<const uint8_t*>(e.measurement), sizeof e.measurement) ||
         all(id, isLowerHex);
}

bool checkIdentityLabel(std::span<const std::byte> p) {
  IdentityLabelPrefix h;
  if (!readPrefix(p, h) || (h.flags & ~kLabelWithdraw) != 0) return false;
  const unsigned bits = h.family == 4 ? 32 : h.family == 6 ? 128 : 0;
  if (bits == 0 || h.prefix_len > bits || (h.family == 4 && !zero(h.addr + 4, 12))) return false;
  // Host bits past the prefix must be zero: one spelling per network.
  for (unsigned bit = h.prefix_len; bit < bits; ++bit) {
    if ((h.addr[bit / 8] >> (7 - bit % 8)) & 1u) return false;
  }
  if (h.identity_len == 0 || h.identity_len > kMaxIdentityBytes ||
      sizeof h + size_t{h.identity_len} != p.size()) {
    return false;
  }
  return all(text(p.subspan(sizeof h)), isVisible);
}

bool checkDrain(std::span<const std::byte> p) {
  Drain d;
  return p.size() == sizeof d && readPrefix(p, d) && d.reserved == 0 && d.deadline_ms <= 3'600'000;
}

bool checkAttestChallenge(std::span<const std::byte> p) {
  return p.size() == sizeof(AttestChallenge);
}

bool checkQuotePart(std::span<const std::byte> p) {
  QuotePartPrefix h;
  if (!readPrefix(p, h) || (h.flags & ~kQuoteRefused) != 0) return false;
  if (h.total_len == 0 || h.total_len > kMaxQuoteWireBytes || h.data_len == 0) return false;
  if (h.offset > h.total_len || h.data_len > h.total_len - h.offset) return false;
  return sizeof h + size_t{h.data_len} == p.size();
}

RequestHeadView decodeRequestHead(std::span<const std::byte> p) {
  RequestHeadView v;
  readPrefix(p, v.prefix);
  v.target = text(p.subspan(sizeof v.prefix, v.prefix.target_len));
  v.fields = FieldCursor(p.subspan(sizeof v.prefix + v.prefix.target_len));
  return v;
}

ResponseHeadView decodeResponseHead(std::span<const std::byte> p) {
  ResponseHeadView v;
  readPrefix(p, v.prefix);
  v.fields = FieldCursor(p.subspan(sizeof v.prefix));
  return v;
}

BodyView decodeBody(std::span<const std::byte> p) {
  BodyView v;
  readPrefix(p, v.prefix);
  v.data = p.subspan(sizeof v.prefix);
  return v;
}

IdentityLabelView decodeIdentityLabel(std::span<const std::byte> p) {
  IdentityLabelView v;
  readPrefix(p, v.prefix);
  v.identity = text(p.subspan(sizeof v.prefix));
  return v;
}

QuotePartView decodeQuotePart(std::span<const std::byte> p) {
  QuotePartView v;
  readPrefix(p, v.prefix);
  v.data = text(p.subspan(sizeof v.prefix));
  return v;
}

template <class Fixed>
Fixed decodeFixed(std::span<const std::byte> p) {
  Fixed f{};
  readPrefix(p, f);
  return f;
}
template StreamReset decodeFixed<StreamReset>(std::span<const std::byte>);
template StreamWindow decodeFixed<StreamWindow>(std::span<const std::byte>);
template FlowEvent decodeFixed<FlowEvent>(std::span<const std::byte>);
template Drain decodeFixed<Drain>(std::span<const std::byte>);
template AttestChallenge decodeFixed<AttestChallenge>(std::span<const std::byte>);

size_t encodeRequestHead(std::span<std::byte> out, uint64_t stream_id, WireMethod method,
                         uint8_t flags, std::string_view target,
                         std::span<const WireField> fields) {
  RequestHeadPrefix h{};
  const size_t fields_len = fieldsBytes(fields);
  if (target.size() > kMaxTargetBytes || fields_len > kMaxFieldsBytes || fields.size() > kMaxFields)
    return 0;
  if (out.size() < sizeof h + target.size() + fields_len) return 0;
  h.stream_id = stream_id;
  h.method = static_cast<uint8_t>(method);
  h.flags = flags;
  h.field_count = static_cast<uint16_t>(fields.size());
  h.target_len = static_cast<uint32_t>(target.size());
  h.fields_len = static_cast<uint32_t>(fields_len);
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + sizeof h, target.data(), target.size());
  return encodeFields(out, sizeof h + target.size(), fields);
}

size_t encodeResponseHead(std::span<std::byte> out, uint64_t stream_id, uint16_t status,
                          uint8_t flags, std::span<const WireField> fields) {
  ResponseHeadPrefix h{};
  const size_t fields_len = fieldsBytes(fields);
  if (fields_len > kMaxFieldsBytes || fields.size() > kMaxFields ||
      out.size() < sizeof h + fields_len)
    return 0;
  h.stream_id = stream_id;
  h.status = status;
  h.flags = flags;
  h.field_count = static_cast<uint16_t>(fields.size());
  h.fields_len = static_cast<uint32_t>(fields_len);
  std::memcpy(out.data(), &h, sizeof h);
  return encodeFields(out, sizeof h, fields);
}

size_t encodeBody(std::span<std::byte> out, uint64_t stream_id, uint32_t flags,
                  std::span<const std::byte> data) {
  BodyPrefix h{};
  if (data.size() > UINT32_MAX || out.size() < sizeof h + data.size()) return 0;
  h.stream_id = stream_id;
  h.flags = flags;
  h.data_len = static_cast<uint32_t>(data.size());
  std::memcpy(out.data(), &h, sizeof h);
  if (!data.empty()) std::memcpy(out.data() + sizeof h, data.data(), data.size());
  return sizeof h + data.size();
}

size_t encodeIdentityLabel(std::span<std::byte> out, const IdentityLabelPrefix& prefix,
                           std::string_view identity) {
  if (identity.size() > kMaxIdentityBytes || out.size() < sizeof prefix + identity.size()) return 0;
  IdentityLabelPrefix h = prefix;
  h.identity_len = static_cast<uint16_t>(identity.size());
  h.flags &= kLabelWithdraw;
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + sizeof h, identity.data(), identity.size());
  return sizeof h + identity.size();
}

size_t encodeQuotePart(std::span<std::byte> out, std::string_view whole, size_t offset,
                       uint32_t flags, size_t* taken) {
  *taken = 0;
  QuotePartPrefix h{};
  if (whole.empty() || whole.size() > kMaxQuoteWireBytes || offset >= whole.size() ||
      out.size() <= sizeof h)
    return 0;
  const size_t n = std::min(whole.size() - offset, out.size() - sizeof h);
  h.total_len = static_cast<uint32_t>(whole.size());
  h.offset = static_cast<uint32_t>(offset);
  h.flags = flags & kQuoteRefused;
  h.data_len = static_cast<uint32_t>(n);
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + sizeof h, whole.data() + offset, n);
  *taken = n;
  return sizeof h + n;
}

namespace {

constexpr uint32_t kHeadMax =
    static_cast<uint32_t>(sizeof(RequestHeadPrefix)) + kMaxTargetBytes + kMaxFieldsBytes;
constexpr uint32_t kBodyMax = static_cast<uint32_t>(sizeof(BodyPrefix)) + kMaxPayloadStride;

SchemaInfo schema(MessageSchema id, uint32_t min, uint32_t max, SchemaCheck check,
                  const char* name) {
  return SchemaInfo{static_cast<uint16_t>(id), kMessageVersion, min, max, check, name};
}

}  // namespace

const SchemaRegistry& dpuToHostSchemas() {
  static const SchemaRegistry registry = [] {
    SchemaRegistry r;
    r.add(schema(MessageSchema::kRequestHead, sizeof(RequestHeadPrefix) + 1, kHeadMax,
                 checkRequestHead, "request_head"));
    r.add(schema(MessageSchema::kRequestBody, sizeof(BodyPrefix), kBodyMax, checkBody,
                 "request_body"));
    r.add(schema(MessageSchema::kStreamReset, sizeof(StreamReset), sizeof(StreamReset),
                 checkStreamReset, "stream_reset"));
    r.add(schema(MessageSchema::kFlowEvent, sizeof(FlowEvent), sizeof(FlowEvent), checkFlowEvent,
                 "flow_event"));
    r.add(schema(MessageSchema::kQuotePart, sizeof(QuotePartPrefix) + 1, kBodyMax, checkQuotePart,
                 "quote_part"));
    r.add(schema(MessageSchema::kStreamWindow, sizeof(StreamWindow), sizeof(StreamWindow),
                 checkStreamWindow, "stream_window"));
    return r;
  }();
  return registry;
}

const SchemaRegistry& hostToDpuSchemas() {
  static const SchemaRegistry registry = [] {
    SchemaRegistry r;
    r.add(schema(MessageSchema::kResponseHead, sizeof(ResponseHeadPrefix), kHeadMax,
                 checkResponseHead, "response_head"));
    r.add(schema(MessageSchema::kResponseBody, sizeof(BodyPrefix), kBodyMax, checkBody,
                 "response_body"));
    r.add(schema(MessageSchema::kStreamReset, sizeof(StreamReset), sizeof(StreamReset),
                 checkStreamReset, "stream_reset"));
    r.add(schema(MessageSchema::kIdentityLabel, sizeof(IdentityLabelPrefix) + 1,
                 sizeof(IdentityLabelPrefix) + kMaxIdentityBytes, checkIdentityLabel,
                 "identity_label"));
    r.add(schema(MessageSchema::kDrain, sizeof(Drain), sizeof(Drain), checkDrain, "drain"));
    r.add(schema(MessageSchema::kAttestChallenge, sizeof(AttestChallenge), sizeof(AttestChallenge),
                 checkAttestChallenge, "attest_challenge"));
    return r;
  }();
  return registry;
}

ChannelConfig channelConfigFor(RegionRole role, RingGeometry geometry, uint32_t batch) {
  const bool dpu = role == RegionRole::kDpu;
  ChannelConfig c;
  c.role = role;
  c.outgoing = c.incoming = geometry;
  c.outgoing_schemas = dpu ? &dpuToHostSchemas() : &hostToDpuSchemas();
  c.incoming_schemas = dpu ? &hostToDpuSchemas() : &dpuToHostSchemas();
  c.batch = batch;
  return c;
}

}  // namespace dpuguard::shm
