// ChunkLineScanner: reads one chunk-size line of a chunked body (RFC 9112 §7.1) in front of
// llhttp, which then sees only the canonical `HEX CRLF` this scanner writes: llhttp 8.1.0
// refuses valid extensions (`5;a=1;b`) and accepts invalid ones. Keeps no pointer into its input.
//
//   chunk-size [ chunk-ext ] CRLF,  chunk-size = 1*HEXDIG
//   chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//
//   ChunkLineScanner s;
//   s.start();
//   ChunkLineScanner::Scan r = s.scan(bytes, limits.max_chunk_ext_bytes);  // bytes[0, r.length)
//   used if (r.complete) hand s.canonicalLine() to llhttp; s.size() is the chunk's size
//
// Incremental and split-invariant: a line can arrive in any number of pieces, in buffers that
// move or are reused between calls. Names and values are checked by ChunkExtGrammar.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parsers/http1/chunk_ext_grammar.h"
#include "parsers/http1/parse_error.h"

namespace dpuguard::http1 {

class ChunkLineScanner {
 public:
  struct Scan {
    size_t length = 0;      // bytes used; with `complete`, through the line's LF
    bool complete = false;  // the line ended; size() and canonicalLine() are valid
    // Set: the byte at `length` is where it was detected. kInvalidChunkSize for the size and
    // what directly follows it, kInvalidChunk inside the extensions or at a CR without LF,
    // kChunkExtensionTooLong at the first extension byte beyond the budget.
    ParseError error = ParseError::kNone;
  };

  // Ready for a new line.
  void start();
  // Reads the line on from where the previous call stopped. Every byte after the size and
  // before the CR counts against `max_ext_bytes` (CVE-2024-22019).
  Scan scan(std::string_view data, uint32_t max_ext_bytes);

  uint64_t size() const { return size_; }
  // The size in lower-case hex without leading zeros, then CRLF ("0\r\n" for the last chunk).
  std::string_view canonicalLine() const { return std::string_view(line_, line_len_); }

 private:
  enum class State : uint8_t {
    kSizeStart,   // nothing read yet: a HEXDIG must come
    kSize,        // in the size
    kSizeBws,     // BWS after the size: only ";" may follow
    kNameStart,   // after ";": BWS, then a name
    kName,        // in a name
    kAfterName,   // BWS after a name: "=" or ";"
    kValueStart,  // after "=": BWS, then a token or a quoted-string
    kValue,       // in a value
    kAfterValue,  // BWS after a value: ";"
    kLf,          // after the CR
    kDone,
  };

  // One byte of the extensions (any state from kSizeBws to kAfterValue); kNone or the error.
  ParseError extensionByte(char c);
  void finishLine();

  State state_ = State::kSizeStart;
  uint64_t size_ = 0;
  uint32_t ext_bytes_ = 0;
  ChunkExtGrammar grammar_;
  char line_[20] = {};  // at most 16 hex digits and CRLF
  uint8_t line_len_ = 0;
};

}  // namespace dpuguard::http1
