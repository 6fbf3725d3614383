// HeadScanner: the byte-level gate in front of llhttp for a head or a trailer section.
// llhttp 8.1.0 accepts bare LF line endings, obs-fold, empty field names, HTTP/0.9 request
// lines, double spaces and RTSP/ICE versions even in strict mode (HTTP_HARDENING.md); this scanner
// sees every head byte first and lets through only lines that end in CRLF and hold no NUL or other
// CTL, so llhttp never tokenizes anything we would refuse. It also enforces the per-token limits
// (target, field name and value length, field count) at the exact byte that crosses them:
// llhttp reports spans when a piece of input ends, so a limit checked on its callbacks would
// fire at a point that depends on how the input was cut.
//
//   HeadScanner s;
//   s.start(HeadScanner::Section::kRequestHead, limits);
//   HeadScanner::Scan r = s.scan(bytes);   // hand bytes[0, r.length) to llhttp
//
// Incremental and split-invariant: a section can arrive in any number of pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parsers/http1/limits.h"
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

  void start(Section section, const Limits& limits);
  Scan scan(std::string_view data);

 private:
  ParseError startLineByte(unsigned char c);
  ParseError endOfLine();
  // Counts the plain run [i, end) of a field line against the name and value limits; on
  // error, `at` is the first byte beyond the limit.
  ParseError countFieldRun(const unsigned char* p, size_t i, size_t end, size_t& at);

  Section section_ = Section::kRequestHead;
  bool in_start_line_ = true;  // heads only: still in the request/status line
  bool after_cr_ = false;
  uint32_t line_bytes_ = 0;      // bytes of the current line before its CR
  uint8_t start_spaces_ = 0;     // SPs seen in the request line
  uint8_t version_bytes_ = 0;    // request line: bytes of "HTTP/" matched after the second SP
  bool last_was_space_ = false;  // request line: previous byte was SP

  uint32_t max_target_ = 0;
  uint32_t max_fields_ = 0;
  uint32_t max_name_ = 0;
  uint32_t max_value_ = 0;
  uint32_t target_bytes_ = 0;  // request target bytes so far
  uint32_t fields_ = 0;        // field lines begun in this section
  bool in_name_ = false;       // field line: before its colon
  bool in_value_ = false;      // field line: past the colon and its leading OWS
  uint32_t name_bytes_ = 0;
  uint32_t value_bytes_ = 0;
};

}  // namespace dpuguard::http1
