// Field-level rules shared by the parser (validation) and the forwarder (what to drop):
// which fields frame or route a message, and the strict syntax of their values.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "parsers/http1/parse_error.h"

namespace dpuguard::http1 {

enum class FieldKind : uint8_t {
  kOther,
  kContentLength,
  kTransferEncoding,
  kHost,
  kConnection,
  kUpgrade,
  kHttp2Settings,
  kExpect,
  kKeepAlive,
  kProxyConnection,
  kTe,
  kTrailer,
  kProxyAuth,  // Proxy-Authenticate, Proxy-Authorization
};

// Classifies a field name, case-insensitively.
FieldKind classifyField(std::string_view name);

struct FieldMatch {
  FieldKind kind = FieldKind::kOther;
  // The name is a special one only once '_' reads as '-' ("Transfer_Encoding"): servers
  // behind CGI/WSGI-style gateways make that mapping, so it is ambiguous framing.
  bool underscore_variant = false;
};

// classifyField and the underscore check in one pass (the parser's per-field hot path).
FieldMatch matchField(std::string_view name);

// Connection-specific fields (RFC 9110 §7.6.1) and the framing/routing fields the forwarder
// always rebuilds itself.
bool isHopByHop(FieldKind kind);

// Whether a field goes on across a hop that frames the message anew (the shm host channel):
// end-to-end fields and Host do; framing, connection-specific and routing-control fields, and
// their '_' spellings, do not (each side writes its own Content-Length/Transfer-Encoding).
bool passesReframingHop(std::string_view name);

// Fields that must never appear in a trailer section (framing, routing, connection control).
bool forbiddenInTrailers(FieldKind kind);

// tchar (RFC 9110 §5.6.2): the bytes of a token (methods, field names, chunk extensions).
inline constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
inline bool isTchar(unsigned char c) {
  return kTchar[c];
}

// Removes leading and trailing SP/HTAB (RFC 9110 §5.5 OWS).
inline std::string_view trimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Calls f(token) for each element of a comma-separated list (RFC 9110 §5.6.1), OWS trimmed.
// Empty elements are passed as empty views so callers can refuse them.
template <typename F>
void forEachListElement(std::string_view v, F&& f) {
  while (true) {
    const size_t comma = v.find(',');
    f(trimOws(v.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    v.remove_prefix(comma + 1);
  }
}

// Content-Length = 1*DIGIT (RFC 9110 §8.6), OWS already trimmed. Leading zeros are digits like
// any other ("005" is 5, as nginx and HAProxy read it); at most 18 digits after them, so the
// value stays below 10^18 (< 2^63) and never overflows. On kNone, *length holds the value.
ParseError parseContentLength(std::string_view value, uint64_t* length);

// Transfer-Encoding must be exactly `chunked` (one element, any case).
ParseError checkTransferEncoding(std::string_view value);

// Connection must not name a framing or routing field (Content-Length, Transfer-Encoding,
// Host): a proxy honouring it would forward a body with no framing at all.
ParseError checkConnection(std::string_view value);

// Upgrade naming h2c (cleartext HTTP/2 smuggling): kH2cUpgrade.
ParseError checkUpgrade(std::string_view value);

// Expect: only `100-continue` is defined (RFC 9110 §10.1.1).
ParseError checkExpect(std::string_view value);

// Host = uri-host [ ":" port ], with reg-name / IPv4 / IP-literal characters only.
ParseError checkHost(std::string_view value);

// Whether a list-valued field (Connection, Upgrade) names `token`.
bool listContains(std::string_view value, std::string_view token);

}  // namespace dpuguard::http1
