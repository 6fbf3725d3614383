// MessageCodec: encoders produce what the checks accept and the decoders read back; each
// check refuses the malformed variants a hostile peer could write.
#include "shm/message_codec.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

namespace dpuguard::shm {
namespace {

std::vector<std::byte> requestHead(std::string_view target, std::vector<WireField> fields) {
  std::vector<std::byte> buf(4096);
  buf.resize(encodeRequestHead(buf, 42, WireMethod::kPost, 0, target, fields));
  return buf;
}

void setLast(std::vector<std::byte>& b, std::byte v) {
  if (!b.empty()) b[b.size() - 1] = v;
}

template <class T>
T& prefixOf(std::vector<std::byte>& b) {
  return *reinterpret_cast<T*>(b.data());
}

TEST(MessageCodecTest, RequestHeadRoundTrip) {
  auto b = requestHead("/v1/chat/completions",
                       {{"host", "inference"}, {"content-type", "application/json"}});
  ASSERT_FALSE(b.empty());
  ASSERT_TRUE(checkRequestHead(b));
  RequestHeadView v = decodeRequestHead(b);
  EXPECT_EQ(v.prefix.stream_id, 42u);
  EXPECT_EQ(v.target, "/v1/chat/completions");
  WireField f;
  ASSERT_TRUE(v.fields.next(f));
  EXPECT_EQ(f.name, "host");
  EXPECT_EQ(f.value, "inference");
  ASSERT_TRUE(v.fields.next(f));
  EXPECT_EQ(f.value, "application/json");
  EXPECT_FALSE(v.fields.next(f));
}

TEST(MessageCodecTest, RequestHeadRefusals) {
  const auto good = requestHead("/a", {{"x", "y"}});
  auto mutate = [&](auto edit) {
    auto b = good;
    edit(b);
    return checkRequestHead(b);
  };
  EXPECT_TRUE(mutate([](auto&) {}));
  EXPECT_FALSE(mutate([](auto& b) { prefixOf<RequestHeadPrefix>(b).method = 0; }));
  EXPECT_FALSE(mutate([](auto& b) { prefixOf<RequestHeadPrefix>(b).method = kMaxWireMethod + 1; }));
  EXPECT_FALSE(mutate([](auto& b) { prefixOf<RequestHeadPrefix>(b).flags = 2; }));
  EXPECT_FALSE(mutate([](auto& b) { prefixOf<RequestHeadPrefix>(b).reserved = 1; }));
  EXPECT_FALSE(
      mutate([](auto& b) { prefixOf<RequestHeadPrefix>(b).target_len += 1; }));  // sum != size
  EXPECT_FALSE(
      mutate([](auto& b) { prefixOf<RequestHeadPrefix>(b).target_len = 0xffffffff; }));  // overflow
  EXPECT_FALSE(
      mutate([](auto& b) { prefixOf<RequestHeadPrefix>(b).field_count = 2; }));  // runs out
  EXPECT_FALSE(
      mutate([](auto& b) { prefixOf<RequestHeadPrefix>(b).field_count = 0; }));  // bytes left over
  EXPECT_FALSE(
      mutate([](auto& b) { b[sizeof(RequestHeadPrefix)] = std::byte{'a'}; }));  // not origin-form
  EXPECT_FALSE(
      mutate([](auto& b) { b[sizeof(RequestHeadPrefix) + 1] = std::byte{' '}; }));  // SP in target
  EXPECT_FALSE(mutate([](auto& b) { b[b.size() - 3] = std::byte{':'}; }));  // name not a token
  EXPECT_FALSE(mutate([](auto& b) { setLast(b, std::byte{'\n'}); }));       // LF in value
  EXPECT_FALSE(mutate([](auto& b) { setLast(b, std::byte{0}); }));          // NUL in value
  EXPECT_FALSE(mutate([](auto& b) { b.pop_back(); }));                      // short
  EXPECT_FALSE(checkRequestHead(std::span<const std::byte>{}));
}

TEST(MessageCodecTest, ResponseHeadAndBody) {
  std::vector<std::byte> b(1024);
  const std::array<WireField, 1> fields{{{"content-type", "text/event-stream"}}};
  b.resize(encodeResponseHead(b, 7, 200, 0, fields));
  ASSERT_TRUE(checkResponseHead(b));
  EXPECT_EQ(decodeResponseHead(b).prefix.status, 200);
  prefixOf<ResponseHeadPrefix>(b).status = 99;
  EXPECT_FALSE(checkResponseHead(b));
  prefixOf<ResponseHeadPrefix>(b).status = 600;
  EXPECT_FALSE(checkResponseHead(b));
  prefixOf<ResponseHeadPrefix>(b).status = 200;
  prefixOf<ResponseHeadPrefix>(b).reserved1 = 1;
  EXPECT_FALSE(checkResponseHead(b));

  std::vector<std::byte> body(64);
  const std::string data = "data: {}\n\n";
  body.resize(encodeBody(body, 7, kBodyEndStream, std::as_bytes(std::span(data))));
  ASSERT_TRUE(checkBody(body));
  EXPECT_EQ(decodeBody(body).data.size(), data.size());
  prefixOf<BodyPrefix>(body).data_len += 1;
  EXPECT_FALSE(checkBody(body));
  prefixOf<BodyPrefix>(body).data_len -= 1;
  prefixOf<BodyPrefix>(body).flags = 4;
  EXPECT_FALSE(checkBody(body));
}

TEST(MessageCodecTest, QuotePartsCutAWholeInOrderAndAreChecked) {
  const std::string whole(1000, 'q');
  std::vector<std::byte> buf(sizeof(QuotePartPrefix) + 300);
  std::string joined;
  size_t parts = 0;
  for (size_t offset = 0, taken = 0; offset < whole.size(); offset += taken, ++parts) {
    const size_t n = encodeQuotePart(buf, whole, offset, kQuoteRefused, &taken);
    ASSERT_GT(n, 0u);
    const auto p = std::span(buf).first(n);
    ASSERT_TRUE(checkQuotePart(p));
    const QuotePartView v = decodeQuotePart(p);
    EXPECT_EQ(v.prefix.offset, offset);
    EXPECT_EQ(v.prefix.total_len, 1000u);
    EXPECT_EQ(v.prefix.flags, kQuoteRefused);
    joined += v.data;
  }
  EXPECT_EQ(parts, 4u);
  EXPECT_EQ(joined, whole);
  size_t taken = 0;
  EXPECT_EQ(encodeQuotePart(buf, "", 0, 0, &taken), 0u);  // nothing to send
  EXPECT_EQ(encodeQuotePart(buf, whole, 1000, 0, &taken), 0u);

  const size_t n = encodeQuotePart(buf, whole, 0, 0, &taken);
  auto prefix = [&]() -> QuotePartPrefix& {
    return *reinterpret_cast<QuotePartPrefix*>(buf.data());
  };
  const auto p = std::span(buf).first(n);
  prefix().flags = 2;  // reserved bit
  EXPECT_FALSE(checkQuotePart(p));
  prefix().flags = 0;
  prefix().offset = 900;  // past the end with its data
  EXPECT_FALSE(checkQuotePart(p));
  prefix().offset = 0;
  prefix().total_len = kMaxQuoteWireBytes + 1;
  EXPECT_FALSE(checkQuotePart(p));
  prefix().total_len = 1000;
  prefix().data_len -= 1;  // lengths do not add up
  EXPECT_FALSE(checkQuotePart(p));
  prefix().data_len += 1;
  EXPECT_TRUE(checkQuotePart(p));
}

TEST(MessageCodecTest, FixedMessages) {
  FlowEvent e{};
  e.family = 4;
  e.status = 200;
  std::memcpy(e.route, "inference", 9);
  auto bytes = [](const auto& v) { return std::as_bytes(std::span(&v, 1)); };
  EXPECT_TRUE(checkFlowEvent(bytes(e)));
  e.route[20] = 'x';  // text after the NUL padding
  EXPECT_FALSE(checkFlowEvent(bytes(e)));
  e.route[20] = 0;
  e.client_addr[8] = 1;  // IPv4 with bytes past the 4th
  EXPECT_FALSE(checkFlowEvent(bytes(e)));
  e.client_addr[8] = 0;
  e.family = 5;
  EXPECT_FALSE(checkFlowEvent(bytes(e)));
  e.family = 6;
  e.client_addr[8] = 1;
  EXPECT_TRUE(checkFlowEvent(bytes(e)));
  std::memcpy(e.measurement, "0123456789abcdef", 16);  // a measurement id
  EXPECT_TRUE(checkFlowEvent(bytes(e)));
  e.measurement[3] = 'A';  // not lowercase hex
  EXPECT_FALSE(checkFlowEvent(bytes(e)));
  e.measurement[3] = 0;  // neither an id nor all zero
  EXPECT_FALSE(checkFlowEvent(bytes(e)));
  std::memset(e.measurement, 0, 16);
  EXPECT_TRUE(checkFlowEvent(bytes(e)));

  AttestChallenge c{};
  EXPECT_TRUE(checkAttestChallenge(bytes(c)));
  EXPECT_FALSE(checkAttestChallenge(std::as_bytes(std::span(c.nonce, 31))));

  StreamReset r{1, static_cast<uint32_t>(ResetReason::kTimeout), 0};
  EXPECT_TRUE(checkStreamReset(bytes(r)));
  r.reason = 0;
  EXPECT_FALSE(checkStreamReset(bytes(r)));

  Drain d{1000, 0};
  EXPECT_TRUE(checkDrain(bytes(d)));
  d.reserved = 1;
  EXPECT_FALSE(checkDrain(bytes(d)));

  StreamWindow w{3, 65536, 0};
  EXPECT_TRUE(checkStreamWindow(bytes(w)));
  EXPECT_EQ(decodeFixed<StreamWindow>(bytes(w)).credit, 65536u);
  w.credit = 0;  // a grant of nothing
  EXPECT_FALSE(checkStreamWindow(bytes(w)));
  w.credit = kMaxStreamCredit + 1;
  EXPECT_FALSE(checkStreamWindow(bytes(w)));
  w.credit = kMaxStreamCredit;
  w.reserved = 1;
  EXPECT_FALSE(checkStreamWindow(bytes(w)));
  // Only the DPU grants: the host may not send it.
  EXPECT_NE(
      dpuToHostSchemas().find(static_cast<uint16_t>(MessageSchema::kStreamWindow), kMessageVersion),
      nullptr);
  EXPECT_EQ(
      hostToDpuSchemas().find(static_cast<uint16_t>(MessageSchema::kStreamWindow), kMessageVersion),
      nullptr);
}

TEST(MessageCodecTest, IdentityLabelNetworkMustBeCanonical) {
  IdentityLabelPrefix p{};
  p.family = 4;
  p.prefix_len = 24;
  p.addr[0] = 10;
  p.addr[1] = 1;
  p.addr[2] = 2;
  std::vector<std::byte> b(512);
  b.resize(encodeIdentityLabel(b, p, "spiffe://cluster/ns/research/sa/notebook"));
  ASSERT_TRUE(checkIdentityLabel(b));
  EXPECT_EQ(decodeIdentityLabel(b).identity, "spiffe://cluster/ns/research/sa/notebook");
  prefixOf<IdentityLabelPrefix>(b).addr[3] = 1;  // host bit set past /24
  EXPECT_FALSE(checkIdentityLabel(b));
  prefixOf<IdentityLabelPrefix>(b).addr[3] = 0;
  prefixOf<IdentityLabelPrefix>(b).prefix_len = 33;
  EXPECT_FALSE(checkIdentityLabel(b));
}

TEST(MessageCodecTest, IdentityLabelFlagsAllowOnlyWithdraw) {
  IdentityLabelPrefix p{};
  p.family = 6;
  p.prefix_len = 8;
  p.addr[0] = 0xfd;
  p.flags = kLabelWithdraw;
  std::vector<std::byte> b(512);
  b.resize(encodeIdentityLabel(b, p, "spiffe://cluster/ns/a/sa/b"));
  ASSERT_TRUE(checkIdentityLabel(b));
  EXPECT_EQ(decodeIdentityLabel(b).prefix.flags, kLabelWithdraw);
  prefixOf<IdentityLabelPrefix>(b).flags = kLabelWithdraw | 2;  // a reserved bit
  EXPECT_FALSE(checkIdentityLabel(b));
  p.flags = 0xfffffffe;  // the encoder writes no reserved bit either
  b.assign(512, std::byte{0});
  b.resize(encodeIdentityLabel(b, p, "x"));
  EXPECT_TRUE(checkIdentityLabel(b));
  EXPECT_EQ(decodeIdentityLabel(b).prefix.flags, 0u);
}

TEST(MessageCodecTest, RegistriesAreDistinctAllowlists) {
  EXPECT_NE(
      dpuToHostSchemas().find(static_cast<uint16_t>(MessageSchema::kRequestHead), kMessageVersion),
      nullptr);
  EXPECT_EQ(
      dpuToHostSchemas().find(static_cast<uint16_t>(MessageSchema::kResponseHead), kMessageVersion),
      nullptr);
  EXPECT_EQ(
      hostToDpuSchemas().find(static_cast<uint16_t>(MessageSchema::kRequestHead), kMessageVersion),
      nullptr);
  EXPECT_NE(dpuToHostSchemas().hash(), hostToDpuSchemas().hash());
}

}  // namespace
}  // namespace dpuguard::shm
