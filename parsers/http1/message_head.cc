// MessageHead lookups and the after-routing limit check.
#include "parsers/http1/message_head.h"

namespace dpuguard::http1 {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::string_view MessageHead::find(std::string_view name) const {
  for (const HeaderField& h : headers) {
    if (equalsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

ParseError exceedsLimits(const MessageHead& head, const Limits& limits) {
  if (head.head_bytes > limits.max_header_bytes) return ParseError::kHeadTooLarge;
  if (head.headers.size() > limits.max_headers) return ParseError::kTooManyHeaders;
  if (head.target.size() > limits.max_uri_bytes) return ParseError::kUriTooLong;
  for (const HeaderField& f : head.headers) {
    if (f.name.size() > limits.max_header_name_bytes) return ParseError::kHeaderNameTooLong;
    if (f.value.size() > limits.max_header_value_bytes) return ParseError::kHeaderValueTooLong;
  }
  return ParseError::kNone;
}

}  // namespace dpuguard::http1
