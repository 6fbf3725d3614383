// Fuzz target: the HTTP/1 response parser, i.e. what an upstream (or a compromised host)
// sends back. Same invariants as the request target: cut-independent transcript, head views
// inside the input. The input also says whether the request was HEAD (no body may follow)
// and the stream ends with the peer's close (close-delimited bodies, truncation).
// Input: byte 0 picks the cut points and bit 0 of it the HEAD flag; the rest is the stream.
#include <cstdlib>
#include <vector>

#include "fuzz/common/fuzz_target.h"
#include "fuzz/common/http1_transcript.h"

namespace {

using namespace dpuguard::http1;

Options responseOptions(uint8_t selector) {
  Options o;
  o.kind = MessageParser::Kind::kResponse;
  o.head_request = (selector & 1) != 0;
  o.finish = true;
  o.limits = smallLimits();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view input = dpuguard::fuzz::asText(data + 1, size - 1);
  const Options o = responseOptions(data[0]);
  const RunSummary whole = runSummary(input, {}, o);
  const size_t cut = input.empty() ? 0 : (data[0] >> 1) % input.size();
  const RunSummary split = runSummary(input, cut == 0 ? std::vector<size_t>{} : std::vector<size_t>{cut}, o);
  if (whole.view_outside_input || split.view_outside_input) std::abort();
  if (whole.transcript != split.transcript) std::abort();
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  if (input.empty()) return "empty";
  const Options o = responseOptions(static_cast<uint8_t>(input[0]));
  return outcomeOf(runSummary(input.substr(1), {}, o), 1) + (o.head_request ? " to-HEAD" : "");
}
