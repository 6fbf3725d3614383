// Fuzz target: the HTTP/1 request parser, fed in two pieces split at an input-chosen point
// (our parser is incremental; bugs live at boundaries). Invariants, not just "no crash":
//   - the verdict does not depend on the split;
//   - every head view lies inside the input; consumed never exceeds what was fed.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "parsers/http1/message_parser.h"

namespace {

using dpuguard::http1::Limits;
using dpuguard::http1::MessageParser;
using dpuguard::http1::ParseStatus;

class CountingSink final : public dpuguard::http1::BodySink {
 public:
  void onBodyData(std::string_view d) override { bytes += d.size(); }
  size_t bytes = 0;
};

bool inside(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

// Runs the whole input; returns a transcript of statuses and errors.
std::string run(std::string_view input, size_t split) {
  Limits limits;
  limits.max_header_bytes = 4096;
  limits.max_headers = 32;
  limits.max_uri_bytes = 1024;
  MessageParser p(MessageParser::Kind::kRequest, limits);
  CountingSink sink;
  std::string transcript;
  size_t pos = 0;
  const size_t bounds[2] = {split, input.size()};
  for (size_t end : bounds) {
    bool resume = false;
    for (int guard = 0; (pos < end || resume) && guard < 10000; ++guard) {
      const std::string_view piece = input.substr(pos, end - pos);
      const auto r = p.feed(piece, sink);
      if (r.consumed > piece.size()) std::abort();
      pos += r.consumed;
      resume = r.status == ParseStatus::kHeadComplete;
      if (r.status == ParseStatus::kHeadComplete) {
        const auto& h = p.head();
        if (!inside(h.method, input) || !inside(h.target, input)) std::abort();
        for (const auto& f : h.headers) {
          if (!inside(f.name, input) || !inside(f.value, input)) std::abort();
        }
        transcript += "H";
      } else if (r.status == ParseStatus::kMessageComplete) {
        transcript += "M";
      } else if (r.status == ParseStatus::kError) {
        return transcript + "E" + std::to_string(static_cast<int>(r.error));
      } else if (r.consumed == 0) {
        break;
      }
    }
  }
  return transcript + "/" + std::to_string(sink.bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t split = data[0] % size;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string whole = run(input, input.size());
  const std::string split_run = run(input, std::min(split, input.size()));
  if (whole != split_run) std::abort();  // the verdict must not depend on where bytes were cut
  return 0;
}
