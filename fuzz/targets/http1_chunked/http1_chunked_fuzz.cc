// Differential fuzz target: our chunked decoding (strict llhttp framing + our limits and
// trailer rules) against ReferenceChunkedDecoder, written from RFC 9112 §7.1 alone.
// Invariants:
//   - whatever we accept, the reference accepts, with the same payload bytes and the same end
//     (a disagreement on where a chunked body ends is exactly a smuggling bug);
//   - where the reference accepts, we decide (accept or reject), never wait for more bytes;
//   - where the reference accepts, we never call the chunk framing itself invalid
//     (invalid_chunk_size, invalid_chunk): chunk-size lines are ChunkLineScanner's, which
//     implements the same grammar (issue 22: llhttp 8.1.0 refused `5;a=1;b`);
//   - the outcome does not depend on where the input is cut, nor on whether the body bytes
//     stay in place or are copied into one reused buffer before each feed (as the proxy does);
//   - a body the peer's close cuts short is truncated, never complete (finish()).
// We may be stricter (limits, forbidden trailer fields): describeInput reports those cases.
// Input: bit 7 of byte 0 picks a request or a response head (streamed completions are chunked
// responses), the other bits a cut point; the rest is the chunked body after that head.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "fuzz/common/fuzz_target.h"
#include "fuzz/targets/http1_chunked/reference_chunked_decoder.h"
#include "parsers/http1/message_parser.h"

namespace {

using namespace dpuguard::http1;
using dpuguard::fuzz::ReferenceChunkedDecoder;
using dpuguard::fuzz::ReferenceChunkedResult;

constexpr std::string_view kRequestHead = "POST /v1/completions HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n";
constexpr std::string_view kResponseHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

class PayloadSink final : public BodySink {
 public:
  void onBodyData(std::string_view d) override { payload += d; }
  std::string payload;
};

struct Decoded {
  ParseStatus status = ParseStatus::kNeedMore;  // kMessageComplete, kError or kNeedMore
  ParseError error = ParseError::kNone;
  std::string payload;
  size_t end = 0;  // body bytes consumed up to the end of the message
};

Limits chunkedLimits() {
  Limits l;
  l.max_chunk_ext_bytes = 64;
  l.max_trailer_bytes = 512;
  return l;
}

// Feeds the head and `body`, cut at `cut`; with `reuse`, every body piece is first copied to
// the start of one scratch buffer that is overwritten in between (only head bytes must stay).
Decoded decode(bool response, std::string_view body, size_t cut, bool reuse = false) {
  const std::string_view head = response ? kResponseHead : kRequestHead;
  std::string stream(head);
  stream.append(body);
  MessageParser p(response ? MessageParser::Kind::kResponse : MessageParser::Kind::kRequest, chunkedLimits());
  PayloadSink sink;
  Decoded d;
  size_t pos = 0;
  const size_t bounds[2] = {head.size() + cut, stream.size()};
  std::string scratch(stream.size() + 1, ';');
  for (size_t bound : bounds) {
    while (pos < bound || d.status == ParseStatus::kHeadComplete) {
      std::string_view piece = std::string_view(stream).substr(pos, bound - pos);
      if (reuse && pos >= head.size()) {
        std::fill(scratch.begin(), scratch.end(), ';');
        std::copy(piece.begin(), piece.end(), scratch.begin());
        piece = std::string_view(scratch.data(), piece.size());
      }
      const ParseResult r = p.feed(piece, sink);
      pos += r.consumed;
      d.status = r.status;
      if (r.status == ParseStatus::kError) {
        d.error = r.error;
        return d;
      }
      if (r.status == ParseStatus::kMessageComplete) {
        d.payload = std::move(sink.payload);
        d.end = pos - head.size();
        return d;
      }
      if (r.status == ParseStatus::kNeedMore) break;
    }
  }
  // The peer closed here: a chunked body cut short is truncated, never complete.
  const ParseResult end = p.finish(sink);
  if (end.status != ParseStatus::kError || end.error != ParseError::kTruncated) std::abort();
  d.status = ParseStatus::kNeedMore;
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view body = dpuguard::fuzz::asText(data + 1, size - 1);
  const bool response = (data[0] & 0x80) != 0;
  const Decoded whole = decode(response, body, body.size());
  const size_t at = body.empty() ? 0 : (data[0] & 0x7f) % body.size();
  for (const Decoded& other : {decode(response, body, at), decode(response, body, at, true)}) {
    if (whole.status != other.status || whole.error != other.error ||
        whole.payload != other.payload || whole.end != other.end) {
      std::abort();
    }
  }
  const ReferenceChunkedResult ref = ReferenceChunkedDecoder::decode(body);
  using Verdict = ReferenceChunkedResult::Verdict;
  if (whole.status == ParseStatus::kMessageComplete) {
    if (ref.verdict != Verdict::kAccepted || ref.payload != whole.payload || ref.end != whole.end) std::abort();
  }
  if (ref.verdict == Verdict::kAccepted) {
    if (whole.status == ParseStatus::kNeedMore) std::abort();
    if (whole.error == ParseError::kInvalidChunkSize || whole.error == ParseError::kInvalidChunk) {
      std::abort();
    }
  }
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  if (input.empty()) return "empty";
  const std::string_view body = input.substr(1);
  const bool response = (static_cast<uint8_t>(input[0]) & 0x80) != 0;
  const Decoded d = decode(response, body, body.size());
  const ReferenceChunkedResult ref = ReferenceChunkedDecoder::decode(body);
  const char* ref_word = ref.verdict == ReferenceChunkedResult::Verdict::kAccepted   ? "accepts"
                         : ref.verdict == ReferenceChunkedResult::Verdict::kRejected ? "rejects"
                                                                                     : "waits";
  std::string out;
  if (d.status == ParseStatus::kMessageComplete) {
    out = "accepted:" + std::to_string(d.payload.size()) + "-payload-bytes";
  } else if (d.status == ParseStatus::kError) {
    out = "rejected:" + std::string(parseErrorName(d.error));
  } else {
    out = "incomplete";
  }
  return out + (response ? " in-response" : "") + " (reference " + ref_word + ")";
}
