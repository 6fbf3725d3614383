// Test support: the transcript runner shared with the fuzz targets, plus the gtest check
// that whole, byte-by-byte and every two-way split feeding agree, with body and trailer bytes
// left in place, copied to a fresh buffer per feed, or copied into one reused buffer (as the
// proxy's compacted buffers do). Head bytes always stay in place (MessageParser's contract).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/common/http1_transcript.h"

namespace dpuguard::http1 {

// Where the bytes of a body or trailer section are when the parser is fed them.
enum class BodyBytes { kInPlace, kFreshCopy, kReusedBuffer };

struct SplitRun {
  std::string transcript;
  std::string payload;  // every body byte the sink received, de-chunked, all messages
};

// Passes everything to a Recorder and keeps the payload bytes on the side.
class PayloadTap final : public BodySink {
 public:
  explicit PayloadTap(Recorder& rec) : rec_(rec) {}
  void onBodyData(std::string_view d) override {
    payload += d;
    rec_.onBodyData(d);
  }
  void onChunkStart(uint64_t size) override { rec_.onChunkStart(size); }
  void onChunkEnd() override { rec_.onChunkEnd(); }
  std::string payload;

 private:
  Recorder& rec_;
};

// Feeds `input` cut at `cuts` (ascending offsets), restarting after each pause; outside a
// head, each piece is first moved as `where` says.
inline SplitRun runSplit(std::string_view input, const std::vector<size_t>& cuts, const Options& o,
                         BodyBytes where) {
  MessageParser p(o.kind, o.limits);
  p.setHeadRequest(o.head_request);
  Recorder rec;
  PayloadTap tap(rec);
  std::vector<std::unique_ptr<char[]>> copies;  // kept alive: every copy has its own address
  std::unique_ptr<char[]> reused(new char[input.size() + 1]);
  std::vector<size_t> bounds = cuts;
  bounds.push_back(input.size());
  size_t pos = 0;
  auto done = [&](std::string tail) { return SplitRun{rec.log() + tail, tap.payload}; };
  for (size_t end : bounds) {
    bool resume = false;  // after a head, feed again even with nothing left
    while (pos < end || resume) {
      std::string_view piece = input.substr(pos, end - pos);
      if (where != BodyBytes::kInPlace && p.inMessage() && !p.inHead()) {
        char* to = reused.get();
        if (where == BodyBytes::kFreshCopy) {
          copies.emplace_back(new char[piece.size() + 1]);
          to = copies.back().get();
        } else {
          std::fill(to, to + input.size() + 1, ';');  // what a stale pointer would read
        }
        std::copy(piece.begin(), piece.end(), to);
        piece = std::string_view(to, piece.size());
      }
      const ParseResult r = p.feed(piece, tap);
      pos += r.consumed;
      resume = r.status == ParseStatus::kHeadComplete;
      if (r.status == ParseStatus::kNeedMore) break;
      rec.flush();
      if (r.status == ParseStatus::kHeadComplete) {
        rec.log() += describeHead(p.head());
      } else if (r.status == ParseStatus::kMessageComplete) {
        rec.log() += "<end>";
      } else {
        return done("error:" + std::string(parseErrorName(r.error)));
      }
    }
  }
  if (o.finish) {
    const ParseResult r = p.finish(tap);
    rec.flush();
    if (r.status == ParseStatus::kMessageComplete) rec.log() += "<end-eof>";
    if (r.status == ParseStatus::kError)
      rec.log() += "error:" + std::string(parseErrorName(r.error));
  }
  rec.flush();
  return done("");
}

// Whole, byte by byte and every two-way split, with body bytes in place, copied fresh and
// copied into a reused buffer: all must give the same transcript and the same payload bytes.
inline SplitRun runAllSplitsWithPayload(const std::string& input, const Options& o = {}) {
  const SplitRun whole = runSplit(input, {}, o, BodyBytes::kInPlace);
  std::vector<size_t> bytes;
  for (size_t i = 1; i < input.size(); ++i) bytes.push_back(i);
  const char* names[] = {"in place", "fresh copies", "reused buffer"};
  for (BodyBytes where : {BodyBytes::kInPlace, BodyBytes::kFreshCopy, BodyBytes::kReusedBuffer}) {
    const char* how = names[static_cast<int>(where)];
    auto same = [&](const SplitRun& r, const std::string& what) {
      EXPECT_EQ(whole.transcript, r.transcript) << what << " differs (" << how << ")";
      EXPECT_EQ(whole.payload, r.payload) << what << ": payload differs (" << how << ")";
    };
    if (where != BodyBytes::kInPlace) same(runSplit(input, {}, o, where), "whole");
    same(runSplit(input, bytes, o, where), "byte-by-byte");
    for (size_t i = 1; i < input.size(); ++i)
      same(runSplit(input, {i}, o, where), "split at " + std::to_string(i));
  }
  return whole;
}

inline std::string runAllSplits(const std::string& input, const Options& o = {}) {
  return runAllSplitsWithPayload(input, o).transcript;
}

}  // namespace dpuguard::http1
