// BodyCollector: a BodySink that keeps a whole (decoded) request body in memory, up to a
// limit, with kJsonPadding bytes of room after it so the JSON view parses it in place. Used
// for inference requests, which are validated (and routed by model) before a byte goes
// upstream.
#pragma once

#include <string>

#include "parsers/http1/body_sink.h"
#include "parsers/json/json_limits.h"

namespace dpuguard::proxy {

class BodyCollector final : public http1::BodySink {
 public:
  void start(uint64_t max_bytes) {
    max_bytes_ = max_bytes;
    body_.clear();
    overflow_ = padded_ = false;
  }
  void onBodyData(std::string_view data) override {
    if (overflow_) return;
    if (body_.size() + data.size() > max_bytes_) {
      overflow_ = true;
      return;
    }
    body_.append(data);
  }
  std::string_view body() const { return std::string_view(body_).substr(0, size()); }
  size_t size() const { return padded_ ? body_.size() - json::kJsonPadding : body_.size(); }
  // Once the body is complete: kJsonPadding zero bytes are put after it, so the JSON view
  // parses it in place. Returns the readable size from body().data().
  size_t pad() {
    if (!padded_) body_.append(json::kJsonPadding, '\0');
    padded_ = true;
    return body_.size();
  }
  bool overflow() const { return overflow_; }
  // Frees a large buffer between exchanges (an idle connection keeps at most 64 KiB).
  void release() {
    body_.clear();
    padded_ = false;
    if (body_.capacity() > 64 * 1024) std::string().swap(body_);
  }

 private:
  std::string body_;
  uint64_t max_bytes_ = 0;
  bool overflow_ = false;
  bool padded_ = false;
};

}  // namespace dpuguard::proxy
