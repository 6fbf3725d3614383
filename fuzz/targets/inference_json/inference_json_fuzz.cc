// Fuzz target: the JSON views of inference traffic (parsers/json): request bodies clients
// send to /v1/chat/completions, /v1/completions and /v1/embeddings, and the completions and
// SSE chunks upstreams answer with. Invariants:
//   - the in-place parse (padded buffer) and the copying parse agree exactly;
//   - an accepted request has a model of 1..kMaxModelBytes bytes, max_tokens and n in range,
//     at least one message/prompt item, and prompt_bytes <= kBytesPerToken * body size;
//   - a body one byte over the limit is refused as too large, never parsed;
//   - both parses offer the same strings (what signatures scan), never longer than the body
//     (unescaping only shrinks, and each NUL takes a closing quote's place); a refused parse
//     offers none; the same holds for a chunk's generated text (completion signatures).
// Input: byte 0 picks the view (0 chat, 1 completions, 2 embeddings, 3 completion chunk),
// the rest is the JSON text.
#include <cstdlib>
#include <string>

#include "fuzz/common/fuzz_target.h"
#include "parsers/json/completion_chunk.h"
#include "parsers/json/inference_request.h"

namespace {

using namespace dpuguard::json;

constexpr size_t kMaxBody = 1 << 16;

InferenceRequestParser& requestParser() {
  static InferenceRequestParser p(kMaxBody);
  return p;
}

bool sameView(const InferenceRequest& a, const InferenceRequest& b) {
  return a.model == b.model && a.has_max_tokens == b.has_max_tokens &&
         a.max_tokens == b.max_tokens && a.n == b.n && a.stream == b.stream &&
         a.include_usage == b.include_usage && a.message_count == b.message_count &&
         a.prompt_bytes == b.prompt_bytes;
}

void checkRequest(InferenceApi api, std::string_view body) {
  static InferenceRequestParser second(kMaxBody);
  InferenceRequest copied, in_place;
  const RequestError e = requestParser().parse(api, body, body.size(), copied);
  std::string padded(body);
  padded.resize(body.size() + kJsonPadding, '\0');
  const RequestError e2 =
      second.parse(api, std::string_view(padded.data(), body.size()), padded.size(), in_place);
  if (e != e2) std::abort();
  const std::string_view strings = requestParser().strings();
  if (e != RequestError::kNone) {
    if (!strings.empty() || !second.strings().empty()) std::abort();
    return;
  }
  if (!sameView(copied, in_place) || strings != second.strings() || strings.size() > body.size())
    std::abort();
  if (copied.model.empty() || copied.model.size() > kMaxModelBytes) std::abort();
  if (copied.has_max_tokens && (copied.max_tokens < 1 || copied.max_tokens > kMaxTokensLimit))
    std::abort();
  if (copied.n < 1 || copied.n > kMaxChoices || copied.message_count < 1) std::abort();
  if (copied.prompt_bytes > kBytesPerToken * body.size()) std::abort();
  InferenceRequestParser tight(body.size() - 1);
  InferenceRequest unused;
  if (tight.parse(api, body, body.size(), unused) != RequestError::kTooLarge) std::abort();
}

void checkChunk(std::string_view json) {
  static CompletionChunkParser a(kMaxBody), b(kMaxBody);
  static GeneratedText tx, ty;
  CompletionChunk x, y;
  std::string padded(json);
  padded.resize(json.size() + kJsonPadding, '\0');
  const bool ok = a.parse(json, json.size(), x, &tx);
  const std::string_view in_place(padded.data(), json.size());
  if (ok != b.parse(in_place, padded.size(), y, &ty)) std::abort();
  if (tx.bytes != ty.bytes || tx.pieces.size() != ty.pieces.size()) std::abort();
  if (!ok && (!tx.bytes.empty() || !tx.pieces.empty())) std::abort();
  // The generated text (output guardrails): never longer than the JSON, each piece non-empty,
  // inside the bytes, NUL-terminated, back to back in order.
  if (tx.bytes.size() > json.size()) std::abort();
  size_t at = 0;
  for (const OutputPiece& p : tx.pieces) {
    if (p.size == 0 || p.offset != at || size_t{p.offset} + p.size >= tx.bytes.size() ||
        tx.bytes[p.offset + p.size] != '\0' || p.channel > OutputChannel::kToolArguments) {
      std::abort();
    }
    at = size_t{p.offset} + p.size + 1;
  }
  if (at != tx.bytes.size()) std::abort();
  if (!ok) return;
  if (x.has_usage != y.has_usage || x.completion_tokens != y.completion_tokens ||
      x.prompt_tokens != y.prompt_tokens || x.text_pieces != y.text_pieces) {
    std::abort();
  }
  if (x.text_pieces > json.size()) std::abort();  // a piece needs at least a choice object
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > kMaxBody) return 0;
  const std::string_view body = dpuguard::fuzz::asText(data + 1, size - 1);
  const uint8_t view = data[0] % 4;
  if (view == 3)
    checkChunk(body);
  else
    checkRequest(static_cast<InferenceApi>(view), body);
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  if (input.empty()) return "empty";
  const uint8_t view = static_cast<uint8_t>(input[0]) % 4;
  const std::string_view body = input.substr(1);
  if (view == 3) {
    CompletionChunkParser p(kMaxBody);
    CompletionChunk c;
    if (!p.parse(body, body.size(), c)) return "rejected:chunk_not_object";
    return "accepted:chunk pieces=" + std::to_string(c.text_pieces) +
           (c.has_usage ? " usage=" + std::to_string(c.completion_tokens) : std::string());
  }
  static constexpr const char* kApis[] = {"chat", "completions", "embeddings"};
  InferenceRequest r;
  const RequestError e =
      requestParser().parse(static_cast<InferenceApi>(view), body, body.size(), r);
  if (e != RequestError::kNone)
    return std::string("rejected:") + std::string(requestErrorName(e)) + " " + kApis[view];
  std::string model(r.model.substr(0, 40));
  for (char& ch : model) {
    if (static_cast<unsigned char>(ch) < 0x21 || ch == 0x7f) ch = '?';
  }
  return std::string("accepted:") + kApis[view] + " model=" + model +
         (r.has_max_tokens ? " max_tokens=" + std::to_string(r.max_tokens) : std::string()) +
         (r.stream ? " stream" : "") + " items=" + std::to_string(r.message_count) +
         " prompt_bytes=" + std::to_string(r.prompt_bytes);
}
