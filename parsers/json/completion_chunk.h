// CompletionChunk: what the token budget needs from an OpenAI-compatible response: a whole
// completion (non-streamed) or one SSE chunk of a streamed one. Pieces of generated text are
// counted (one streamed chunk carries one token on vLLM, TGI and OpenAI); "usage", when the
// server sends it, is the authoritative count. GeneratedText: on request, the generated text
// itself, decoded, for the output guardrails (proxy/inspect/completion_scan.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dpuguard::json {

// Which field of a choice a piece of generated text came from.
enum class OutputChannel : uint8_t {
  kContent,        // choices[].text (legacy completions), {delta,message}.content
  kRefusal,        // {delta,message}.refusal
  kReasoning,      // {delta,message}.reasoning_content / .reasoning (vLLM, DeepSeek, OpenRouter)
  kToolArguments,  // {delta,message}.tool_calls[].function.arguments, .function_call.arguments
};

struct OutputPiece {
  uint32_t choice = 0;  // choices[].index, else the choice's position; at most UINT32_MAX
  uint32_t tool = 0;    // kToolArguments: tool_calls[].index (else position); function_call: 0
  OutputChannel channel = OutputChannel::kContent;
  uint32_t offset = 0;  // in GeneratedText::bytes
  uint32_t size = 0;
};

// The generated text of one chunk or whole answer: every non-empty string of the fields above,
// with its JSON escapes decoded (\uXXXX, surrogate pairs included), in document order (a key
// given twice is read twice), each followed by a NUL byte in `bytes` (so `bytes` is itself a
// NUL-separated text, as prompts are). Not read: logprobs (alternatives the model did not
// write; the chosen tokens repeat the content). Owned by the caller
// and reused: clear() keeps the capacity, so after warm-up a parse allocates nothing. Never
// larger than the JSON it came from.
struct GeneratedText {
  std::string bytes;
  std::vector<OutputPiece> pieces;
  // A field the text is read from was given twice in one object ("content" twice in a delta,
  // "choices" twice): clients disagree on which one counts (JavaScript and Python keep the
  // last), so the text cannot be known; a guardrail treats it as unreadable.
  bool ambiguous = false;
  void clear() {
    ambiguous = false;
    bytes.clear();
    pieces.clear();
  }
  std::string_view piece(const OutputPiece& p) const {
    return std::string_view(bytes).substr(p.offset, p.size);
  }
};

struct CompletionChunk {
  bool has_usage = false;
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  uint32_t text_pieces =
      0;  // choices carrying generated output (text, content, reasoning, tool calls)
};

class CompletionChunkParser {
 public:
  explicit CompletionChunkParser(size_t max_bytes);
  ~CompletionChunkParser();
  CompletionChunkParser(const CompletionChunkParser&) = delete;
  CompletionChunkParser& operator=(const CompletionChunkParser&) = delete;

  // Reads `json` (capacity as for InferenceRequestParser::parse). False when it is not a JSON
  // object (too large, malformed); fields it does not know, or of the wrong type, are ignored:
  // this reads the upstream's output to count it, it does not police it. With `text`, the
  // generated text is gathered into it too (cleared first; left empty on false).
  bool parse(std::string_view json, size_t capacity, CompletionChunk& out,
             GeneratedText* text = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dpuguard::json
