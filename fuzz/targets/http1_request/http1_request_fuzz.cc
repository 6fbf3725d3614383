// Fuzz target: the HTTP/1 request parser (scanner + strict llhttp + field rules), fed whole
// and in pieces cut at input-chosen points (our parser is incremental; bugs live at
// boundaries). Invariants, not just "no crash":
//   - the transcript (heads, body bytes, chunk boundaries, verdict) does not depend on the cuts;
//   - every head view lies inside the bytes fed.
// Input: byte 0 picks the cut points, the rest is the client's byte stream.
#include <cstdlib>
#include <vector>

#include "fuzz/common/fuzz_target.h"
#include "fuzz/common/http1_transcript.h"

namespace {

using namespace dpuguard::http1;

Options requestOptions() {
  Options o;
  o.limits = smallLimits();
  return o;
}

// Two cuts derived from the selector byte: one near the start, one proportional.
std::vector<size_t> cutsFor(uint8_t selector, size_t size) {
  if (size < 2) return {};
  const size_t a = 1 + selector % (size - 1);
  const size_t b = 1 + (static_cast<size_t>(selector) * size / 256) % (size - 1);
  return a == b ? std::vector<size_t>{a} : std::vector<size_t>{std::min(a, b), std::max(a, b)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view input = dpuguard::fuzz::asText(data + 1, size - 1);
  const Options o = requestOptions();
  const RunSummary whole = runSummary(input, {}, o);
  const RunSummary cut = runSummary(input, cutsFor(data[0], input.size()), o);
  if (whole.view_outside_input || cut.view_outside_input) std::abort();
  if (whole.transcript != cut.transcript) std::abort();  // the verdict must not depend on the cuts
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  if (input.empty()) return "empty";
  return outcomeOf(runSummary(input.substr(1), {}, requestOptions()), 1);
}
