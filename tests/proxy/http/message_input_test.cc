// MessageInput: a head's views survive every way TCP can cut it, because its bytes are
// pinned in the buffer; the reads between feeds land behind them, never over them.
#include "proxy/http/message_input.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace dpuguard::proxy {
namespace {

using http1::MessageParser;
using http1::ParseStatus;

// What one read(2) does: the bytes land at the buffer's tail.
void deliver(MessageInput& in, std::string_view bytes) {
  ASSERT_LE(bytes.size(), in.buffer().tailroom());
  std::memcpy(in.buffer().tail(), bytes.data(), bytes.size());
  in.buffer().produced(bytes.size());
}

class Collect final : public http1::BodySink {
 public:
  void onBodyData(std::string_view d) override { body.append(d); }
  std::string body;
};

// The head's fields as text, read while they are still valid (right after kHeadComplete).
std::string describe(const http1::MessageHead& h) {
  std::string s =
      std::string(h.method) + " " + std::string(h.target) + " " + std::to_string(h.status);
  for (const http1::HeaderField& f : h.headers)
    s += "|" + std::string(f.name) + ":" + std::string(f.value);
  return s;
}

// Feeds `stream` cut at `cuts` (each piece one read, fully parsed before the next read);
// returns every head described and every body, in order, or "error" on a parse error.
std::vector<std::string> run(MessageParser::Kind kind, std::string_view stream,
                             const std::vector<size_t>& cuts) {
  MessageInput in(1024, kind, http1::Limits{});
  std::vector<std::string> out;
  Collect body;
  size_t at = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : stream.size();
    deliver(in, stream.substr(at, end - at));
    at = end;
    while (true) {
      const http1::ParseResult r = in.feed(body);
      if (r.status == ParseStatus::kError) return {"error"};
      if (r.status == ParseStatus::kHeadComplete) out.push_back(describe(in.parser().head()));
      if (r.status == ParseStatus::kMessageComplete) {
        out.push_back("body:" + body.body);
        body.body.clear();
      }
      if (r.status == ParseStatus::kNeedMore) break;
    }
  }
  return out;
}

constexpr std::string_view kPipelined =
    "GET /ok HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n"
    "POST /v1/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: "
    "1\r\n\r\n"
    "GET /last HTTP/1.1\r\nHost: a\r\n\r\n";

TEST(MessageInputTest, EveryTwoPieceCutGivesTheWholeResult) {
  const std::vector<std::string> whole = run(MessageParser::Kind::kRequest, kPipelined, {});
  ASSERT_EQ(whole.size(), 6u);
  for (size_t k = 1; k < kPipelined.size(); ++k) {
    EXPECT_EQ(run(MessageParser::Kind::kRequest, kPipelined, {k}), whole) << "cut at " << k;
  }
}

TEST(MessageInputTest, ByteByByte) {
  std::vector<size_t> cuts;
  for (size_t k = 1; k < kPipelined.size(); ++k) cuts.push_back(k);
  EXPECT_EQ(run(MessageParser::Kind::kRequest, kPipelined, cuts),
            run(MessageParser::Kind::kRequest, kPipelined, {}));
}

TEST(MessageInputTest, ResponseHeadsCutAnywhere) {
  constexpr std::string_view kResponses =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Up: yes\r\n\r\nok"
      "HTTP/1.1 204 No Content\r\nServer: s\r\n\r\n";
  const std::vector<std::string> whole = run(MessageParser::Kind::kResponse, kResponses, {});
  ASSERT_EQ(whole.size(), 6u);
  for (size_t k = 1; k < kResponses.size(); ++k) {
    for (size_t j = k + 1; j < kResponses.size(); j += 7) {
      EXPECT_EQ(run(MessageParser::Kind::kResponse, kResponses, {k, j}), whole)
          << "cuts " << k << "," << j;
    }
  }
}

// The construction that reached an upstream as two requests: with the old rewind, the second
// read landed at offset 0 over the first piece, under the views of its fields.
TEST(MessageInputTest, SecondReadCannotRewriteTheFirst) {
  constexpr std::string_view kFirst = "GET /ok HTTP/1.1\r\nHost: a\r\nX-A: ";
  constexpr std::string_view kSecond = "GET /admin/secret HTTP/1.1\r\nX-Smuggled: yes\r\n\r\n";
  const std::string stream = std::string(kFirst) + std::string(kSecond);
  const std::vector<std::string> got = run(MessageParser::Kind::kRequest, stream, {kFirst.size()});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "GET /ok 0|Host:a|X-A:GET /admin/secret HTTP/1.1|X-Smuggled:yes");
}

TEST(MessageInputTest, BufferIsPinnedOnlyWhileAHeadNeedsIt) {
  MessageInput in(256, MessageParser::Kind::kRequest, http1::Limits{});
  http1::NullBodySink none;
  deliver(in, "GET / HTTP/1.1\r\nHo");
  EXPECT_EQ(in.feed(none).status, ParseStatus::kNeedMore);
  EXPECT_TRUE(in.buffer().pinned());
  EXPECT_TRUE(in.buffer().empty());
  deliver(in, "st: a\r\n\r\n");
  EXPECT_EQ(in.feed(none).status, ParseStatus::kHeadComplete);
  EXPECT_TRUE(in.buffer().pinned());  // head() is read until the next feed
  EXPECT_EQ(in.feed(none).status, ParseStatus::kMessageComplete);
  EXPECT_FALSE(in.buffer().pinned());
  EXPECT_EQ(in.buffer().tailroom(), 256u);  // emptied and rewound once the head was let go
  in.releaseIdleStorage();
  EXPECT_FALSE(in.buffer().allocated());
}

TEST(MessageInputTest, AHeadThatLostItsPinIsRefusedNotParsed) {
  MessageInput in(256, MessageParser::Kind::kRequest, http1::Limits{});
  http1::NullBodySink none;
  deliver(in, "GET / HTTP/1.1\r\n");
  ASSERT_EQ(in.feed(none).status, ParseStatus::kNeedMore);
  in.buffer().unpin();  // what a careless caller could do
  deliver(in, "Host: a\r\n\r\n");
  EXPECT_DEBUG_DEATH(
      {
        const http1::ParseResult r = in.feed(none);
        EXPECT_EQ(r.status, ParseStatus::kError);
        EXPECT_EQ(r.error, http1::ParseError::kDiscontiguousInput);
      },
      "lost its pin");
}

}  // namespace
}  // namespace dpuguard::proxy
