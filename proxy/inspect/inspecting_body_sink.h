// InspectingBodySink: sits between the request parser and the BodyForwarder when a body is
// scanned. Each decoded piece is scanned first and forwarded only if no blocking signature
// has matched, so the bytes that complete a match never reach the upstream.
//
// Vectorscan 5.4.9's streaming scan loses some matches when the data reaches it in 1-2 byte
// writes (SECURITY.md, Known gaps), which a client can arrange by dribbling its body. So no
// write to the scan is shorter than kMinScanWrite bytes unless it is the whole body: the last
// kMinScanWrite bytes seen are held back, neither scanned nor forwarded, until more arrive or
// the body ends. Held bytes break the input's chunk boundaries, so a scanned chunked body is
// forwarded re-chunked (BodyFraming::kRechunk), one chunk per forwarded piece.
#pragma once

#include <array>
#include <cstddef>

#include "parsers/http1/body_sink.h"
#include "proxy/inspect/signature_set.h"

namespace dpuguard::proxy::inspect {

class InspectingBodySink final : public http1::BodySink {
 public:
  static constexpr size_t kMinScanWrite = 16;
  // Bytes it may hold back and forward later (at finish() at the latest).
  static constexpr size_t kMaxHeld = 4 * kMinScanWrite;

  InspectingBodySink(BodyScan& scan, Matches& matches) : scan_(scan), matches_(matches) {}

  // A new body, forwarded to `next` as it is scanned.
  void start(http1::BodySink* next) {
    next_ = next;
    blocked_ = false;
    held_n_ = 0;
  }

  void onBodyData(std::string_view data) override;
  // Chunk boundaries are not forwarded: the body leaves re-chunked (see above).
  void onChunkStart(uint64_t) override {}
  void onChunkEnd() override {}
  // The body ended: the held bytes are scanned, then end-anchored matches, and only then are
  // the held bytes forwarded.
  void finish();
  bool blocked() const { return blocked_; }

 private:
  // One write to the scan, forwarded if nothing blocks.
  void pass(std::string_view data);

  BodyScan& scan_;
  Matches& matches_;
  http1::BodySink* next_ = nullptr;
  bool blocked_ = false;
  std::array<char, kMaxHeld> held_{};
  size_t held_n_ = 0;
};

}  // namespace dpuguard::proxy::inspect
