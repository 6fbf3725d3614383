// ChunkLineScanner: a byte-at-a-time state machine over one chunk-size line.
#include "parsers/http1/chunk_line_scanner.h"

namespace dpuguard::http1 {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// BWS = OWS = *( SP / HTAB ) (RFC 9110 §5.6.3)
bool isBws(char c) {
  return c == ' ' || c == '\t';
}

// Feeds one byte to `g`; whether it continues the name or value being read.
bool continues(ChunkExtGrammar& g, const char& c) {
  return g.feed(std::string_view(&c, 1)) == ChunkExtGrammar::kOk;
}

}  // namespace

void ChunkLineScanner::start() {
  state_ = State::kSizeStart;
  size_ = 0;
  ext_bytes_ = 0;
  line_len_ = 0;
}

ChunkLineScanner::Scan ChunkLineScanner::scan(std::string_view data, uint32_t max_ext_bytes) {
  for (size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    switch (state_) {
      case State::kSizeStart:
      case State::kSize:
        if (const int v = hexValue(c); v >= 0) {
          // Leading zeros are as valid as in llhttp; a size beyond 64 bits frames nothing.
          if (size_ > (UINT64_MAX >> 4)) return Scan{i, false, ParseError::kInvalidChunkSize};
          size_ = size_ * 16 + static_cast<uint64_t>(v);
          state_ = State::kSize;
          continue;
        }
        if (state_ == State::kSizeStart) return Scan{i, false, ParseError::kInvalidChunkSize};
        if (c == '\r') {
          state_ = State::kLf;
          continue;
        }
        // "5 x", "5\n", "5-": only BWS or ";" may follow a size.
        if (c != ';' && !isBws(c)) return Scan{i, false, ParseError::kInvalidChunkSize};
        break;  // the first byte of the extensions
      case State::kLf:
        // A CR that does not end the line (CVE-2021-22960 class).
        if (c != '\n') return Scan{i, false, ParseError::kInvalidChunk};
        finishLine();
        return Scan{i + 1, true, ParseError::kNone};
      case State::kDone:
        return Scan{i, true, ParseError::kNone};
      default:
        if (c == '\r') {
          // The line may end after a name or a complete value, nowhere else ("5;a \r\n" has
          // BWS that no ";" or "=" follows; "5 \r\n" the same after the size).
          const bool ends =
              state_ == State::kName || (state_ == State::kValue && grammar_.complete());
          if (!ends) {
            const bool after_size = state_ == State::kSizeBws;
            return Scan{i, false,
                        after_size ? ParseError::kInvalidChunkSize : ParseError::kInvalidChunk};
          }
          state_ = State::kLf;
          continue;
        }
        break;
    }
    if (ext_bytes_ >= max_ext_bytes) return Scan{i, false, ParseError::kChunkExtensionTooLong};
    ++ext_bytes_;
    if (const ParseError e = extensionByte(c); e != ParseError::kNone) return Scan{i, false, e};
  }
  return Scan{data.size(), false, ParseError::kNone};
}

ParseError ChunkLineScanner::extensionByte(char c) {
  switch (state_) {
    case State::kSize:  // c is ";" or BWS
      state_ = c == ';' ? State::kNameStart : State::kSizeBws;
      return ParseError::kNone;
    case State::kSizeBws:
      if (c == ';')
        state_ = State::kNameStart;
      else if (!isBws(c))
        return ParseError::kInvalidChunkSize;
      return ParseError::kNone;
    case State::kNameStart:
      if (isBws(c)) return ParseError::kNone;
      grammar_.startName();
      // ";", "=" or CR here is an empty name ("5;", "5;;a", "5;=x"): RFC 9112 §7.1.1 forbids it.
      if (!continues(grammar_, c)) return ParseError::kInvalidChunk;
      state_ = State::kName;
      return ParseError::kNone;
    case State::kName:
      if (continues(grammar_, c)) return ParseError::kNone;
      if (isBws(c))
        state_ = State::kAfterName;
      else if (c == '=')
        state_ = State::kValueStart;
      else if (c == ';')
        state_ = State::kNameStart;
      else
        return ParseError::kInvalidChunk;
      return ParseError::kNone;
    case State::kAfterName:
      if (c == '=')
        state_ = State::kValueStart;
      else if (c == ';')
        state_ = State::kNameStart;
      else if (!isBws(c))
        return ParseError::kInvalidChunk;
      return ParseError::kNone;
    case State::kValueStart:
      if (isBws(c)) return ParseError::kNone;
      grammar_.startValue();
      if (!continues(grammar_, c))
        return ParseError::kInvalidChunk;  // neither token nor quoted-string
      state_ = State::kValue;
      return ParseError::kNone;
    case State::kValue:
      if (continues(grammar_, c)) return ParseError::kNone;
      // The value ended before `c` (a token at a non-tchar, a quoted-string after its quote),
      // or `c` broke it (a CTL inside quotes, text right after the closing quote).
      if (!grammar_.complete()) return ParseError::kInvalidChunk;
      if (isBws(c))
        state_ = State::kAfterValue;
      else if (c == ';')
        state_ = State::kNameStart;
      else
        return ParseError::kInvalidChunk;
      return ParseError::kNone;
    case State::kAfterValue:
      if (c == ';')
        state_ = State::kNameStart;
      else if (!isBws(c))
        return ParseError::kInvalidChunk;
      return ParseError::kNone;
    default:
      return ParseError::kOther;  // not an extension state: scan() never gets here
  }
}

void ChunkLineScanner::finishLine() {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[16];
  size_t n = 0;
  uint64_t v = size_;
  do {
    digits[n++] = kHex[v & 0xf];
    v >>= 4;
  } while (v != 0);
  line_len_ = 0;
  while (n > 0) line_[line_len_++] = digits[--n];
  line_[line_len_++] = '\r';
  line_[line_len_++] = '\n';
  state_ = State::kDone;
}

}  // namespace dpuguard::http1
