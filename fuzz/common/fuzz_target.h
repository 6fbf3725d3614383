// What every fuzz target defines (fuzz/targets/<t>/<t>_fuzz.cc). The engines call
// LLVMFuzzerTestOneInput; `fuzz/run report` calls describeInput through the replay driver
// (replay_<t> --describe) to say, for a security reviewer, what each stored input does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// Runs one input and aborts if an invariant breaks.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace dpuguard::fuzz {

// One line, no tabs: the outcome first ("accepted:…", "rejected:<reason>", "incomplete"),
// then optional detail after a space.
std::string describeInput(std::string_view input);

inline std::string_view asText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace dpuguard::fuzz
