// TokenMeter: per-event counting and the cut-off decision.
#include "proxy/inspect/token_meter.h"

namespace dpuguard::proxy::inspect {

bool TokenMeter::admitEvent(std::string_view data, json::CompletionChunkParser& parser) {
  if (cut_) return false;
  json::CompletionChunk chunk;
  const bool parsed =
      !data.empty() && data.front() == '{' && parser.parse(data, data.size(), chunk);
  return admitChunk(parsed, chunk);
}

bool TokenMeter::admitChunk(bool parsed, const json::CompletionChunk& chunk) {
  if (cut_) return false;
  // "[DONE]", comments-only and non-JSON events carry no tokens and pass.
  if (!parsed) return true;
  if (chunk.text_pieces > 0 && counted_ + chunk.text_pieces > allowance_) {
    cut_ = true;
    return false;
  }
  counted_ += chunk.text_pieces;
  if (chunk.has_usage) {
    has_usage_ = true;
    usage_prompt_ = chunk.prompt_tokens;
    usage_completion_ = chunk.completion_tokens;
  }
  return true;
}

void TokenMeter::onWholeAnswer(std::string_view body, size_t capacity,
                               json::CompletionChunkParser& parser) {
  json::CompletionChunk chunk;
  if (!parser.parse(body, capacity, chunk)) return;
  counted_ += chunk.text_pieces;
  if (chunk.has_usage) {
    has_usage_ = true;
    usage_prompt_ = chunk.prompt_tokens;
    usage_completion_ = chunk.completion_tokens;
  }
}

}  // namespace dpuguard::proxy::inspect
