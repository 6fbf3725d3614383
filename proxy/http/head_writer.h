// Rebuilds message heads for the next hop from parsed fields (never copies raw bytes):
// canonical start line, hop-by-hop headers removed (RFC 9110 §7.6.1) including those named
// in Connection, Via added (§7.6.3), X-Forwarded-For appended, and our own framing header.
#pragma once

#include <string>
#include <string_view>

#include "parsers/http1/message_head.h"
#include "proxy/http/body_forwarder.h"

namespace dpuguard::proxy {

struct RequestForwarding {
  std::string_view target;  // origin-form target to send ("/path?query")
  std::string_view
      host;  // Host to send, never empty (absolute-form authority wins over the header)
  std::string_view client_ip;  // appended to X-Forwarded-For
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  // Accept-Encoding is not passed on: the answer must come uncompressed, because output
  // guardrails read it.
  bool identity_encoding = false;
  // Authorization is not passed on: it carried an API key dpuguard checked (routes[].api_key).
  bool drop_authorization = false;
};

struct ResponseForwarding {
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  bool close = false;               // we close the client connection after this response
  bool keep_length_header = false;  // HEAD/304: the length describes a body not sent
};

// True for headers that never cross a hop: RFC 9110 §7.6.1 plus Proxy-Connection,
// Content-Length/Transfer-Encoding (we frame), Host (we write exactly one), Expect (we answer
// 100-continue ourselves), Trailer (trailers are dropped) and HTTP2-Settings (no h2c).
bool isHopByHop(std::string_view name);

// Appends "METHOD target HTTP/1.1\r\n...\r\n" to `out`.
void writeRequestHead(const http1::MessageHead& head, const RequestForwarding& fwd,
                      std::string& out);
// A request head written with framing kNone ends in its blank line; this gives it a
// Content-Length before that line (a body collected whole before it is sent).
void addContentLength(std::string& head, uint64_t length);
// Appends "HTTP/1.1 status reason\r\n...\r\n" to `out`.
void writeResponseHead(const http1::MessageHead& head, const ResponseForwarding& fwd,
                       std::string& out);

}  // namespace dpuguard::proxy
