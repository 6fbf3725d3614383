// The parsed head of one HTTP/1 message. Every string_view points into the caller's buffer
// (see MessageParser's feed contract); nothing here owns memory.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "parsers/http1/limits.h"
#include "parsers/http1/parse_error.h"
#include "parsers/uri/request_target.h"

namespace dpuguard::http1 {

struct HeaderField {
  std::string_view name;
  std::string_view value;  // OWS trimmed (RFC 9110 §5.5)
};

struct MessageHead {
  // Request line (requests only).
  std::string_view method;
  std::string_view target;
  // Status line (responses only).
  int status = 0;
  std::string_view reason;

  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  std::span<const HeaderField> headers;

  // Framing as llhttp understood it (RFC 9112 §6).
  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool keep_alive = true;   // after Connection header and version are taken into account
  bool upgrade = false;     // request carried Upgrade (dropped: this proxy does not tunnel)
  bool expect_continue = false;  // request carried Expect: 100-continue
  // Requests: the target split into its parts (checked by the parser), and the authority to
  // route on: Host, or the absolute-form authority when there is no Host (they must agree).
  uri::RequestTarget request_target;
  std::string_view host;
  uint32_t head_bytes = 0;  // bytes from the first byte of the message to the end of the head

  // Case-insensitive lookup of the first field named `name`; empty view if absent.
  std::string_view find(std::string_view name) const;
  bool isHttp11() const { return version_major == 1 && version_minor == 1; }
};

// The first head limit `head` exceeds, or kNone: how a route's tighter limits are applied
// to a head the listener's limits already accepted.
ParseError exceedsLimits(const MessageHead& head, const Limits& limits);

// ASCII case-insensitive equality for header names and tokens (RFC 9110 §5.1).
bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace dpuguard::http1
