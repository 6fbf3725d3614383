// InferenceRequest: the minimal view of an OpenAI-compatible request body that inspection
// needs (model, max_tokens, n, stream, message count, prompt bytes), read with simdjson's DOM
// parser so the whole document is validated (UTF-8, syntax, depth) before any field is trusted.
// Use: InferenceRequestParser p; p.parse(api, body, capacity, view) -> RequestError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "parsers/json/json_limits.h"

namespace dpuguard::json {

enum class InferenceApi : uint8_t {
  kChatCompletions,  // POST /v1/chat/completions: "messages"
  kCompletions,      // POST /v1/completions: "prompt"
  kEmbeddings,       // POST /v1/embeddings: "input"
};

// Why a body was refused. Each maps to an OpenAI-style 400 naming the offending parameter.
enum class RequestError : uint8_t {
  kNone = 0,
  kTooLarge,        // longer than the parser's capacity
  kNotJson,         // syntax, invalid UTF-8, or nested deeper than kMaxDepth
  kNotObject,       // the document is not a JSON object
  kDuplicateKey,    // a key inspection reads appears twice (parsers disagree on which wins)
  kMissingModel,
  kBadModel,        // not a non-empty string of at most kMaxModelBytes
  kBadMaxTokens,    // not an integer in [1, kMaxTokensLimit]
  kBadN,            // not an integer in [1, kMaxChoices]
  kBadStream,       // not a boolean
  kBadStreamOptions,
  kMissingMessages,
  kBadMessages,     // not a non-empty array of {role: string, content: string | parts}
  kMissingPrompt,
  kBadPrompt,       // not a string, an array of strings, or an array of token ids
  kMissingInput,
  kBadInput,
};

std::string_view requestErrorName(RequestError e);  // "invalid_json", "missing_model", ...
std::string_view requestErrorParam(RequestError e); // the parameter it concerns ("model"), or ""

struct InferenceRequest {
  std::string_view model;       // valid until the next parse()
  bool has_max_tokens = false;  // "max_tokens" or "max_completion_tokens" (the smaller wins)
  uint64_t max_tokens = 0;
  uint32_t n = 1;               // choices requested: the token budget reserves n * max_tokens
  bool stream = false;
  bool include_usage = false;   // stream_options.include_usage
  uint32_t message_count = 0;   // chat: messages; completions/embeddings: prompt/input items
  uint64_t prompt_bytes = 0;    // bytes of prompt text (unescaped); token ids count 4 each
};

class InferenceRequestParser {
 public:
  // `max_bytes`: the largest body accepted (kTooLarge beyond it).
  explicit InferenceRequestParser(size_t max_bytes);
  ~InferenceRequestParser();
  InferenceRequestParser(const InferenceRequestParser&) = delete;
  InferenceRequestParser& operator=(const InferenceRequestParser&) = delete;

  // Parses `body` into `out`. `capacity` is how many bytes from body.data() may be read:
  // with kJsonPadding to spare the body is parsed in place, otherwise it is copied first.
  // Returns kNone, or the first error found; `out` is meaningful only on kNone.
  RequestError parse(InferenceApi api, std::string_view body, size_t capacity, InferenceRequest& out);
  // Every string of the document the last parse() accepted, keys and values, unescaped (what
  // the upstream will read), in document order, each followed by a NUL byte; empty after a
  // refused parse. Valid until the next parse() or strings(). Signatures scan this rather
  // than the raw body, so a JSON escape (`ignore\u0020previous`) cannot split a phrase.
  std::string_view strings();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dpuguard::json
