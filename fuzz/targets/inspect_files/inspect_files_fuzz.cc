// Fuzz target: the inspection files operators write or review by hand. The first byte picks
// the parser, the rest is the file:
//   even: a DPI rule file (config/rules/*.yaml); when it loads cleanly and its patterns are
//         small, they are compiled with Vectorscan and scanned against the input itself;
//   odd:  an edge baseline (policy learn/enforce).
// Invariants: never a crash or exception; every error names the file and a line inside it;
// an accepted baseline formats to text that parses back to the same edges.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "fuzz/common/fuzz_target.h"
#include "proxy/inspect/edge_baseline.h"
#include "proxy/inspect/signature_set.h"
#include "proxy/loader/signature_file_loader.h"

namespace {

using dpuguard::proxy::ConfigError;
using dpuguard::proxy::inspect::EdgeBaseline;
using dpuguard::proxy::inspect::Signature;
using dpuguard::proxy::inspect::SignatureSet;

constexpr const char* kName = "fuzz.yaml";
constexpr size_t kMaxCompiledPatternBytes = 256;  // keeps Vectorscan compile time bounded

void checkErrors(const std::vector<ConfigError>& errors, const std::string& text) {
  const long lines = 1 + static_cast<long>(std::count(text.begin(), text.end(), '\n'));
  for (const ConfigError& e : errors) {
    if (e.file != kName || e.message.empty() || e.line < 0 || e.line > lines + 1 || e.column < 0)
      std::abort();
  }
}

std::string ruleFileOutcome(const std::string& text, bool compile) {
  std::vector<ConfigError> errors;
  std::vector<Signature> sigs = dpuguard::proxy::loadSignatureText(text, kName, &errors);
  checkErrors(errors, text);
  if (!errors.empty()) return "rejected:rules " + errors.front().message.substr(0, 80);
  size_t bytes = 0;
  for (const Signature& s : sigs) bytes += s.pattern.size();
  if (!compile || bytes > kMaxCompiledPatternBytes)
    return "accepted:rules " + std::to_string(sigs.size());
  ConfigError error;
  const auto set = SignatureSet::compile(sigs, &error);
  if (!set) {
    if (error.message.empty()) std::abort();
    return "rejected:pattern " + error.message.substr(0, 80);
  }
  dpuguard::proxy::inspect::SignatureScratch scratch;
  dpuguard::proxy::inspect::Matches m;
  for (auto w : {dpuguard::proxy::inspect::Where::kPath, dpuguard::proxy::inspect::Where::kQuery,
                 dpuguard::proxy::inspect::Where::kHeader}) {
    set->scan(w, text, scratch.forSet(*set), m);
  }
  dpuguard::proxy::inspect::BodyScan body;
  body.start(set.get(), scratch.forSet(*set));
  body.feed(std::string_view(text).substr(0, text.size() / 2), m);
  body.feed(std::string_view(text).substr(text.size() / 2), m);
  body.finish(m);
  if (m.count > dpuguard::proxy::inspect::Matches::kMaxMatches) std::abort();
  return "accepted:compiled " + std::to_string(sigs.size()) + " matches " + std::to_string(m.count);
}

std::string baselineOutcome(const std::string& text) {
  std::vector<ConfigError> errors;
  const EdgeBaseline b = EdgeBaseline::parse(text, kName, &errors);
  checkErrors(errors, text);
  std::vector<ConfigError> again;
  const EdgeBaseline round = EdgeBaseline::parse(EdgeBaseline::format(b.edges()), kName, &again);
  if (!again.empty() || round.edges() != b.edges()) std::abort();
  for (const auto& e : b.edges()) {
    if (!b.contains(e.first, e.second)) std::abort();
  }
  if (!errors.empty()) return "rejected:baseline " + errors.front().message.substr(0, 80);
  return "accepted:baseline " + std::to_string(b.edges().size()) + " edges";
}

std::string outcome(const uint8_t* data, size_t size, bool compile) {
  if (size == 0) return "rejected:empty";
  const std::string text(dpuguard::fuzz::asText(data + 1, size - 1));
  return (data[0] & 1) == 0 ? ruleFileOutcome(text, compile) : baselineOutcome(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  outcome(data, size, true);
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  std::string s = outcome(reinterpret_cast<const uint8_t*>(input.data()), input.size(), true);
  for (char& c : s) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  return s;
}
