// TokenMeter: counts the tokens of one inference answer as it passes. A streamed answer is
// fed event by event (one SSE event = one generated piece on vLLM, TGI and OpenAI; "usage" in
// a final chunk, when the server sends one, is authoritative); a whole answer is read once for
// its "usage". Past the allowance a streamed answer is cut: the event that would exceed it is
// refused (not counted, not forwarded). No I/O; the JSON parser is the worker's.
#pragma once

#include <cstdint>
#include <string_view>

#include "parsers/json/completion_chunk.h"

namespace dpuguard::proxy::inspect {

class TokenMeter {
 public:
  void start(uint64_t allowance) {
    *this = TokenMeter{};
    allowance_ = allowance;
  }
  // One SSE event's data. False: it would take the answer past the allowance; cut before it.
  bool admitEvent(std::string_view data, json::CompletionChunkParser& parser);
  // The same for an event the caller has parsed (one parse for this and CompletionScan):
  // `parsed` is what parser.parse(data, ..., chunk, &text) returned.
  bool admitChunk(bool parsed, const json::CompletionChunk& chunk);
  // A whole (non-streamed) JSON answer; `capacity` as for the parser.
  void onWholeAnswer(std::string_view body, size_t capacity, json::CompletionChunkParser& parser);

  uint64_t completionTokens() const { return has_usage_ ? usage_completion_ : counted_; }
  // The prompt's tokens when the server said, else `estimate`.
  uint64_t promptTokens(uint64_t estimate) const {
    return has_usage_ && usage_prompt_ != 0 ? usage_prompt_ : estimate;
  }
  bool hasUsage() const { return has_usage_; }
  bool cut() const { return cut_; }

 private:
  uint64_t allowance_ = UINT64_MAX;
  uint64_t counted_ = 0;
  uint64_t usage_prompt_ = 0;
  uint64_t usage_completion_ = 0;
  bool has_usage_ = false;
  bool cut_ = false;
};

}  // namespace dpuguard::proxy::inspect
