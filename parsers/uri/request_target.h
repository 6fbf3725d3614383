// Splits an HTTP/1.1 request target (RFC 9112 §3.2) into its parts without copying.
// Full path normalization (RFC 3986 §6.2.2) is a separate step; this only finds the pieces.
#pragma once

#include <cstdint>
#include <string_view>

namespace dpuguard::uri {

struct RequestTarget {
  enum class Form : uint8_t { kInvalid, kOrigin, kAbsolute, kAuthority, kAsterisk };
  Form form = Form::kInvalid;
  std::string_view authority;  // absolute-form and authority-form only
  std::string_view path;       // "/" for an absolute-form target without a path
  std::string_view query;      // without the '?'
};

// A target with a '#' (fragments are never sent, RFC 9112 §3.2) or that fits no form is
// kInvalid.
RequestTarget parseRequestTarget(std::string_view target);

// "host:port" -> "host", "[v6]:port" -> "[v6]"; leaves a value without port unchanged.
std::string_view hostWithoutPort(std::string_view host);

}  // namespace dpuguard::uri
