// InspectingBodySink: sits between the request parser and the BodyForwarder when a body is
// scanned. Each decoded piece is scanned first and forwarded only if no blocking signature
// has matched, so the bytes that complete a match never reach the upstream.
#pragma once

#include "parsers/http1/body_sink.h"
#include "proxy/inspect/signature_set.h"

namespace dpuguard::proxy {

class InspectingBodySink final : public http1::BodySink {
 public:
  InspectingBodySink(inspect::BodyScan& scan, inspect::Matches& matches, http1::BodySink& next)
      : scan_(scan), matches_(matches), next_(next) {}

  void onBodyData(std::string_view data) override {
    if (blocked_) return;
    blocked_ = scan_.feed(data, matches_);
    if (!blocked_) next_.onBodyData(data);
  }
  void onChunkStart(uint64_t size) override {
    if (!blocked_) next_.onChunkStart(size);
  }
  void onChunkEnd() override {
    if (!blocked_) next_.onChunkEnd();
  }
  // The body ended: end-anchored matches.
  void finish() {
    if (!blocked_) blocked_ = scan_.finish(matches_);
  }
  bool blocked() const { return blocked_; }
  void reset() { blocked_ = false; }

 private:
  inspect::BodyScan& scan_;
  inspect::Matches& matches_;
  http1::BodySink& next_;
  bool blocked_ = false;
};

}  // namespace dpuguard::proxy
