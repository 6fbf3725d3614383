// Runs MessageParser over an input cut into given pieces and returns one comparable
// transcript of what it reported (heads, body bytes, chunk boundaries, ends, errors), so
// that every way of splitting an input can be demanded to give the same one. Shared by the
// fuzz targets and the unit tests (tests/parsers/http1/parse_transcript.h).
#pragma once

#include <string>
#include <string_view>
#include <utility>
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

// Small limits, so that short fuzz inputs reach every limit path.
inline Limits smallLimits() {
  Limits l;
  l.max_header_bytes = 4096;
  l.max_headers = 32;
  l.max_uri_bytes = 1024;
  l.max_header_value_bytes = 2048;
  l.max_chunk_ext_bytes = 64;
  l.max_trailer_bytes = 512;
  return l;
}

struct Options {
  MessageParser::Kind kind = MessageParser::Kind::kRequest;
  Limits limits{};
  bool head_request = false;
  bool finish = false;  // call finish() at the end (peer closed)
};

// What one run reported, summed up: how many heads and whole messages, and the error.
struct RunSummary {
  std::string transcript;
  int heads = 0;
  int messages = 0;
  ParseError error = ParseError::kNone;
  bool view_outside_input = false;  // a head view pointed outside the bytes fed: a bug
  std::vector<std::pair<size_t, size_t>> head_spans;  // [begin, end) of each head in the input
};

inline bool insideOf(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

inline bool headInside(const MessageHead& h, std::string_view buf) {
  bool ok = insideOf(h.method, buf) && insideOf(h.target, buf) && insideOf(h.reason, buf) && insideOf(h.host, buf);
  for (const HeaderField& f : h.headers) ok = ok && insideOf(f.name, buf) && insideOf(f.value, buf);
  return ok;
}

// Feeds `input` in the pieces given by `cuts` (ascending offsets), restarting after each
// pause, and returns the transcript and its summary.
inline RunSummary runSummary(std::string_view input, const std::vector<size_t>& cuts, const Options& o = {}) {
  MessageParser p(o.kind, o.limits);
  p.setHeadRequest(o.head_request);
  Recorder rec;
  RunSummary s;
  std::vector<size_t> bounds = cuts;
  bounds.push_back(input.size());
  size_t pos = 0;
  for (size_t end : bounds) {
    // After a head, feed again even with nothing left: a bodiless message ends there.
    bool resume = false;
    while (pos < end || resume) {
      ParseResult r = p.feed(input.substr(pos, end - pos), rec);
      pos += r.consumed;
      resume = r.status == ParseStatus::kHeadComplete;
      if (r.status == ParseStatus::kHeadComplete) {
        rec.flush();
        rec.log() += describeHead(p.head());
        s.view_outside_input |= !headInside(p.head(), input);
        s.head_spans.emplace_back(pos - p.head().head_bytes, pos);
        ++s.heads;
      } else if (r.status == ParseStatus::kMessageComplete) {
        rec.flush();
        rec.log() += "<end>";
        ++s.messages;
      } else if (r.status == ParseStatus::kError) {
        rec.flush();
        s.error = r.error;
        s.transcript = rec.log() + "error:" + std::string(parseErrorName(r.error));
        return s;
      } else {
        break;
      }
    }
  }
  if (o.finish) {
    ParseResult r = p.finish(rec);
    rec.flush();
    if (r.status == ParseStatus::kMessageComplete) {
      rec.log() += "<end-eof>";
      ++s.messages;
    }
    if (r.status == ParseStatus::kError) {
      s.error = r.error;
      rec.log() += "error:" + std::string(parseErrorName(r.error));
    }
  } else {
    rec.flush();
  }
  s.transcript = std::move(rec.log());
  return s;
}

inline std::string run(std::string_view input, const std::vector<size_t>& cuts, const Options& o = {}) {
  return runSummary(input, cuts, o).transcript;
}

// One line for a report: "rejected:<error>", "accepted:<n>-messages", or "incomplete", then
// " heads=B-E,..." with the byte span of every head the parser completed (offsets into the
// stream), so that a reviewer's tags can be computed on exactly the bytes parsed as heads.
inline std::string outcomeOf(const RunSummary& s, size_t offset = 0) {
  std::string out;
  if (s.error != ParseError::kNone) {
    out = "rejected:" + std::string(parseErrorName(s.error));
  } else if (s.messages == 0) {
    out = s.heads == 0 ? "incomplete" : "incomplete-body";
  } else {
    out = "accepted:" + std::to_string(s.messages) + (s.messages == 1 ? "-message" : "-messages");
  }
  for (size_t i = 0; i < s.head_spans.size(); ++i) {
    out += (i == 0 ? " heads=" : ",") + std::to_string(s.head_spans[i].first + offset) + "-" +
           std::to_string(s.head_spans[i].second + offset);
  }
  return out;
}

}  // namespace dpuguard::http1
