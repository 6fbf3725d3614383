// HTTP/1 parser limits: every bound the parser enforces lives here (one header per area).
// Defaults match CONFIG.md; the proxy overrides them per listener/route from config.
#pragma once

#include <cstdint>

namespace dpuguard::http1 {

// Hard capacity of the header array inside MessageParser. Config may lower, never raise.
inline constexpr uint32_t kMaxHeadersCapacity = 256;

struct Limits {
  uint32_t max_header_bytes = 16384;  // request/status line + all header lines + final CRLF
  uint32_t max_headers = 100;         // header fields per message (431 beyond)
  uint32_t max_uri_bytes = 8192;      // request target (414 beyond)
};

}  // namespace dpuguard::http1
