// appendJsonEscaped: any byte sequence becomes the inside of a valid ASCII JSON string.
#include "proxy/core/json_escape.h"

#include <gtest/gtest.h>

#include <string>

namespace dpuguard::proxy {
namespace {

std::string escaped(std::string_view s) {
  std::string out = "[";  // appends, never replaces
  appendJsonEscaped(out, s);
  return out;
}

TEST(JsonEscapeTest, PlainAsciiIsUnchanged) {
  EXPECT_EQ(escaped("GET /v1/models?x=1"), "[GET /v1/models?x=1");
}

TEST(JsonEscapeTest, QuotesAndBackslashes) {
  EXPECT_EQ(escaped(R"(a"b\c)"), R"([a\"b\\c)");
}

TEST(JsonEscapeTest, ControlDeleteAndNonAsciiBytesAreUnicodeEscapes) {
  EXPECT_EQ(escaped(std::string_view("\0\n\x1f\x7f", 4)), R"([\u0000\u000a\u001f\u007f)");
  EXPECT_EQ(escaped("\xc3\xa9\xff"), R"([\u00c3\u00a9\u00ff)");  // bytes, not decoded UTF-8
}

TEST(JsonEscapeTest, EveryByteYieldsPrintableAscii) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  for (char c : escaped(all)) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
}

}  // namespace
}  // namespace dpuguard::proxy
