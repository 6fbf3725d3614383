// HeadScanner: the byte-level gate in front of llhttp for a head or a trailer section.
// llhttp 8.1.0 accepts bare LF line endings, obs-fold, empty field names, HTTP/0.9 request
// lines and double spaces even in strict mode (HTTP_HARDENING.md); this scanner sees every
// head byte first and lets through only lines that end in CRLF and hold no NUL or other CTL,
// so llhttp never tokenizes anything we would refuse.
//
//   HeadScanner s;
//   s.start(HeadScanner::Section::kRequestHead);
//   HeadScanner::Scan r = s.scan(bytes);   // hand bytes[0, r.length) to llhttp
//
// Incremental and split-invariant: a section can arrive in any number of pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parsers/http1/parse_error.h"

namespace dpuguard::http1 {

class HeadScanner {
 public:
  enum class Section : uint8_t { kRequestHead, kResponseHead, kTrailers };

  struct Scan {
    size_t length = 0;      // bytes accepted; with `complete`, through the section's final LF
    bool complete = false;  // the empty line that ends the section was seen
    ParseError error = ParseError::kNone;  // set: the byte at `length` is where it was detected
  };

  void start(Section section);
  Scan scan(std::string_view data);

 private:
  ParseError startLineByte(unsigned char c);
  ParseError endOfLine();

  Section section_ = Section::kRequestHead;
  bool in_start_line_ = true;  // heads only: still in the request/status line
  bool after_cr_ = false;
  uint32_t line_bytes_ = 0;      // bytes of the current line before its CR
  uint8_t start_spaces_ = 0;     // SPs seen in the request line
  bool last_was_space_ = false;  // request line: previous byte was SP
};

}  // namespace dpuguard::http1
