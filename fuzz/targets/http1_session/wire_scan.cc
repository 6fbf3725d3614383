// Readers of the bytes around a proxied session: dpuguard's upstream-bound requests (strict),
// scripted upstream responses (only their framing) and client-bound bytes (chunked decoded).
#include "fuzz/targets/http1_session/wire_scan.h"

#include <cstdint>
#include <optional>

namespace dpuguard::fuzz::session {
namespace {

constexpr size_t kNpos = std::string_view::npos;

bool isTchar(char c) {  // RFC 9110 §5.6.2
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != kNpos;
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isTchar(c)) return false;
  }
  return true;
}

// field-value characters (RFC 9110 §5.5): VCHAR, SP, HTAB, obs-text; never CR, LF or NUL.
bool isFieldValue(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c != '\t' && (c < 0x20 || c == 0x7f)) return false;
  }
  return true;
}

bool isTarget(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool containsNoCase(std::string_view hay, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (equalsNoCase(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::optional<uint64_t> decimal(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::optional<uint64_t> hex(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    const char l = lower(c);
    if (l >= '0' && l <= '9')
      v = v * 16 + static_cast<uint64_t>(l - '0');
    else if (l >= 'a' && l <= 'f')
      v = v * 16 + static_cast<uint64_t>(l - 'a' + 10);
    else
      return std::nullopt;
  }
  return v;
}

// Line reader over CRLF-terminated lines: a bare CR or LF is an error.
class Lines {
 public:
  enum class Got { kLine, kIncomplete, kBad };
  Lines(std::string_view b, size_t pos) : b_(b), pos_(pos) {}
  Got next(std::string_view& line) {
    for (size_t i = pos_; i < b_.size(); ++i) {
      if (b_[i] == '\n') return Got::kBad;
      if (b_[i] != '\r') continue;
      if (i + 1 == b_.size()) return Got::kIncomplete;
      if (b_[i + 1] != '\n') return Got::kBad;
      line = b_.substr(pos_, i - pos_);
      pos_ = i + 2;
      return Got::kLine;
    }
    return Got::kIncomplete;
  }
  size_t pos() const { return pos_; }
  void skip(size_t n) { pos_ += n; }

 private:
  std::string_view b_;
  size_t pos_;
};

// A strictly chunked body at `pos` (size lines of hex digits only, no extension), then the
// trailer section: its end, nullopt if incomplete, kNpos if malformed.
std::optional<size_t> chunkedEnd(std::string_view b, size_t pos, bool allow_trailers) {
  Lines lines(b, pos);
  std::string_view line;
  for (;;) {
    const Lines::Got g = lines.next(line);
    if (g == Lines::Got::kIncomplete) return std::nullopt;
    if (g == Lines::Got::kBad) return kNpos;
    const std::optional<uint64_t> size = hex(line);
    if (!size) return kNpos;
    if (*size == 0) break;
    if (b.size() - lines.pos() < *size + 2) return std::nullopt;
    if (b.substr(lines.pos() + *size, 2) != "\r\n") return kNpos;
    lines.skip(*size + 2);
  }
  for (;;) {  // trailer section: field lines, then an empty line
    const Lines::Got g = lines.next(line);
    if (g == Lines::Got::kIncomplete) return std::nullopt;
    if (g == Lines::Got::kBad) return kNpos;
    if (line.empty()) return lines.pos();
    if (!allow_trailers) return kNpos;
  }
}

UpstreamRequest malformed(std::string why) {
  UpstreamRequest r;
  r.status = UpstreamRequest::Status::kMalformed;
  r.why = std::move(why);
  return r;
}

}  // namespace

UpstreamRequest scanUpstreamRequest(std::string_view b) {
  UpstreamRequest r;
  Lines lines(b, 0);
  std::string_view line;
  Lines::Got g = lines.next(line);
  if (g == Lines::Got::kBad) return malformed("bare CR or LF in the request line");
  if (g == Lines::Got::kIncomplete) return r;
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == kNpos ? kNpos : line.find(' ', sp1 + 1);
  if (sp2 == kNpos || !isToken(line.substr(0, sp1)) ||
      !isTarget(line.substr(sp1 + 1, sp2 - sp1 - 1)) || line.substr(sp2 + 1) != "HTTP/1.1") {
    return malformed("request line is not 'TOKEN SP target SP HTTP/1.1': " +
                     std::string(line.substr(0, 80)));
  }
  r.method = line.substr(0, sp1);
  int hosts = 0, lengths = 0, codings = 0;
  uint64_t length = 0;
  for (;;) {
    g = lines.next(line);
    if (g == Lines::Got::kBad) return malformed("bare CR or LF in a field line (header injection)");
    if (g == Lines::Got::kIncomplete) return r;
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == kNpos || !isToken(line.substr(0, colon)) || line.substr(colon, 2) != ": ") {
      return malformed("field line is not 'name: value': " + std::string(line.substr(0, 80)));
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = line.substr(colon + 2);
    if (!isFieldValue(value))
      return malformed("control character in field '" + std::string(name) + "'");
    if (equalsNoCase(name, "host")) ++hosts;
    if (equalsNoCase(name, "content-length")) {
      ++lengths;
      const std::optional<uint64_t> v = decimal(value);
      if (!v) return malformed("Content-Length is not digits: " + std::string(value.substr(0, 40)));
      length = *v;
    }
    if (equalsNoCase(name, "transfer-encoding")) {
      ++codings;
      if (value != "chunked")
        return malformed("Transfer-Encoding other than 'chunked': " +
                         std::string(value.substr(0, 40)));
    }
  }
  if (hosts != 1) return malformed(std::to_string(hosts) + " Host fields (exactly one is written)");
  if (lengths > 1 || codings > 1 || (lengths == 1 && codings == 1)) {
    return malformed("framing: " + std::to_string(lengths) + " Content-Length, " +
                     std::to_string(codings) + " Transfer-Encoding (request smuggling)");
  }
  const size_t head_end = lines.pos();
  if (codings == 1) {
    const std::optional<size_t> end = chunkedEnd(b, head_end, false);
    if (!end) return r;
    if (*end == kNpos) return malformed("chunked body framing is broken");
    r.length = *end;
  } else {
    if (b.size() - head_end < length) return r;
    r.length = head_end + length;
  }
  r.status = UpstreamRequest::Status::kComplete;
  return r;
}

size_t responseCutLimit(std::string_view response, std::string_view request_method) {
  const size_t head_end = response.find("\r\n\r\n");
  if (head_end == kNpos) return response.size();  // no head can complete: no message ends early
  const size_t head_only = head_end + 4;
  if (request_method == "HEAD") return head_only;
  Lines lines(response.substr(0, head_only), 0);
  std::string_view line;
  if (lines.next(line) != Lines::Got::kLine || line.size() < 12 ||
      (line.substr(0, 9) != "HTTP/1.1 " && line.substr(0, 9) != "HTTP/1.0 ")) {
    return head_only;
  }
  const std::optional<uint64_t> status = decimal(line.substr(9, 3));
  if (!status || *status < 200 || *status > 599 || *status == 204 || *status == 304)
    return head_only;
  int lengths = 0, codings = 0;
  uint64_t length = 0;
  for (;;) {
    if (lines.next(line) != Lines::Got::kLine) return head_only;
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == kNpos) return head_only;
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (equalsNoCase(name, "content-length")) {
      ++lengths;
      const std::optional<uint64_t> v = decimal(value);
      if (!v) return head_only;
      length = *v;
    } else if (equalsNoCase(name, "transfer-encoding")) {
      ++codings;
      if (!equalsNoCase(value, "chunked")) return head_only;
    } else if (containsNoCase(name, "content-type") && containsNoCase(value, "event-stream")) {
      return head_only;  // metered event by event on inference routes
    }
  }
  if (lengths > 1 || codings > 1 || (lengths == 1 && codings == 1)) return head_only;
  if (lengths == 1) return head_only + length == response.size() ? response.size() : head_only;
  if (codings == 1) {
    const std::optional<size_t> end = chunkedEnd(response, head_only, true);
    return end && *end == response.size() ? response.size() : head_only;
  }
  return response.size();  // close-delimited: it ends at the end of the script, however cut
}

std::string normalizeClientBytes(std::string_view b) {
  std::string out;
  size_t pos = 0;
  while (pos < b.size()) {
    const size_t head_end = b.find("\r\n\r\n", pos);
    if (head_end == kNpos) {
      out.append(b.substr(pos));
      break;
    }
    const std::string_view head = b.substr(pos, head_end + 4 - pos);
    out.append(head);
    pos = head_end + 4;
    if (head.find("\r\nTransfer-Encoding: chunked\r\n") == kNpos) continue;
    std::string payload;
    bool done = false;
    for (;;) {
      const size_t line_end = b.find("\r\n", pos);
      if (line_end == kNpos) break;
      const std::optional<uint64_t> size = hex(b.substr(pos, line_end - pos));
      if (!size) break;
      if (*size == 0) {
        if (b.substr(line_end + 2, 2) == "\r\n") {
          pos = line_end + 4;
          done = true;
        }
        break;
      }
      if (b.size() - (line_end + 2) < *size + 2 || b.substr(line_end + 2 + *size, 2) != "\r\n")
        break;
      payload.append(b.substr(line_end + 2, *size));
      pos = line_end + 2 + *size + 2;
    }
    // Prefix-friendly: a body cut short reads as a prefix of the same body whole.
    out.append("<chunked>").append(payload);
    if (done) out.append("</chunked>");
  }
  return out;
}

}  // namespace dpuguard::fuzz::session
