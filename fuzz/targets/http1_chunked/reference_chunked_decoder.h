// An independent, deliberately plain decoder of a chunked body, written from the grammar in
// RFC 9112 §7.1 and nothing else, as the oracle of the differential chunked target:
//
//   chunked-body   = *chunk last-chunk trailer-section CRLF
//   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-size     = 1*HEXDIG
//   last-chunk     = 1*("0") [ chunk-ext ] CRLF
//   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-val  = token / quoted-string
//   trailer-section = *( field-line CRLF ),  field-line = field-name ":" OWS field-value OWS
//
// No limits and no field semantics: the parser may be stricter (limits, forbidden trailer
// fields), never laxer, and where both accept they must agree on every payload byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dpuguard::fuzz {

struct ReferenceChunkedResult {
  enum class Verdict : uint8_t { kAccepted, kRejected, kIncomplete };
  Verdict verdict = Verdict::kIncomplete;
  std::string payload;  // de-chunked bytes
  size_t end = 0;       // kAccepted: offset just past the final CRLF
};

class ReferenceChunkedDecoder {
 public:
  static ReferenceChunkedResult decode(std::string_view in);

 private:
  explicit ReferenceChunkedDecoder(std::string_view in) : in_(in) {}
  enum class Step : uint8_t { kOk, kBad, kShort };

  Step chunkSize(uint64_t& size);
  Step chunkExtensions();
  Step crlf();
  Step token();
  Step quotedString();
  Step trailerSection();
  void bws();
  bool more() const { return pos_ < in_.size(); }
  char peek() const { return in_[pos_]; }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace dpuguard::fuzz
