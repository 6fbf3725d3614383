// CompletionChunk: what the token budget needs from an OpenAI-compatible response: a whole
// completion (non-streamed) or one SSE chunk of a streamed one. Pieces of generated text are
// counted (one streamed chunk carries one token on vLLM, TGI and OpenAI); "usage", when the
// server sends it, is the authoritative count.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace dpuguard::json {

struct CompletionChunk {
  bool has_usage = false;
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  uint32_t text_pieces = 0;  // choices carrying generated output (text, content, reasoning, tool calls)
};

class CompletionChunkParser {
 public:
  explicit CompletionChunkParser(size_t max_bytes);
  ~CompletionChunkParser();
  CompletionChunkParser(const CompletionChunkParser&) = delete;
  CompletionChunkParser& operator=(const CompletionChunkParser&) = delete;

  // Reads `json` (capacity as for InferenceRequestParser::parse). False when it is not a JSON
  // object (too large, malformed); fields it does not know, or of the wrong type, are ignored:
  // this reads the upstream's output to count it, it does not police it.
  bool parse(std::string_view json, size_t capacity, CompletionChunk& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dpuguard::json
