// EventStreamParser: WHATWG line and field rules, every split of a stream, and the limits.
#include "parsers/sse/event_stream_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dpuguard::sse {
namespace {

struct Seen {
  std::string type;
  std::string data;
  bool operator==(const Seen&) const = default;
};

// Feeds `stream` in pieces of `step` bytes and collects the events.
std::vector<Seen> events(std::string_view stream, size_t step, size_t limit = 1024, bool* failed = nullptr) {
  EventStreamParser p(limit);
  std::vector<Seen> out;
  for (size_t at = 0; at < stream.size(); at += step) {
    std::string_view piece = stream.substr(at, step);
    while (!piece.empty()) {
      const SseResult r = p.feed(piece);
      if (r.status == SseStatus::kError) {
        if (failed) *failed = true;
        return out;
      }
      if (r.status == SseStatus::kEvent) out.push_back({std::string(p.event().type), std::string(p.event().data)});
      piece.remove_prefix(r.consumed);
    }
  }
  return out;
}

TEST(EventStreamParser, OpenAiStyleStreamInEverySplit) {
  const std::string stream =
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      ": keep-alive comment\n\n"
      "event: usage\r\ndata: {\"a\":1}\r\ndata: {\"b\":2}\r\n\r\n"
      "data: [DONE]\r\r";
  const std::vector<Seen> want = {
      {"", "{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"},
      {"usage", "{\"a\":1}\n{\"b\":2}"},
      {"", "[DONE]"},
  };
  for (size_t step = 1; step <= stream.size(); ++step) EXPECT_EQ(events(stream, step), want) << "step " << step;
}

TEST(EventStreamParser, StopsAtEachEventBoundary) {
  EventStreamParser p(1024);
  const std::string_view in = "data: a\n\ndata: b\n\n";
  SseResult r = p.feed(in);
  ASSERT_EQ(r.status, SseStatus::kEvent);
  EXPECT_EQ(r.consumed, 9u);
  EXPECT_EQ(p.event().data, "a");
  r = p.feed(in.substr(9));
  ASSERT_EQ(r.status, SseStatus::kEvent);
  EXPECT_EQ(p.event().data, "b");
  EXPECT_EQ(p.pending(), 0u);
}

TEST(EventStreamParser, FieldRules) {
  // No space after the colon, a field without a colon, unknown fields, id/retry ignored,
  // an event with no data is not dispatched.
  EXPECT_EQ(events("data:x\n\n", 100), (std::vector<Seen>{{"", "x"}}));
  EXPECT_EQ(events("data\n\n", 100), (std::vector<Seen>{{"", ""}}));
  EXPECT_EQ(events("id: 7\nretry: 10\nfoo: bar\ndata:  two spaces\n\n", 100), (std::vector<Seen>{{"", " two spaces"}}));
  EXPECT_EQ(events("event: ping\n\n", 100), std::vector<Seen>{});
  EXPECT_EQ(events("data: a\n", 100), std::vector<Seen>{});  // not ended yet
}

TEST(EventStreamParser, LeadingBomIsSkippedEvenWhenSplit) {
  const std::string stream = "\xEF\xBB\xBF" "data: x\n\n";
  for (size_t step = 1; step <= 4; ++step) EXPECT_EQ(events(stream, step), (std::vector<Seen>{{"", "x"}}));
  // A partial BOM is data, not dropped.
  EXPECT_EQ(events("\xEF" "data: x\n\n", 1), std::vector<Seen>{});  // field name "\xEFdata" is unknown
}

TEST(EventStreamParser, OversizedEventsAreAnErrorNotAGrowingBuffer) {
  bool failed = false;
  const std::string big = "data: " + std::string(200, 'x') + "\n\n";
  EXPECT_TRUE(events(big, 7, 100, &failed).empty());
  EXPECT_TRUE(failed);
  failed = false;
  const std::string many = "data: " + std::string(60, 'x') + "\ndata: " + std::string(60, 'y') + "\n\n";
  EXPECT_TRUE(events(many, 1000, 100, &failed).empty());
  EXPECT_TRUE(failed);
  failed = false;
  const std::string comment = ":" + std::string(500, 'c') + "\n\ndata: ok\n\n";
  EXPECT_TRUE(events(comment, 1000, 100, &failed).empty());
  EXPECT_TRUE(failed);  // a comment line is a line too: bounded
}

}  // namespace
}  // namespace dpuguard::sse
