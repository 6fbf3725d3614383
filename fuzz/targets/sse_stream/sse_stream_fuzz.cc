// Fuzz target: text/event-stream as an upstream sends it (parsers/sse), the stream the token
// meter follows. Invariants:
//   - the events do not depend on how the stream is split: fed whole, byte by byte, and in
//     pieces chosen by the input, the same events come out (or the same error);
//   - no event's data exceeds the limit, and pending() never does;
//   - every kEvent consumed at least one byte (progress).
// Input: byte 0 is the piece size for the third split (1..256), the rest is the stream.
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz/common/fuzz_target.h"
#include "parsers/sse/event_stream_parser.h"

namespace {

using namespace dpuguard::sse;

constexpr size_t kLimit = 512;

struct Run {
  std::vector<std::string> events;  // type + '\0' + data
  bool failed = false;
  bool operator==(const Run&) const = default;
};

Run feedIn(std::string_view stream, size_t step) {
  EventStreamParser p(kLimit);
  Run run;
  for (size_t at = 0; at < stream.size() && !run.failed; at += step) {
    std::string_view piece = stream.substr(at, step);
    while (!piece.empty()) {
      const SseResult r = p.feed(piece);
      if (r.consumed > piece.size()) std::abort();
      if (r.status == SseStatus::kError) {
        run.failed = true;
        break;
      }
      if (p.pending() > kLimit) std::abort();
      if (r.status == SseStatus::kEvent) {
        if (r.consumed == 0 || p.event().data.size() > kLimit) std::abort();
        run.events.push_back(std::string(p.event().type) + '\0' + std::string(p.event().data));
      }
      piece.remove_prefix(r.consumed);
    }
  }
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view stream = dpuguard::fuzz::asText(data + 1, size - 1);
  const size_t step = static_cast<size_t>(data[0]) + 1;
  const Run whole = feedIn(stream, stream.size() + 1);
  if (feedIn(stream, 1) != whole) std::abort();
  if (feedIn(stream, step) != whole) std::abort();
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  if (input.empty()) return "empty";
  const Run r = feedIn(input.substr(1), input.size());
  std::string line = r.failed ? "rejected:event_too_large" : "accepted";
  line += " events=" + std::to_string(r.events.size());
  return line;
}
