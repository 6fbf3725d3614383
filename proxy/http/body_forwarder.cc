// BodyForwarder implementation.
#include "proxy/http/body_forwarder.h"

#include <cstdio>

namespace dpuguard::proxy {
namespace {

// "1a2b\r\n" for `size`; returns the length written into buf (>= 19 bytes).
size_t chunkSizeLine(uint64_t size, char* buf) {
  const int n = std::snprintf(buf, 24, "%llx\r\n", static_cast<unsigned long long>(size));
  return static_cast<size_t>(n);
}

}  // namespace

void BodyForwarder::start(Buffer* out, BodyFraming framing, uint64_t max_bytes) {
  out_ = out;
  framing_ = framing;
  max_bytes_ = max_bytes;
  payload_bytes_ = 0;
  overflow_ = false;
  overrun_ = false;
}

void BodyForwarder::put(std::string_view s) {
  if (!out_->append(s)) overrun_ = true;
}

void BodyForwarder::onBodyData(std::string_view data) {
  if (overflow_) return;
  payload_bytes_ += data.size();
  if (payload_bytes_ > max_bytes_) {
    overflow_ = true;
    return;
  }
  if (framing_ == BodyFraming::kRechunk) {
    if (data.empty()) return;  // an empty chunk would end the body
    char line[24];
    put(std::string_view(line, chunkSizeLine(data.size(), line)));
    put(data);
    put("\r\n");
    return;
  }
  put(data);
}

void BodyForwarder::onChunkStart(uint64_t size) {
  if (overflow_ || framing_ != BodyFraming::kChunked) return;
  char line[24];
  put(std::string_view(line, chunkSizeLine(size, line)));
}

void BodyForwarder::onChunkEnd() {
  // Ends a chunk's data, or (after the last chunk) the empty trailer section.
  if (overflow_ || framing_ != BodyFraming::kChunked) return;
  put("\r\n");
}

void BodyForwarder::finish() {
  if (framing_ == BodyFraming::kRechunk && !overflow_) put("0\r\n\r\n");
}

}  // namespace dpuguard::proxy
