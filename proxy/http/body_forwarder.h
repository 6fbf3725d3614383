// BodyForwarder: a BodySink that writes a decoded body into an output Buffer with the framing
// chosen for the next hop. Chunk boundaries are kept (an SSE event stays one chunk, sent as
// soon as it arrives); chunk extensions and trailers are dropped (HTTP_HARDENING.md).
#pragma once

#include <cstdint>

#include "parsers/http1/body_sink.h"
#include "proxy/core/buffer.h"

namespace dpuguard::proxy {

enum class BodyFraming : uint8_t {
  kNone,           // no body
  kContentLength,  // bytes as they are (the length header was written with the head)
  kChunked,        // chunked in, chunked out: same chunk sizes
  kRechunk,        // unframed in (read until close), chunked out: one chunk per piece
  kRaw,            // chunked or unframed in, unframed out (close-delimited, HTTP/1.0 peer)
};

// Bytes of framing a single feed can add beyond its input (kRechunk: size line + CRLFs).
inline constexpr size_t kFramingReserve = 32;
inline constexpr uint64_t kNoBodyLimit = UINT64_MAX;

class BodyForwarder final : public http1::BodySink {
 public:
  // Beyond `max_bytes` payload bytes (kNoBodyLimit: none), overflow() turns true and nothing
  // more is written. 0 is a limit like any other: no body at all.
  void start(Buffer* out, BodyFraming framing, uint64_t max_bytes);
  void onBodyData(std::string_view data) override;
  void onChunkStart(uint64_t size) override;
  void onChunkEnd() override;
  // Writes the end of the body where the framing needs one (kRechunk: last chunk).
  void finish();

  uint64_t payloadBytes() const { return payload_bytes_; }
  bool overflow() const { return overflow_; }
  // An append did not fit: the caller fed more than the output could take (a bug, not input).
  bool overrun() const { return overrun_; }

 private:
  void put(std::string_view s);

  Buffer* out_ = nullptr;
  BodyFraming framing_ = BodyFraming::kNone;
  uint64_t max_bytes_ = kNoBodyLimit;
  uint64_t payload_bytes_ = 0;
  bool overflow_ = false;
  bool overrun_ = false;
};

}  // namespace dpuguard::proxy
