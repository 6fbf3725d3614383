// normalizePath: decode -> merge slashes -> remove dot segments, in one reused buffer.
#include "parsers/uri/path_normalizer.h"

#include "parsers/uri/hex_digit.h"

namespace dpuguard::uri {
namespace {

bool isUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

void appendEscape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0xf]);
}

// Step 1 (§6.2.2.1, §6.2.2.2): one pass over the escapes.
PathError decode(std::string_view path, const NormalizeOptions& options, std::string& out) {
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (i + 2 >= path.size()) return PathError::kBadEscape;
    const int hi = hexValue(path[i + 1]);
    const int lo = hexValue(path[i + 2]);
    if (hi < 0 || lo < 0) return PathError::kBadEscape;
    const auto v = static_cast<unsigned char>(hi * 16 + lo);
    i += 2;
    if (v == 0) return PathError::kNulByte;
    if (v == '/' || v == '\\') {
      if (options.escaped_slashes == EscapedSlashAction::kReject) return PathError::kEscapedSlash;
      if (options.escaped_slashes == EscapedSlashAction::kUnescape) {
        out.push_back(static_cast<char>(v));
        continue;
      }
    }
    if (isUnreserved(v)) out.push_back(static_cast<char>(v));
    else appendEscape(out, v);
  }
  return PathError::kNone;
}

void mergeSlashes(std::string& s) {
  size_t w = 0;
  for (size_t r = 0; r < s.size(); ++r) {
    if (s[r] == '/' && w > 0 && s[w - 1] == '/') continue;
    s[w++] = s[r];
  }
  s.resize(w);
}

// Step 2 (§5.2.4 remove_dot_segments) in place; `s` starts with '/'.
void removeDotSegments(std::string& s) {
  size_t w = 0;  // s[0, w) is the output so far; it never holds a dot segment
  size_t r = 0;
  while (r < s.size()) {
    // s[r] == '/': look at the segment after it.
    size_t end = s.find('/', r + 1);
    if (end == std::string::npos) end = s.size();
    const std::string_view seg(s.data() + r + 1, end - r - 1);
    const bool last = end == s.size();
    if (seg == "." || seg == "..") {
      if (seg == "..") {
        while (w > 0 && s[w - 1] != '/') --w;  // drop the last segment...
        if (w > 0) --w;                        // ...and the '/' before it
      }
      if (last) s[w++] = '/';  // "/a/." -> "/a/", "/a/b/.." -> "/a/"
    } else {
      for (size_t k = r; k < end; ++k) s[w++] = s[k];
    }
    r = end;
  }
  s.resize(w == 0 ? 1 : w);
  s[0] = '/';
}

}  // namespace

PathError normalizePath(std::string_view path, const NormalizeOptions& options, std::string& out) {
  out.clear();
  if (path.empty() || path.front() != '/') return PathError::kNotAbsolute;
  if (const PathError e = decode(path, options, out); e != PathError::kNone) return e;
  if (options.merge_slashes) mergeSlashes(out);
  removeDotSegments(out);
  return PathError::kNone;
}

}  // namespace dpuguard::uri
