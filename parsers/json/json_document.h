// JsonDocument: one reusable simdjson DOM parser with dpuguard's limits (size, depth) and the
// padding rule handled: parse() reads a body in place when the caller's buffer has
// kJsonPadding bytes to spare after it, else from a reused padded copy. Used by the views in
// parsers/json/ (their headers keep simdjson out of everyone else's includes).
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "parsers/json/json_limits.h"

namespace dpuguard::json {

class JsonDocument {
 public:
  explicit JsonDocument(size_t max_bytes) : max_bytes_(max_bytes), dom_(max_bytes) {}

  size_t maxBytes() const { return max_bytes_; }
  // The root element, or an error: CAPACITY beyond max_bytes, else simdjson's (syntax, UTF-8,
  // DEPTH_ERROR past kMaxDepth). The element is valid until the next parse().
  simdjson::simdjson_result<simdjson::dom::element> parse(std::string_view body, size_t capacity);

 private:
  size_t max_bytes_;
  simdjson::dom::parser dom_;
  std::string padded_;
};

}  // namespace dpuguard::json
