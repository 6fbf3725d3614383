// Fuzz target: the config loader (YAML -> validated Config), which operators feed by hand
// and reloads run in a live process. Invariants:
//   - never a crash, hang or exception: either a Config or a list of errors;
//   - every error names the file and a position inside it (line 0 = whole file, else
//     1..lines+1), and says something;
//   - loading is deterministic: a second load of the same text gives the same answer.
// Input: the whole file.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "fuzz/common/fuzz_target.h"
#include "proxy/loader/config_loader.h"

namespace {

using dpuguard::proxy::ConfigLoader;
using dpuguard::proxy::LoadResult;

constexpr const char* kName = "fuzz.yaml";

std::string summary(const LoadResult& r) {
  if (r.ok()) return "accepted";
  std::string s = "rejected:" + std::to_string(r.errors.size());
  for (const auto& e : r.errors) s += "\n" + e.toString();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(dpuguard::fuzz::asText(data, size));
  const LoadResult r = ConfigLoader::loadString(text, kName);
  if (r.ok() != r.errors.empty()) std::abort();
  const long lines = 1 + static_cast<long>(std::count(text.begin(), text.end(), '\n'));
  for (const auto& e : r.errors) {
    if (e.file != kName || e.message.empty() || e.line < 0 || e.line > lines + 1 || e.column < 0)
      std::abort();
  }
  if (summary(ConfigLoader::loadString(text, kName)) != summary(r)) std::abort();
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  const LoadResult r = ConfigLoader::loadString(std::string(input), kName);
  if (r.ok()) return "accepted";
  std::string first = r.errors.front().message.substr(0, 100);
  for (char& c : first) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  return "rejected:" + std::to_string(r.errors.size()) + "-errors first: " + first;
}
