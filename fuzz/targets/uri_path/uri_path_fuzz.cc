// Fuzz target: request-target splitting and path normalization (parsers/uri), what routing,
// policy and the upstream all see. Invariants, for every option set:
//   - idempotence: normalize(normalize(x)) == normalize(x);
//   - an accepted path starts with '/', has no "." or ".." segment, no %00, no escape of an
//     unreserved character, no lower-case escape, no '%' without two hex digits after it;
//     with escaped_slashes=reject, no %2F/%5C; with merge_slashes, no "//";
//   - the parts of a split target lie inside the target;
//   - the query's form-decoding (what query signatures read) is never longer than the query,
//     happens exactly when it has a '+' or '%', and leaves no '+' behind but decoded %2B ones.
// Input: byte 0 picks the options (bit 0: merge_slashes, bits 1-2: escaped-slash action),
// the rest is a request target.
#include <cstdlib>
#include <string>

#include "fuzz/common/fuzz_target.h"
#include "parsers/uri/path_normalizer.h"
#include "parsers/uri/query_decoder.h"
#include "parsers/uri/request_target.h"

namespace {

using namespace dpuguard::uri;

bool isUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }
bool isUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}
int hexValue(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

NormalizeOptions optionsFor(uint8_t selector) {
  NormalizeOptions o;
  o.merge_slashes = (selector & 1) != 0;
  const int action = (selector >> 1) % 3;
  o.escaped_slashes = action == 0 ? EscapedSlashAction::kReject
                      : action == 1 ? EscapedSlashAction::kKeep
                                    : EscapedSlashAction::kUnescape;
  return o;
}

bool hasDotSegment(std::string_view p) {
  size_t start = 0;
  while (start < p.size()) {
    size_t end = p.find('/', start + 1);
    if (end == std::string_view::npos) end = p.size();
    const std::string_view seg = p.substr(start + 1, end - start - 1);
    if (seg == "." || seg == "..") return true;
    start = end;
  }
  return false;
}

void checkNormalized(std::string_view out, const NormalizeOptions& o) {
  if (out.empty() || out[0] != '/') std::abort();
  if (hasDotSegment(out)) std::abort();
  if (o.merge_slashes && out.find("//") != std::string_view::npos) std::abort();
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] != '%') continue;
    if (i + 2 >= out.size() || !isUpperHex(out[i + 1]) || !isUpperHex(out[i + 2])) std::abort();
    const int v = hexValue(out[i + 1]) * 16 + hexValue(out[i + 2]);
    if (v == 0 || isUnreserved(static_cast<unsigned char>(v))) std::abort();
    if ((v == '/' || v == '\\') && o.escaped_slashes == EscapedSlashAction::kReject) std::abort();
  }
}

bool within(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void checkDecodedQuery(std::string_view query) {
  std::string decoded;
  const bool escapes = query.find_first_of("+%") != std::string_view::npos;
  if (decodeQuery(query, decoded) != escapes) std::abort();
  if (!escapes) return;
  if (decoded.size() > query.size()) std::abort();
  size_t plus = 0, encoded_plus = 0;
  for (char c : decoded) plus += c == '+';
  for (size_t i = 0; i + 2 < query.size(); ++i) {
    encoded_plus += query[i] == '%' && query[i + 1] == '2' && (query[i + 2] | 0x20) == 'b';
  }
  if (plus > encoded_plus) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const NormalizeOptions o = optionsFor(data[0]);
  const std::string_view target = dpuguard::fuzz::asText(data + 1, size - 1);

  const RequestTarget t = parseRequestTarget(target);
  // Every part is a view of the target, but for the static "/" of absolute-form without a path.
  if (!within(t.path, target) && t.path != "/") std::abort();
  if (!within(t.authority, target) || !within(t.query, target)) std::abort();
  (void)hostWithoutPort(t.authority);
  checkDecodedQuery(target);

  // Normalize the raw input as a path (reaches every branch) and, when it is one, the
  // target's path.
  std::string once;
  std::string twice;
  for (std::string_view path : {target, t.path}) {
    if (normalizePath(path, o, once) != PathError::kNone) continue;
    checkNormalized(once, o);
    if (normalizePath(once, o, twice) != PathError::kNone || twice != once) std::abort();
  }
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  if (input.empty()) return "empty";
  const NormalizeOptions o = optionsFor(static_cast<uint8_t>(input[0]));
  std::string out;
  static constexpr const char* kNames[] = {"accepted", "rejected:nul_byte", "rejected:escaped_slash",
                                           "rejected:bad_escape", "rejected:not_absolute"};
  const PathError e = normalizePath(input.substr(1), o, out);
  std::string line = kNames[static_cast<int>(e)];
  if (e == PathError::kNone) {
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f || c == '\t') c = '?';  // keep one line
    }
    line += " -> " + out.substr(0, 80);
  }
  return line;
}
