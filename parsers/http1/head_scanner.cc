// HeadScanner: CRLF-only lines, no CTL, no folding, no empty field names.
#include "parsers/http1/head_scanner.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dpuguard::http1 {
namespace {

// Bytes that end the fast path: every CTL (including CR, LF, HTAB, NUL) and DEL.
constexpr bool isSpecial(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Index of the first special byte (or, with `stop_at_space`, SP) in [p + i, p + n), or n.
size_t skipPlain(const unsigned char* p, size_t i, size_t n, bool stop_at_space) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7f);
  const __m128i bias = _mm_set1_epi8(static_cast<char>(0x80));
  const __m128i space_or_none = stop_at_space ? space : del;
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // Unsigned v < 0x20 as a signed compare on bytes shifted by 0x80.
    const __m128i low = _mm_cmplt_epi8(_mm_xor_si128(v, bias), _mm_xor_si128(space, bias));
    const __m128i hit = _mm_or_si128(_mm_or_si128(low, _mm_cmpeq_epi8(v, del)), _mm_cmpeq_epi8(v, space_or_none));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    i += 16;
  }
#endif
  while (i < n && !isSpecial(p[i]) && !(stop_at_space && p[i] == ' ')) ++i;
  return i;
}

}  // namespace

void HeadScanner::start(Section section, const Limits& limits) {
  max_target_ = limits.max_uri_bytes;
  max_fields_ = std::min(limits.max_headers, kMaxHeadersCapacity);
  max_name_ = limits.max_header_name_bytes;
  max_value_ = limits.max_header_value_bytes;
  target_bytes_ = 0;
  fields_ = 0;
  in_name_ = false;
  in_value_ = false;
  section_ = section;
  in_start_line_ = section != Section::kTrailers;
  after_cr_ = false;
  line_bytes_ = 0;
  start_spaces_ = 0;
  version_bytes_ = 0;
  last_was_space_ = false;
}

ParseError HeadScanner::startLineByte(unsigned char c) {
  if (section_ != Section::kRequestHead) return ParseError::kNone;
  // request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single SPs only.
  if (c == ' ') {
    if (last_was_space_ || line_bytes_ == 0 || ++start_spaces_ > 2) return ParseError::kBadRequestLine;
    last_was_space_ = true;
  } else {
    last_was_space_ = false;
  }
  return ParseError::kNone;
}

ParseError HeadScanner::endOfLine() {
  if (!in_start_line_) return ParseError::kNone;
  if (line_bytes_ == 0) return ParseError::kNone;  // empty line before the start line (RFC 9112 §2.2)
  in_start_line_ = false;
  if (section_ != Section::kRequestHead) return ParseError::kNone;
  if (start_spaces_ == 1 && !last_was_space_) return ParseError::kHttp09;
  if (start_spaces_ != 2 || last_was_space_) return ParseError::kBadRequestLine;
  return ParseError::kNone;
}

ParseError HeadScanner::countFieldRun(const unsigned char* p, size_t i, size_t end, size_t& at) {
  if (in_name_) {
    const void* colon = std::memchr(p + i, ':', end - i);
    const size_t name_end = colon != nullptr ? static_cast<size_t>(static_cast<const unsigned char*>(colon) - p) : end;
    const auto run = static_cast<uint32_t>(name_end - i);
    if (run > max_name_ - std::min(name_bytes_, max_name_)) {
      at = i + (max_name_ - name_bytes_);
      return ParseError::kHeaderNameTooLong;
    }
    name_bytes_ += run;
    if (colon == nullptr) return ParseError::kNone;
    in_name_ = false;
    i = name_end + 1;
  }
  if (!in_value_) {  // leading OWS is not part of the value (RFC 9110 §5.5)
    while (i < end && (p[i] == ' ' || p[i] == '\t')) ++i;
    if (i == end) return ParseError::kNone;
    in_value_ = true;
  }
  const auto run = static_cast<uint32_t>(end - i);
  if (run > max_value_ - std::min(value_bytes_, max_value_)) {
    at = i + (max_value_ - value_bytes_);
    return ParseError::kHeaderValueTooLong;
  }
  value_bytes_ += run;
  return ParseError::kNone;
}

HeadScanner::Scan HeadScanner::scan(std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  size_t i = 0;
  auto fail = [&](ParseError e) { return Scan{i, false, e}; };
  while (i < n) {
    const unsigned char c = p[i];
    if (after_cr_) {
      if (c != '\n') return fail(ParseError::kBareCr);
      after_cr_ = false;
      const bool empty_line = line_bytes_ == 0 && !in_start_line_;
      if (ParseError e = endOfLine(); e != ParseError::kNone) return fail(e);
      line_bytes_ = 0;
      ++i;
      if (empty_line) return Scan{i, true, ParseError::kNone};
      continue;
    }
    if (c == '\r') {
      after_cr_ = true;
      ++i;
      continue;
    }
    if (c == '\n') return fail(ParseError::kBareLf);
    if (in_start_line_) {
      // HTAB may appear in a reason phrase (RFC 9112 §4), never in a request line.
      if (c == '\t' && section_ == Section::kRequestHead) return fail(ParseError::kBadRequestLine);
      if (c != '\t' && isSpecial(c)) return fail(c == 0 ? ParseError::kNulByte : ParseError::kControlCharacter);
      if (ParseError e = startLineByte(c); e != ParseError::kNone) return fail(e);
      if (section_ == Section::kRequestHead && start_spaces_ == 2 && c != ' ' &&
          version_bytes_ < 5) {
        // llhttp 8.1.0 also takes "RTSP/1.0" and "ICE/1.0" here and reports them as 1.0.
        if (c != "HTTP/"[version_bytes_]) return fail(ParseError::kInvalidConstant);
        ++version_bytes_;
        ++line_bytes_;
        ++i;
        continue;
      }
      // Runs of ordinary bytes need no per-byte decision; SP does in a request line.
      const size_t next = c == ' ' ? i + 1 : skipPlain(p, i + 1, n, section_ == Section::kRequestHead);
      if (next > i + 1) last_was_space_ = false;
      if (section_ == Section::kRequestHead && start_spaces_ == 1 && c != ' ') {
        const auto run = static_cast<uint32_t>(next - i);
        if (run > max_target_ - std::min(target_bytes_, max_target_)) {
          i += max_target_ - target_bytes_;
          return fail(ParseError::kUriTooLong);
        }
        target_bytes_ += run;
      }
      line_bytes_ += static_cast<uint32_t>(next - i);
      i = next;
      continue;
    }
    if (line_bytes_ == 0) {
      // First byte of a field line: a leading SP/HTAB is obs-fold (RFC 9112 §5.2), a colon
      // means an empty field name (CVE-2023-25725 class).
      if (c == ' ' || c == '\t') return fail(ParseError::kObsFold);
      if (c == ':') return fail(ParseError::kEmptyHeaderName);
      if (++fields_ > max_fields_) return fail(ParseError::kTooManyHeaders);
      in_name_ = true;
      in_value_ = false;
      name_bytes_ = 0;
      value_bytes_ = 0;
    }
    if (c != '\t' && isSpecial(c)) return fail(c == 0 ? ParseError::kNulByte : ParseError::kControlCharacter);
    const size_t next = skipPlain(p, i + 1, n, false);
    size_t at = 0;
    if (const ParseError e = countFieldRun(p, i, next, at); e != ParseError::kNone) {
      i = at;
      return fail(e);
    }
    line_bytes_ += static_cast<uint32_t>(next - i);
    i = next;
  }
  return Scan{i, false, ParseError::kNone};
}

}  // namespace dpuguard::http1
