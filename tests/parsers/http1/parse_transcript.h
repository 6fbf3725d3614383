// Test support: runs MessageParser over an input cut into given pieces and returns one
// comparable transcript of what it reported (heads, body bytes, chunk boundaries, ends,
// errors), so tests can demand that every way of splitting the input gives the same one.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parsers/http1/message_parser.h"

namespace dpuguard::http1 {


// Records what the parser reported as one comparable transcript.
class Recorder final : public BodySink {
 public:
  void onBodyData(std::string_view d) override { body_ += d; }
  void onChunkStart(uint64_t size) override { flush(); log_ += "chunk(" + std::to_string(size) + ")"; }
  void onChunkEnd() override { flush(); log_ += "/chunk"; }
  void flush() {
    if (!body_.empty()) log_ += "body[" + body_ + "]";
    body_.clear();
  }
  std::string& log() { return log_; }

 private:
  std::string body_;
  std::string log_;
};

inline std::string describeHead(const MessageHead& h) {
  std::string s = "head{";
  if (!h.method.empty()) s += std::string(h.method) + " " + std::string(h.target) + " ";
  if (h.status != 0) s += std::to_string(h.status) + " ";
  s += std::to_string(h.version_major) + "." + std::to_string(h.version_minor);
  for (const HeaderField& f : h.headers) s += "|" + std::string(f.name) + "=" + std::string(f.value);
  if (h.chunked) s += " chunked";
  if (h.has_content_length) s += " cl=" + std::to_string(h.content_length);
  s += h.keep_alive ? " ka" : " close";
  return s + "}";
}

struct Options {
  MessageParser::Kind kind = MessageParser::Kind::kRequest;
  Limits limits{};
  bool head_request = false;
  bool finish = false;  // call finish() at the end (peer closed)
};

// Feeds `input` in the pieces given by `cuts` (offsets), restarting after each pause,
// and returns the transcript.
inline std::string run(const std::string& input, const std::vector<size_t>& cuts, const Options& o = {}) {
  MessageParser p(o.kind, o.limits);
  p.setHeadRequest(o.head_request);
  Recorder rec;
  std::vector<size_t> bounds = cuts;
  bounds.push_back(input.size());
  size_t pos = 0;
  for (size_t end : bounds) {
    // After a head, feed again even with nothing left: a bodiless message ends there.
    bool resume = false;
    while (pos < end || resume) {
      ParseResult r = p.feed(std::string_view(input).substr(pos, end - pos), rec);
      pos += r.consumed;
      resume = r.status == ParseStatus::kHeadComplete;
      if (r.status == ParseStatus::kHeadComplete) {
        rec.flush();
        rec.log() += describeHead(p.head());
      } else if (r.status == ParseStatus::kMessageComplete) {
        rec.flush();
        rec.log() += "<end>";
      } else if (r.status == ParseStatus::kError) {
        rec.flush();
        return rec.log() + "error:" + std::string(parseErrorName(r.error));
      } else {
        break;
      }
    }
  }
  if (o.finish) {
    ParseResult r = p.finish(rec);
    rec.flush();
    if (r.status == ParseStatus::kMessageComplete) rec.log() += "<end-eof>";
    if (r.status == ParseStatus::kError) rec.log() += "error:" + std::string(parseErrorName(r.error));
  } else {
    rec.flush();
  }
  return rec.log();
}

// Whole, byte by byte and every two-way split must agree.
inline std::string runAllSplits(const std::string& input, const Options& o = {}) {
  const std::string whole = run(input, {}, o);
  std::vector<size_t> bytes;
  for (size_t i = 1; i < input.size(); ++i) bytes.push_back(i);
  EXPECT_EQ(whole, run(input, bytes, o)) << "byte-by-byte differs";
  for (size_t i = 1; i < input.size(); ++i) {
    EXPECT_EQ(whole, run(input, {i}, o)) << "split at " << i << " differs";
  }
  return whole;
}

}  // namespace dpuguard::http1
