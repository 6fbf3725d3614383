// JsonDocument: padding and limits around simdjson::dom::parser.
#include "parsers/json/json_document.h"

#include <algorithm>

namespace dpuguard::json {

static_assert(kJsonPadding == simdjson::SIMDJSON_PADDING);

simdjson::simdjson_result<simdjson::dom::element> JsonDocument::parse(std::string_view body, size_t capacity) {
  if (body.size() > max_bytes_) return simdjson::CAPACITY;
  const char* data = body.data();
  if (capacity < body.size() + kJsonPadding) {
    padded_.assign(body);
    padded_.resize(body.size() + kJsonPadding);  // zero bytes
    data = padded_.data();
  }
  // The depth limit is set once; later parses grow the capacity and keep it.
  if (dom_.max_depth() != kMaxDepth) {
    if (const simdjson::error_code e = dom_.allocate(std::max<size_t>(body.size(), 64), kMaxDepth)) return e;
  }
  return dom_.parse(data, body.size(), false);
}

}  // namespace dpuguard::json
