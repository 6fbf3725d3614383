// HTTP/1 parser limits: every bound the parser enforces lives here (one header per area).
// Defaults match CONFIG.md; the proxy overrides them per listener (at parse time) and per
// route (checked again after routing, so a route can only tighten them).
#pragma once

#include <cstdint>

namespace dpuguard::http1 {

// Hard capacity of the header array inside MessageParser. Config may lower, never raise.
inline constexpr uint32_t kMaxHeadersCapacity = 256;

// Longest request method accepted (MethodGate). The longest registered one is 17 bytes
// (UPDATEREDIRECTREF); RFC 9110 sets no bound, so the cap is ours (method_too_long, 501).
inline constexpr uint32_t kMaxMethodBytes = 32;

struct Limits {
  uint32_t max_header_bytes = 16384;       // start line + all header lines + final CRLF (431)
  uint32_t max_headers = 100;              // header fields per message, and per trailer section (431)
  uint32_t max_uri_bytes = 8192;           // request target (414)
  uint32_t max_header_name_bytes = 256;    // one field name (431)
  uint32_t max_header_value_bytes = 8192;  // one field value (431)
  uint32_t max_chunk_ext_bytes = 256;      // a chunk-size line after the size (CVE-2024-22019)
  uint32_t max_trailer_bytes = 4096;       // the whole trailer section of a chunked body (431)

  // No bound at all: the neutral element for tightening (a route that sets nothing).
  static constexpr Limits unbounded() {
    return {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
  }
};

}  // namespace dpuguard::http1
