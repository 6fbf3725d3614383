// BodyForwarder: each framing mode, chunk boundaries kept, limit enforced, output never
// larger than input plus kFramingReserve.
#include "proxy/http/body_forwarder.h"

#include <gtest/gtest.h>

#include "parsers/http1/message_parser.h"

namespace dpuguard::proxy {
namespace {

std::string forward(const std::string& message, BodyFraming framing, uint64_t max = kNoBodyLimit,
                    bool* overflow = nullptr) {
  Buffer out(1 << 20);
  BodyForwarder fwd;
  fwd.start(&out, framing, max);
  http1::MessageParser p(http1::MessageParser::Kind::kRequest, http1::Limits{});
  size_t pos = 0;
  for (int i = 0; i < 100; ++i) {
    http1::ParseResult r = p.feed(std::string_view(message).substr(pos), fwd);
    pos += r.consumed;
    if (r.status == http1::ParseStatus::kMessageComplete || r.status == http1::ParseStatus::kError)
      break;
  }
  fwd.finish();
  if (overflow) *overflow = fwd.overflow();
  return std::string(out.readable());
}

const std::string kChunked =
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;ext=1\r\nhello\r\n006\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";

TEST(BodyForwarderTest, ChunkedKeepsBoundariesDropsExtensionsAndTrailers) {
  EXPECT_EQ(forward(kChunked, BodyFraming::kChunked), "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
}

TEST(BodyForwarderTest, RawDechunks) {
  EXPECT_EQ(forward(kChunked, BodyFraming::kRaw), "hello world");
}

TEST(BodyForwarderTest, ContentLengthPassesBytes) {
  EXPECT_EQ(forward("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
                    BodyFraming::kContentLength),
            "abc");
}

TEST(BodyForwarderTest, RechunkFramesEachPiece) {
  Buffer out(1024);
  BodyForwarder fwd;
  fwd.start(&out, BodyFraming::kRechunk, kNoBodyLimit);
  fwd.onBodyData("data: a\n\n");
  fwd.onBodyData("");
  fwd.onBodyData("data: b\n\n");
  fwd.finish();
  EXPECT_EQ(out.readable(), "9\r\ndata: a\n\n\r\n9\r\ndata: b\n\n\r\n0\r\n\r\n");
}

TEST(BodyForwarderTest, LimitStopsOutput) {
  bool overflow = false;
  const std::string out = forward(kChunked, BodyFraming::kChunked, 8, &overflow);
  EXPECT_TRUE(overflow);
  EXPECT_EQ(out, "5\r\nhello\r\n6\r\n");  // nothing of the chunk that crossed the limit
}

// max_body_bytes: 0 means no body, chunked or not (it let every chunked body through).
TEST(BodyForwarderTest, ZeroLimitRefusesTheFirstByte) {
  bool overflow = false;
  // The size line of the first chunk, as in LimitStopsOutput; none of its payload.
  EXPECT_EQ(forward(kChunked, BodyFraming::kChunked, 0, &overflow), "5\r\n");
  EXPECT_TRUE(overflow);
}

}  // namespace
}  // namespace dpuguard::proxy
