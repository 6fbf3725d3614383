// MeteringBodySink: a streamed answer is forwarded at event boundaries whatever the reads,
// and cut exactly before the event over the allowance; a whole answer passes as it comes.
#include "proxy/inspect/metering_body_sink.h"

#include <gtest/gtest.h>

#include <string>

namespace dpuguard::proxy::inspect {
namespace {

class Collect final : public http1::BodySink {
 public:
  void onBodyData(std::string_view d) override {
    out += d;
    ++pieces;
  }
  void onChunkStart(uint64_t) override { ++chunk_marks; }
  std::string out;
  int pieces = 0;
  int chunk_marks = 0;
};

// A sink metering into `meter` and forwarding into `next`, started for one answer.
struct Metered {
  Metered(MeteringBodySink::Mode mode, uint64_t allowance, size_t max_whole = 0) {
    meter.start(allowance);
    sink.start(mode, &next, &parser, max_whole);
  }
  json::CompletionChunkParser parser{1 << 16};
  TokenMeter meter;
  Collect next;
  MeteringBodySink sink{meter};
};

std::string token(int i) {
  return "data: {\"choices\":[{\"delta\":{\"content\":\"t" + std::to_string(i) + "\"}}]}\n\n";
}

TEST(MeteringBodySink, ForwardsWholeEventsInEverySplitAndCutsAtTheAllowance) {
  std::string stream;
  for (int i = 0; i < 5; ++i) stream += token(i);
  stream += "data: [DONE]\n\n";
  json::CompletionChunkParser parser(1 << 16);
  for (size_t step = 1; step <= stream.size(); step += 7) {
    TokenMeter meter;
    Collect next;
    MeteringBodySink sink(meter);
    meter.start(3);
    sink.start(MeteringBodySink::Mode::kEventStream, &next, &parser, 0);
    for (size_t at = 0; at < stream.size() && !sink.cut(); at += step) {
      sink.onBodyData(std::string_view(stream).substr(at, step));
      // Never a partial event downstream.
      ASSERT_TRUE(next.out.empty() || next.out.substr(next.out.size() - 2) == "\n\n") << step;
    }
    ASSERT_TRUE(sink.cut()) << step;
    EXPECT_EQ(next.out, token(0) + token(1) + token(2)) << step;
    EXPECT_EQ(meter.completionTokens(), 3u);
    sink.notice();
    EXPECT_NE(next.out.find("token_budget_exceeded"), std::string::npos);
    EXPECT_EQ(next.out.substr(next.out.size() - 14), "data: [DONE]\n\n");
  }
}

TEST(MeteringBodySink, HeldBytesAreReportedAndChunkMarksDropped) {
  Metered m(MeteringBodySink::Mode::kEventStream, UINT64_MAX);
  auto& [parser, meter, next, sink] = m;
  sink.onChunkStart(10);
  sink.onBodyData("data: {\"cho");
  EXPECT_EQ(sink.held(), 11u);
  EXPECT_TRUE(next.out.empty());
  sink.onBodyData("ices\":[{\"text\":\"a\"}]}\n\n");
  EXPECT_EQ(sink.held(), 0u);
  EXPECT_EQ(next.pieces, 1);  // held bytes and the rest of the event go out together
  EXPECT_EQ(next.chunk_marks, 0);
  EXPECT_EQ(meter.completionTokens(), 1u);
}

TEST(MeteringBodySink, AnOversizedEventStopsMeteringButNotTheStream) {
  Metered m(MeteringBodySink::Mode::kEventStream, 1);
  auto& [parser, meter, next, sink] = m;
  const std::string big =
      "data: " + std::string(MeteringBodySink::kMaxEventBytes + 10, 'x') + "\n\n";
  sink.onBodyData(big);
  sink.onBodyData(token(1) + token(2));
  EXPECT_EQ(next.out, big + token(1) + token(2));
  EXPECT_FALSE(sink.cut());
}

TEST(MeteringBodySink, WholeAnswerPassesAsItComesAndIsReadForUsage) {
  Metered m(MeteringBodySink::Mode::kWholeAnswer, UINT64_MAX, 1024);
  auto& [parser, meter, next, sink] = m;
  sink.onChunkStart(5);
  sink.onBodyData(R"({"choices":[],"usage":)");
  sink.onBodyData(R"({"prompt_tokens":4,"completion_tokens":9}})");
  EXPECT_EQ(next.chunk_marks, 1);  // framing kept
  EXPECT_EQ(next.pieces, 2);
  sink.finish();
  EXPECT_EQ(meter.completionTokens(), 9u);
  // Over max_copy: passes, usage unknown.
  Metered small(MeteringBodySink::Mode::kWholeAnswer, UINT64_MAX, 8);
  small.sink.onBodyData(R"({"usage":{"completion_tokens":9}})");
  small.sink.finish();
  EXPECT_FALSE(small.meter.hasUsage());
}

}  // namespace
}  // namespace dpuguard::proxy::inspect
