// InferenceRequestParser: simdjson DOM (full validation), then one pass over the top-level
// keys inspection reads. Everything else in the body is left to the upstream.
#include "parsers/json/inference_request.h"

#include "parsers/json/json_document.h"

namespace dpuguard::json {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// An integer in [lo, hi]; JSON null counts as absent. Returns false when malformed.
bool readCount(element v, uint64_t lo, uint64_t hi, bool& present, uint64_t& out) {
  if (v.is_null()) return true;
  uint64_t x = 0;
  if (v.type() == element_type::INT64) {
    int64_t s = 0;
    if (v.get_int64().get(s) || s < 0) return false;
    x = static_cast<uint64_t>(s);
  } else if (v.type() != element_type::UINT64 || v.get_uint64().get(x)) {
    return false;
  }
  if (x < lo || x > hi) return false;
  present = true;
  out = x;
  return true;
}

bool isTokenId(element v) { return v.type() == element_type::INT64 || v.type() == element_type::UINT64; }

// One message's "content": a string, null (assistant tool calls), or an array of parts where
// text parts count ({"type":"text","text":...}) and others (images, audio) are passed on.
bool readContent(element content, uint64_t& bytes) {
  if (content.is_null()) return true;
  std::string_view s;
  if (!content.get_string().get(s)) {
    bytes += s.size();
    return true;
  }
  array parts;
  if (content.get_array().get(parts)) return false;
  for (element part : parts) {
    object p;
    if (part.get_object().get(p)) return false;
    std::string_view type;
    if (p["type"].get_string().get(type)) return false;
    if (type == "text") {
      std::string_view text;
      if (p["text"].get_string().get(text)) return false;
      bytes += text.size();
    }
  }
  return true;
}

bool readMessages(element v, InferenceRequest& out) {
  array messages;
  if (v.get_array().get(messages) || messages.size() == 0) return false;
  for (element m : messages) {
    object msg;
    if (m.get_object().get(msg)) return false;
    std::string_view role;
    if (msg["role"].get_string().get(role) || role.empty()) return false;
    element content;
    if (!msg["content"].get(content) && !readContent(content, out.prompt_bytes)) return false;
    ++out.message_count;
  }
  return true;
}

// "prompt" / "input": a string, an array of strings, an array of token ids, or an array of
// arrays of token ids. Token ids count kBytesPerToken bytes each.
bool readPrompt(element v, InferenceRequest& out) {
  std::string_view s;
  if (!v.get_string().get(s)) {
    out.message_count = 1;
    out.prompt_bytes += s.size();
    return true;
  }
  array items;
  if (v.get_array().get(items) || items.size() == 0) return false;
  for (element item : items) {
    if (!item.get_string().get(s)) {
      out.prompt_bytes += s.size();
    } else if (isTokenId(item)) {
      out.prompt_bytes += kBytesPerToken;
    } else {
      array ids;
      if (item.get_array().get(ids)) return false;
      for (element id : ids) {
        if (!isTokenId(id)) return false;
        out.prompt_bytes += kBytesPerToken;
      }
    }
    ++out.message_count;
  }
  return true;
}

// Appends every string under `e`, each with a NUL after it. Depth is bounded by the parse
// (kMaxDepth), so the recursion is too.
void appendStrings(element e, std::string& out) {
  std::string_view s;
  array items;
  object fields;
  if (!e.get_string().get(s)) {
    out.append(s).push_back('\0');
  } else if (!e.get_array().get(items)) {
    for (element item : items) appendStrings(item, out);
  } else if (!e.get_object().get(fields)) {
    for (const simdjson::dom::key_value_pair kv : fields) {
      out.append(kv.key).push_back('\0');
      appendStrings(kv.value, out);
    }
  }  // numbers, booleans, null: nothing a signature reads
}

enum Key : uint32_t {
  kModel = 1, kMaxTokens = 2, kMaxCompletionTokens = 4, kN = 8, kStream = 16, kStreamOptions = 32, kBody = 64,
};

}  // namespace

std::string_view requestErrorName(RequestError e) {
  switch (e) {
    case RequestError::kNone: return "none";
    case RequestError::kTooLarge: return "body_too_large";
    case RequestError::kNotJson: return "invalid_json";
    case RequestError::kNotObject: return "body_not_object";
    case RequestError::kDuplicateKey: return "duplicate_key";
    case RequestError::kMissingModel: return "missing_model";
    case RequestError::kBadModel: return "invalid_model";
    case RequestError::kBadMaxTokens: return "invalid_max_tokens";
    case RequestError::kBadN: return "invalid_n";
    case RequestError::kBadStream: return "invalid_stream";
    case RequestError::kBadStreamOptions: return "invalid_stream_options";
    case RequestError::kMissingMessages: return "missing_messages";
    case RequestError::kBadMessages: return "invalid_messages";
    case RequestError::kMissingPrompt: return "missing_prompt";
    case RequestError::kBadPrompt: return "invalid_prompt";
    case RequestError::kMissingInput: return "missing_input";
    case RequestError::kBadInput: return "invalid_input";
  }
  return "unknown";
}

std::string_view requestErrorParam(RequestError e) {
  switch (e) {
    case RequestError::kMissingModel:
    case RequestError::kBadModel: return "model";
    case RequestError::kBadMaxTokens: return "max_tokens";
    case RequestError::kBadN: return "n";
    case RequestError::kBadStream: return "stream";
    case RequestError::kBadStreamOptions: return "stream_options";
    case RequestError::kMissingMessages:
    case RequestError::kBadMessages: return "messages";
    case RequestError::kMissingPrompt:
    case RequestError::kBadPrompt: return "prompt";
    case RequestError::kMissingInput:
    case RequestError::kBadInput: return "input";
    default: return "";
  }
}

struct InferenceRequestParser::Impl {
  explicit Impl(size_t max_bytes) : doc(max_bytes) {}
  JsonDocument doc;
  bool accepted = false;  // the last parse() returned kNone: `root` is valid
  element root;
  std::string strings;    // strings(), reused
};

InferenceRequestParser::InferenceRequestParser(size_t max_bytes) : impl_(std::make_unique<Impl>(max_bytes)) {}
InferenceRequestParser::~InferenceRequestParser() = default;

RequestError InferenceRequestParser::parse(InferenceApi api, std::string_view body, size_t capacity,
                                           InferenceRequest& out) {
  out = InferenceRequest{};
  impl_->accepted = false;
  if (body.size() > impl_->doc.maxBytes()) return RequestError::kTooLarge;
  element doc;
  if (impl_->doc.parse(body, capacity).get(doc)) return RequestError::kNotJson;
  object root;
  if (doc.get_object().get(root)) return RequestError::kNotObject;

  const std::string_view body_key = api == InferenceApi::kChatCompletions ? "messages"
                                    : api == InferenceApi::kCompletions   ? "prompt"
                                                                          : "input";
  const RequestError bad_body = api == InferenceApi::kChatCompletions ? RequestError::kBadMessages
                                : api == InferenceApi::kCompletions   ? RequestError::kBadPrompt
                                                                      : RequestError::kBadInput;
  uint32_t seen = 0;
  uint64_t max_tokens = 0, max_completion_tokens = 0, n = 1;
  bool has_max_tokens = false, has_max_completion_tokens = false, has_n = false;
  for (const simdjson::dom::key_value_pair kv : root) {
    const std::string_view key = kv.key;
    const Key k = key == "model"                   ? kModel
                  : key == "max_tokens"            ? kMaxTokens
                  : key == "max_completion_tokens" ? kMaxCompletionTokens
                  : key == "n"                     ? kN
                  : key == "stream"                ? kStream
                  : key == "stream_options"        ? kStreamOptions
                  : key == body_key                ? kBody
                                                   : Key{};
    if (k == Key{}) continue;
    if (seen & k) return RequestError::kDuplicateKey;
    seen |= k;
    const element v = kv.value;
    switch (k) {
      case kModel:
        if (v.get_string().get(out.model) || out.model.empty() || out.model.size() > kMaxModelBytes) {
          return RequestError::kBadModel;
        }
        break;
      case kMaxTokens:
        if (!readCount(v, 1, kMaxTokensLimit, has_max_tokens, max_tokens)) return RequestError::kBadMaxTokens;
        break;
      case kMaxCompletionTokens:
        if (!readCount(v, 1, kMaxTokensLimit, has_max_completion_tokens, max_completion_tokens)) {
          return RequestError::kBadMaxTokens;
        }
        break;
      case kN:
        if (!readCount(v, 1, kMaxChoices, has_n, n)) return RequestError::kBadN;
        break;
      case kStream:
        if (!v.is_null() && v.get_bool().get(out.stream)) return RequestError::kBadStream;
        break;
      case kStreamOptions: {
        if (v.is_null()) break;
        object opts;
        if (v.get_object().get(opts)) return RequestError::kBadStreamOptions;
        element include;
        if (!opts["include_usage"].get(include) && !include.is_null() && include.get_bool().get(out.include_usage)) {
          return RequestError::kBadStreamOptions;
        }
        break;
      }
      case kBody:
        if (!(api == InferenceApi::kChatCompletions ? readMessages(v, out) : readPrompt(v, out))) return bad_body;
        break;
    }
  }
  if (!(seen & kModel)) return RequestError::kMissingModel;
  if (!(seen & kBody)) {
    return api == InferenceApi::kChatCompletions ? RequestError::kMissingMessages
           : api == InferenceApi::kCompletions   ? RequestError::kMissingPrompt
                                                 : RequestError::kMissingInput;
  }
  if (has_max_tokens || has_max_completion_tokens) {
    out.has_max_tokens = true;
    out.max_tokens = has_max_tokens && has_max_completion_tokens ? std::min(max_tokens, max_completion_tokens)
                     : has_max_tokens                            ? max_tokens
                                                                 : max_completion_tokens;
  }
  out.n = static_cast<uint32_t>(n);
  impl_->root = doc;
  impl_->accepted = true;
  return RequestError::kNone;
}

std::string_view InferenceRequestParser::strings() {
  impl_->strings.clear();
  if (impl_->accepted) appendStrings(impl_->root, impl_->strings);
  return impl_->strings;
}

}  // namespace dpuguard::json
