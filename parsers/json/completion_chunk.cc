// CompletionChunkParser: choices[].{delta,message}.{content,reasoning_content,tool_calls},
// choices[].text, and usage.{prompt_tokens,completion_tokens}.
#include "parsers/json/completion_chunk.h"

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

}  // namespace

struct CompletionChunkParser::Impl {
  explicit Impl(size_t max_bytes) : doc(max_bytes) {}
  JsonDocument doc;
};

CompletionChunkParser::CompletionChunkParser(size_t max_bytes) : impl_(std::make_unique<Impl>(max_bytes)) {}
CompletionChunkParser::~CompletionChunkParser() = default;

bool CompletionChunkParser::parse(std::string_view json, size_t capacity, CompletionChunk& out) {
  out = CompletionChunk{};
  element doc;
  object root;
  if (impl_->doc.parse(json, capacity).get(doc) || doc.get_object().get(root)) return false;
  array choices;
  if (!root["choices"].get_array().get(choices)) {
    for (element c : choices) {
      object choice;
      if (!c.get_object().get(choice) && producedOutput(choice)) ++out.text_pieces;
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
