// Field classification and value syntax checks.
#include "parsers/http1/field_rules.h"

#include <array>

#include "parsers/http1/message_head.h"

namespace dpuguard::http1 {
namespace {

struct NamedKind {
  std::string_view name;  // lower case
  FieldKind kind;
};

// Special names by length (index = length): at most two share a length, so classifying an
// ordinary field costs one array lookup and usually no comparison at all.
struct ByLength {
  NamedKind first;
  NamedKind second;
};

constexpr std::array<ByLength, 20> kByLength = [] {
  std::array<ByLength, 20> t{};
  constexpr NamedKind kAll[] = {
      {"content-length", FieldKind::kContentLength},
      {"transfer-encoding", FieldKind::kTransferEncoding},
      {"host", FieldKind::kHost},
      {"connection", FieldKind::kConnection},
      {"upgrade", FieldKind::kUpgrade},
      {"http2-settings", FieldKind::kHttp2Settings},
      {"expect", FieldKind::kExpect},
      {"keep-alive", FieldKind::kKeepAlive},
      {"proxy-connection", FieldKind::kProxyConnection},
      {"te", FieldKind::kTe},
      {"trailer", FieldKind::kTrailer},
      {"proxy-authenticate", FieldKind::kProxyAuth},
      {"proxy-authorization", FieldKind::kProxyAuth},
  };
  for (const NamedKind& k : kAll) {
    ByLength& slot = t[k.name.size()];
    (slot.first.name.empty() ? slot.first : slot.second) = k;
  }
  return t;
}();

// Compares `name` with a lower-case special name, ASCII case-insensitively; with
// `underscore_as_dash`, '_' in `name` also matches '-'.
// ASCII case-insensitively, with '_' in `name` also matching '-' (reported in *underscore).
bool matches(std::string_view name, std::string_view special, bool* underscore) {
  if (special.empty()) return false;
  bool mapped = false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c == '_') {
      c = '-';
      mapped = true;
    }
    if (c != special[i]) return false;
  }
  *underscore = mapped;
  return true;
}

}  // namespace

FieldMatch matchField(std::string_view name) {
  if (name.size() >= kByLength.size()) return {};
  const ByLength& slot = kByLength[name.size()];
  bool underscore = false;
  if (matches(name, slot.first.name, &underscore)) return {slot.first.kind, underscore};
  if (matches(name, slot.second.name, &underscore)) return {slot.second.kind, underscore};
  return {};
}

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 3986 reg-name / IPv4 / IP-literal characters, plus ':' for the port.
bool isHostChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c)) return true;
  switch (c) {
    case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'':
    case '(': case ')': case '*': case '+': case ',': case ';': case '=': case '%':
    case ':': case '[': case ']':
      return true;
    default:
      return false;
  }
}

}  // namespace

FieldKind classifyField(std::string_view name) {
  const FieldMatch m = matchField(name);
  return m.underscore_variant ? FieldKind::kOther : m.kind;
}

bool isHopByHop(FieldKind kind) { return kind != FieldKind::kOther; }

bool passesReframingHop(std::string_view name) {
  const FieldMatch m = matchField(name);
  return !m.underscore_variant && (m.kind == FieldKind::kOther || m.kind == FieldKind::kHost);
}

bool forbiddenInTrailers(FieldKind kind) { return kind != FieldKind::kOther; }

ParseError parseContentLength(std::string_view value, uint64_t* length) {
  if (value.empty()) return ParseError::kInvalidContentLength;  // CVE-2023-40225
  size_t first = 0;
  while (first + 1 < value.size() && value[first] == '0') ++first;
  if (value.size() - first > 18) return ParseError::kInvalidContentLength;
  uint64_t v = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    if (!isDigit(value[i])) return ParseError::kInvalidContentLength;  // +, -, spaces, lists, hex
    if (i >= first) v = v * 10 + static_cast<uint64_t>(value[i] - '0');
  }
  *length = v;
  return ParseError::kNone;
}

ParseError checkTransferEncoding(std::string_view value) {
  int elements = 0;
  bool unknown = false;
  bool malformed = false;
  forEachListElement(value, [&](std::string_view e) {
    ++elements;
    if (e.empty()) malformed = true;
    else if (!equalsIgnoreCase(e, "chunked")) unknown = true;
  });
  if (malformed) return ParseError::kInvalidTransferEncoding;
  if (unknown) return ParseError::kUnknownTransferCoding;
  if (elements != 1) return ParseError::kInvalidTransferEncoding;  // chunked, chunked
  return ParseError::kNone;
}

bool listContains(std::string_view value, std::string_view token) {
  bool found = false;
  forEachListElement(value, [&](std::string_view e) { found = found || equalsIgnoreCase(e, token); });
  return found;
}

ParseError checkConnection(std::string_view value) {
  ParseError result = ParseError::kNone;
  forEachListElement(value, [&](std::string_view e) {
    const FieldKind k = classifyField(e);
    if (k == FieldKind::kContentLength || k == FieldKind::kTransferEncoding || k == FieldKind::kHost) {
      result = ParseError::kConnectionNamesFramingHeader;
    }
  });
  return result;
}

ParseError checkUpgrade(std::string_view value) {
  bool h2c = false;
  forEachListElement(value, [&](std::string_view e) {
    // Protocol names may carry a version ("h2c/1"); compare the name part.
    h2c = h2c || equalsIgnoreCase(e.substr(0, e.find('/')), "h2c");
  });
  return h2c ? ParseError::kH2cUpgrade : ParseError::kNone;
}

ParseError checkExpect(std::string_view value) {
  return equalsIgnoreCase(value, "100-continue") ? ParseError::kNone : ParseError::kUnsupportedExpectation;
}

ParseError checkHost(std::string_view value) {
  if (value.empty()) return ParseError::kInvalidHost;
  for (char c : value) {
    if (!isHostChar(c)) return ParseError::kInvalidHost;
  }
  return ParseError::kNone;
}

}  // namespace dpuguard::http1
