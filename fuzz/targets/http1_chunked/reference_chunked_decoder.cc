#include "fuzz/targets/http1_chunked/reference_chunked_decoder.h"

namespace dpuguard::fuzz {
namespace {

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hexValue(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

// tchar (RFC 9110 §5.6.2)
bool isTchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// field-vchar / SP / HTAB, obs-text included (RFC 9110 §5.5)
bool isFieldByte(unsigned char c) { return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f); }

}  // namespace

ReferenceChunkedResult ReferenceChunkedDecoder::decode(std::string_view in) {
  ReferenceChunkedDecoder d(in);
  ReferenceChunkedResult r;
  auto verdictOf = [&](Step s) {
    r.verdict = s == Step::kBad ? ReferenceChunkedResult::Verdict::kRejected : ReferenceChunkedResult::Verdict::kIncomplete;
    return r;
  };
  for (;;) {
    uint64_t size = 0;
    Step s = d.chunkSize(size);
    if (s == Step::kOk) s = d.chunkExtensions();
    if (s == Step::kOk) s = d.crlf();
    if (s != Step::kOk) return verdictOf(s);
    if (size == 0) break;
    if (in.size() - d.pos_ < size) return verdictOf(Step::kShort);
    r.payload.append(in.substr(d.pos_, size));
    d.pos_ += size;
    if (s = d.crlf(); s != Step::kOk) return verdictOf(s);
  }
  if (Step s = d.trailerSection(); s != Step::kOk) return verdictOf(s);
  r.verdict = ReferenceChunkedResult::Verdict::kAccepted;
  r.end = d.pos_;
  return r;
}

ReferenceChunkedDecoder::Step ReferenceChunkedDecoder::chunkSize(uint64_t& size) {
  const size_t start = pos_;
  while (more() && isHex(peek())) {
    if (size > (UINT64_MAX >> 4)) return Step::kBad;  // does not fit: no recipient can frame it
    size = size * 16 + static_cast<uint64_t>(hexValue(peek()));
    ++pos_;
  }
  if (!more()) return Step::kShort;
  return pos_ == start ? Step::kBad : Step::kOk;
}

void ReferenceChunkedDecoder::bws() {
  while (more() && (peek() == ' ' || peek() == '\t')) ++pos_;
}

ReferenceChunkedDecoder::Step ReferenceChunkedDecoder::token() {
  const size_t start = pos_;
  while (more() && isTchar(peek())) ++pos_;
  if (!more()) return Step::kShort;
  return pos_ == start ? Step::kBad : Step::kOk;
}

ReferenceChunkedDecoder::Step ReferenceChunkedDecoder::quotedString() {
  ++pos_;  // DQUOTE
  while (more()) {
    const auto c = static_cast<unsigned char>(peek());
    if (c == '"') {
      ++pos_;
      return Step::kOk;
    }
    if (c == '\\') {  // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      if (++pos_ >= in_.size()) return Step::kShort;
      if (!isFieldByte(static_cast<unsigned char>(peek()))) return Step::kBad;
    } else if (!isFieldByte(c)) {
      return Step::kBad;
    }
    ++pos_;
  }
  return Step::kShort;
}

ReferenceChunkedDecoder::Step ReferenceChunkedDecoder::chunkExtensions() {
  for (;;) {
    const size_t before = pos_;
    bws();
    if (!more()) return Step::kShort;
    if (peek() != ';') {
      pos_ = before;  // BWS only counts in front of ';'
      return Step::kOk;
    }
    ++pos_;
    bws();
    if (Step s = token(); s != Step::kOk) return s;
    const size_t after_name = pos_;
    bws();
    if (!more()) return Step::kShort;
    if (peek() != '=') {
      pos_ = after_name;
      continue;
    }
    ++pos_;
    bws();
    if (!more()) return Step::kShort;
    if (Step s = peek() == '"' ? quotedString() : token(); s != Step::kOk) return s;
  }
}

ReferenceChunkedDecoder::Step ReferenceChunkedDecoder::crlf() {
  if (!more()) return Step::kShort;
  if (peek() != '\r') return Step::kBad;
  if (++pos_ >= in_.size()) return Step::kShort;
  if (peek() != '\n') return Step::kBad;
  ++pos_;
  return Step::kOk;
}

ReferenceChunkedDecoder::Step ReferenceChunkedDecoder::trailerSection() {
  for (;;) {
    if (!more()) return Step::kShort;
    if (peek() == '\r') return crlf();
    if (Step s = token(); s != Step::kOk) return s;  // field-name
    if (peek() != ':') return Step::kBad;
    ++pos_;
    while (more() && isFieldByte(static_cast<unsigned char>(peek()))) ++pos_;
    if (Step s = crlf(); s != Step::kOk) return s;
  }
}

}  // namespace dpuguard::fuzz
