// MeteringBodySink: sits between the upstream's response parser and the client's
// BodyForwarder on inference answers, feeding the TokenMeter.
//   kEventStream  text/event-stream: forwarded one whole event at a time (a partial event
//                 is held, bounded by kMaxEventBytes), so a stream over its allowance is cut
//                 exactly at an event boundary; the session then ends it with cutNotice().
//                 The forwarder must re-chunk (chunk boundaries are not passed on).
//   kWholeAnswer  anything else: forwarded as it comes, framing kept, and a copy of up to
//                 max_copy bytes is read for "usage" when the body ends.
#pragma once

#include <string>

#include "parsers/http1/body_sink.h"
#include "parsers/json/completion_chunk.h"
#include "parsers/sse/event_stream_parser.h"
#include "proxy/inspect/token_meter.h"

namespace dpuguard::proxy::inspect {

class MeteringBodySink final : public http1::BodySink {
 public:
  enum class Mode : uint8_t { kOff, kEventStream, kWholeAnswer };
  // Largest SSE event followed; a larger one stops the metering (the rest passes, uncounted).
  static constexpr size_t kMaxEventBytes = 32 * 1024;
  // What cutNotice() appends: an OpenAI-style error event, then the end-of-stream marker.
  static constexpr std::string_view kCutNotice =
      "data: {\"error\":{\"message\":\"the token budget of this identity is used up\",\"type\":\"rate_limit_error\","
      "\"param\":null,\"code\":\"token_budget_exceeded\"}}\n\ndata: [DONE]\n\n";

  explicit MeteringBodySink(TokenMeter& meter) : meter_(meter) {}

  // A new answer, forwarded to `next`.
  void start(Mode mode, http1::BodySink* next, json::CompletionChunkParser* parser, size_t max_copy);
  Mode mode() const { return mode_; }
  void onBodyData(std::string_view data) override;
  void onChunkStart(uint64_t size) override;
  void onChunkEnd() override;
  // The body ended: a whole answer is read for its usage.
  void finish();
  // Bytes held back (a partial event): the caller leaves that much room in the output.
  size_t held() const { return held_.size(); }
  bool cut() const { return meter_.cut(); }
  // Writes the notice that ends a cut stream to the forwarder.
  void cutNotice() { next_->onBodyData(kCutNotice); }
  // Drops held bytes and large buffers (end of exchange).
  void reset();

 private:
  void followEvents(std::string_view data);

  TokenMeter& meter_;
  http1::BodySink* next_ = nullptr;
  json::CompletionChunkParser* parser_ = nullptr;
  Mode mode_ = Mode::kOff;
  sse::EventStreamParser events_{kMaxEventBytes};
  std::string held_;   // kEventStream: raw bytes of the event in progress
  std::string copy_;   // kWholeAnswer: the body, for usage
  size_t max_copy_ = 0;
  bool lost_ = false;  // the stream stopped being followable; the rest passes uncounted
};

}  // namespace dpuguard::proxy::inspect
