#include "parsers/uri/query_decoder.h"

#include "parsers/uri/hex_digit.h"

namespace dpuguard::uri {

bool decodeQuery(std::string_view query, std::string& out) {
  if (query.find_first_of("+%") == std::string_view::npos) return false;
  out.resize(query.size());  // never longer
  size_t n = 0;
  for (size_t i = 0; i < query.size(); ++i) {
    const char c = query[i];
    const int hi = c == '%' && i + 2 < query.size() ? hexValue(query[i + 1]) : -1;
    const int lo = hi >= 0 ? hexValue(query[i + 2]) : -1;
    if (lo >= 0) {
      out[n++] = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out[n++] = c == '+' ? ' ' : c;
    }
  }
  out.resize(n);
  return true;
}

}  // namespace dpuguard::uri
