// Test support: the transcript runner shared with the fuzz targets, plus the gtest check
// that whole, byte-by-byte and every two-way split feeding agree.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fuzz/common/http1_transcript.h"

namespace dpuguard::http1 {

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
