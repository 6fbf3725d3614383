// Path normalization (RFC 3986 §6.2.2) so that routing, policy and the upstream all see the
// same path: percent-encoded unreserved characters are decoded, other escapes upper-cased,
// dot segments removed (§5.2.4), and optionally runs of '/' merged. %00 is always refused;
// encoded '/' and '\' are refused by default (they let "/v1%2F..%2Fadmin" slip past prefix
// rules), or kept, or decoded, as Envoy's path_with_escaped_slashes_action.
//
//   std::string out;  // reuse it: no allocation once it has grown
//   uri::PathError e = uri::normalizePath("/v1/./a/%7Euser/../b", {}, out);  // "/v1/a/b"
//
// normalizePath(normalizePath(x)) == normalizePath(x) for every x it accepts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dpuguard::uri {

enum class EscapedSlashAction : uint8_t {
  kReject,    // %2F / %5C -> kEscapedSlash (the default)
  kKeep,      // left encoded (upper-cased); never a path separator for routing
  kUnescape,  // %2F -> '/', %5C -> '\', then normalized like any other byte
};

struct NormalizeOptions {
  bool merge_slashes = false;
  EscapedSlashAction escaped_slashes = EscapedSlashAction::kReject;
};

enum class PathError : uint8_t {
  kNone,
  kNulByte,       // %00
  kEscapedSlash,  // %2F or %5C with EscapedSlashAction::kReject
  kBadEscape,     // '%' not followed by two hex digits
  kNotAbsolute,   // does not start with '/'
};

// Writes the normalized form of the origin-form path `path` (no query) to `out`.
PathError normalizePath(std::string_view path, const NormalizeOptions& options, std::string& out);

}  // namespace dpuguard::uri
