// CompletionChunkParser: choices[].{delta,message}.{content,reasoning_content,tool_calls},
// choices[].text, and usage.{prompt_tokens,completion_tokens}; the generated text on request.
#include "parsers/json/completion_chunk.h"

#include <array>
#include <limits>

#include "parsers/json/json_document.h"

namespace dpuguard::json {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

bool nonEmptyString(object o, std::string_view key) {
  std::string_view s;
  return !o[key].get_string().get(s) && !s.empty();
}

// A choice produced output if its text, or its delta's / message's content, reasoning or
// tool calls, are present and non-empty.
bool producedOutput(object choice) {
  if (nonEmptyString(choice, "text")) return true;
  for (std::string_view part : {std::string_view("delta"), std::string_view("message")}) {
    object o;
    if (choice[part].get_object().get(o)) continue;
    if (nonEmptyString(o, "content") || nonEmptyString(o, "reasoning_content")) return true;
    array calls;
    if (!o["tool_calls"].get_array().get(calls) && calls.size() > 0) return true;
  }
  return false;
}

uint32_t indexOr(object o, uint32_t position) {
  uint64_t index = 0;
  if (o["index"].get_uint64().get(index)) return position;
  return index > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                      : static_cast<uint32_t>(index);
}

// Keys of one object the text is read from, each seen at most once: a second one makes the
// text ambiguous (a client's parser may keep the last where a lookup finds the first).
class SeenKeys {
 public:
  explicit SeenKeys(GeneratedText& text) : text_(text) {}
  void see(std::string_view key) {
    for (size_t i = 0; i < n_; ++i) {
      if (seen_[i] == key) text_.ambiguous = true;
    }
    if (n_ < seen_.size()) seen_[n_++] = key;
  }

 private:
  GeneratedText& text_;
  std::array<std::string_view, 8> seen_{};
  size_t n_ = 0;
};

// Appends `v`, when it is a non-empty string, as a piece. All pieces together are at most the
// document's size, and simdjson parses documents of at most 4 GiB: offsets fit in 32 bits.
void addPiece(element v, OutputPiece p, GeneratedText& text) {
  std::string_view s;
  if (v.get_string().get(s) || s.empty()) return;
  p.offset = static_cast<uint32_t>(text.bytes.size());
  p.size = static_cast<uint32_t>(s.size());
  text.bytes.append(s).push_back('\0');
  text.pieces.push_back(p);
}

void addArguments(element function, OutputPiece p, GeneratedText& text) {
  object f;
  if (function.get_object().get(f)) return;
  SeenKeys seen(text);
  for (const simdjson::dom::key_value_pair kv : f) {
    if (kv.key != "arguments") continue;
    seen.see(kv.key);
    addPiece(kv.value, p, text);
  }
}

// "content" as a string, or as an array of parts ({"type": "text", "text": "..."}).
void addContent(element v, OutputPiece p, GeneratedText& text) {
  array parts;
  if (v.get_array().get(parts)) return addPiece(v, p, text);
  for (element part : parts) {
    object o;
    if (part.get_object().get(o)) continue;
    SeenKeys seen(text);
    for (const simdjson::dom::key_value_pair kv : o) {
      if (kv.key != "text") continue;
      seen.see(kv.key);
      addPiece(kv.value, p, text);
    }
  }
}

// Fields are walked, not looked up, so a key given twice is seen (and makes the text
// ambiguous) rather than hidden behind the first.
void addMessageText(object o, OutputPiece p, GeneratedText& text) {
  SeenKeys seen(text);
  for (const simdjson::dom::key_value_pair kv : o) {
    const std::string_view key = kv.key;
    if (key == "content" || key == "refusal" || key == "reasoning_content" || key == "reasoning" ||
        key == "function_call" || key == "tool_calls")
      seen.see(key);
    if (key == "content") {
      p.channel = OutputChannel::kContent;
      addContent(kv.value, p, text);
    } else if (key == "refusal") {
      p.channel = OutputChannel::kRefusal;
      addPiece(kv.value, p, text);
    } else if (key == "reasoning_content" || key == "reasoning") {
      p.channel = OutputChannel::kReasoning;
      addPiece(kv.value, p, text);
    } else if (key == "function_call") {  // the deprecated `functions` API
      OutputPiece t = p;
      t.channel = OutputChannel::kToolArguments;
      addArguments(kv.value, t, text);
    } else if (key == "tool_calls") {
      array calls;
      if (kv.value.get_array().get(calls)) continue;
      OutputPiece t = p;
      t.channel = OutputChannel::kToolArguments;
      uint32_t position = 0;
      for (element c : calls) {
        object call;
        if (!c.get_object().get(call)) {
          t.tool = indexOr(call, position);
          SeenKeys seen(text);
          for (const simdjson::dom::key_value_pair f : call) {
            if (f.key != "function") continue;
            seen.see(f.key);
            addArguments(f.value, t, text);
          }
        }
        ++position;
      }
    }
  }
}

void addChoiceText(object choice, uint32_t position, GeneratedText& text) {
  OutputPiece p;
  p.choice = indexOr(choice, position);
  SeenKeys seen(text);
  for (const simdjson::dom::key_value_pair kv : choice) {
    object o;
    if (kv.key == "text" || kv.key == "delta" || kv.key == "message") seen.see(kv.key);
    if (kv.key == "text") {
      addPiece(kv.value, p, text);
    } else if ((kv.key == "delta" || kv.key == "message") && !kv.value.get_object().get(o)) {
      addMessageText(o, p, text);
    }
  }
}

}  // namespace

struct CompletionChunkParser::Impl {
  explicit Impl(size_t max_bytes) : doc(max_bytes) {}
  JsonDocument doc;
};

CompletionChunkParser::CompletionChunkParser(size_t max_bytes)
    : impl_(std::make_unique<Impl>(max_bytes)) {}
CompletionChunkParser::~CompletionChunkParser() = default;

bool CompletionChunkParser::parse(std::string_view json, size_t capacity, CompletionChunk& out,
                                  GeneratedText* text) {
  out = CompletionChunk{};
  if (text != nullptr) text->clear();
  element doc;
  object root;
  if (impl_->doc.parse(json, capacity).get(doc) || doc.get_object().get(root)) return false;
  if (text != nullptr) {
    SeenKeys seen(*text);
    for (const simdjson::dom::key_value_pair kv : root) {
      if (kv.key == "choices") seen.see(kv.key);
    }
  }
  array choices;
  if (!root["choices"].get_array().get(choices)) {
    uint32_t position = 0;
    for (element c : choices) {
      object choice;
      if (!c.get_object().get(choice)) {
        if (producedOutput(choice)) ++out.text_pieces;
        if (text != nullptr) addChoiceText(choice, position, *text);
      }
      ++position;
    }
  }
  object usage;
  if (!root["usage"].get_object().get(usage)) {
    uint64_t prompt = 0, completion = 0;
    const bool has_completion = !usage["completion_tokens"].get_uint64().get(completion);
    if (has_completion) {
      out.has_usage = true;
      out.completion_tokens = completion;
      if (!usage["prompt_tokens"].get_uint64().get(prompt)) out.prompt_tokens = prompt;
    }
  }
  return true;
}

}  // namespace dpuguard::json
