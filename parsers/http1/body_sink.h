// Receives a message body as MessageParser decodes it: payload bytes plus, for chunked
// messages, the chunk boundaries so a forwarder can keep SSE events in their own chunks.
#pragma once

#include <cstdint>
#include <string_view>

namespace dpuguard::http1 {

class BodySink {
 public:
  virtual ~BodySink() = default;
  // Payload bytes (de-chunked). Views into the buffer passed to feed().
  virtual void onBodyData(std::string_view data) = 0;
  // A chunk of `size` payload bytes starts (chunked only). size == 0 is the last chunk.
  virtual void onChunkStart(uint64_t size) { (void)size; }
  // The current chunk's payload ended (chunked only).
  virtual void onChunkEnd() {}
};

// Discards the body; for callers that only want heads.
class NullBodySink final : public BodySink {
 public:
  void onBodyData(std::string_view) override {}
};

}  // namespace dpuguard::http1
