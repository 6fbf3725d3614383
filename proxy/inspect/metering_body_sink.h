// MeteringBodySink: sits between the upstream's response parser and the client's
// BodyForwarder on inference answers (and answers output guardrails read), feeding the
// TokenMeter and, when the route has completion rules, the CompletionScan.
//   kEventStream  text/event-stream: forwarded one whole event at a time (a partial event
//                 is held, bounded by kMaxEventBytes), so a stream is cut exactly at an event
//                 boundary: before the event that would pass the token allowance, or before
//                 the event whose text completes a blocking completion rule. The session then
//                 ends it with notice(). The forwarder must re-chunk (chunk boundaries are not
//                 passed on). Each event is parsed once for both.
//   kWholeAnswer  a whole answer: forwarded as it comes, framing kept, and a copy of up to
//                 max_copy bytes is read for "usage" when the body ends.
//   kHeldAnswer   a whole answer completion rules read: nothing is forwarded; the body is
//                 kept (up to max_copy: more is refused, the guard fails closed), read for its
//                 usage and scanned when it ends, and then given to the caller (held()) to
//                 send with its length, or refused whole.
#pragma once

#include <string>

#include "parsers/http1/body_sink.h"
#include "parsers/json/completion_chunk.h"
#include "parsers/sse/event_stream_parser.h"
#include "proxy/inspect/completion_scan.h"
#include "proxy/inspect/signature_set.h"
#include "proxy/inspect/token_meter.h"

namespace dpuguard::proxy::inspect {

class MeteringBodySink final : public http1::BodySink {
 public:
  enum class Mode : uint8_t { kOff, kEventStream, kWholeAnswer, kHeldAnswer };
  // Why a stream was ended before its end.
  enum class Stop : uint8_t { kNone, kBudget, kGuardrail };
  // Largest SSE event followed; a larger one stops the metering (the rest passes, uncounted),
  // or, under completion rules, ends the stream (unreadable text is not let through).
  static constexpr size_t kMaxEventBytes = 32 * 1024;
  // What notice() appends after a budget cut: an OpenAI-style error event, then the end marker.
  static constexpr std::string_view kCutNotice =
      "data: {\"error\":{\"message\":\"the token budget of this identity is used "
      "up\",\"type\":\"rate_limit_error\","
      "\"param\":null,\"code\":\"token_budget_exceeded\"}}\n\ndata: [DONE]\n\n";
  static constexpr size_t kMaxNoticeBytes =
      std::max(kCutNotice.size(), CompletionScan::kBlockNotice.size());

  explicit MeteringBodySink(TokenMeter& meter) : meter_(meter) {}

  // A new answer, forwarded to `next`. `guard`: the completion scan, started for this answer
  // (null or inactive: none), its matches into `matches`.
  void start(Mode mode, http1::BodySink* next, json::CompletionChunkParser* parser, size_t max_copy,
             CompletionScan* guard = nullptr, Matches* matches = nullptr);
  Mode mode() const { return mode_; }
  void onBodyData(std::string_view data) override;
  void onChunkStart(uint64_t size) override;
  void onChunkEnd() override;
  // The body ended: a whole answer is read for its usage (and a held one scanned).
  void finish();
  // Bytes held back (kEventStream: a partial event): the caller leaves that much room in the
  // output.
  size_t held() const { return mode_ == Mode::kEventStream ? held_.size() : 0; }
  // kHeldAnswer, after finish() and not stopped: the answer to send.
  std::string_view heldAnswer() const { return std::string_view(copy_).substr(0, copy_size_); }
  // The stream was ended (or a held answer refused): nothing more passes.
  Stop stopped() const { return stop_; }
  bool cut() const { return stop_ != Stop::kNone; }
  // Writes the notice that ends a stopped stream to the forwarder.
  void notice() {
    next_->onBodyData(stop_ == Stop::kGuardrail ? CompletionScan::kBlockNotice : kCutNotice);
  }
  // Drops held bytes and large buffers (end of exchange).
  void reset();

 private:
  void followEvents(std::string_view data);
  // One complete event: true if it may be forwarded.
  bool admit(std::string_view data);
  void keepCopy(std::string_view data);

  TokenMeter& meter_;
  http1::BodySink* next_ = nullptr;
  json::CompletionChunkParser* parser_ = nullptr;
  CompletionScan* guard_ = nullptr;  // active, or null
  Matches* matches_ = nullptr;
  Mode mode_ = Mode::kOff;
  Stop stop_ = Stop::kNone;
  sse::EventStreamParser events_{kMaxEventBytes};
  std::string held_;  // kEventStream: raw bytes of the event in progress
  std::string copy_;  // kWholeAnswer, kHeldAnswer: the body, for usage (and the scan)
  size_t copy_size_ = 0;
  json::GeneratedText text_;  // an event's generated text, for the guard
  size_t max_copy_ = 0;
  bool lost_ = false;  // the stream stopped being followable; the rest passes uncounted
};

}  // namespace dpuguard::proxy::inspect
