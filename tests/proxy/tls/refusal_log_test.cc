// RefusalLog: a line per refusal at most once per interval, and the next line says how many
// were left out.
#include "proxy/tls/refusal_log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace dpuguard::proxy::tls {
namespace {

std::string contents(std::FILE* f) {
  std::rewind(f);
  std::string out;
  char buf[512];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

TEST(RefusalLogTest, OneLinePerIntervalAndTheNextSaysHowManyWereLeftOut) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  RefusalLog log(f, 1000);
  EXPECT_TRUE(log.note(5000, "a"));
  EXPECT_FALSE(log.note(5001, "b"));
  EXPECT_FALSE(log.note(5999, "c"));
  EXPECT_TRUE(log.note(6000, "d"));
  EXPECT_TRUE(log.note(9000, "e"));
  EXPECT_EQ(contents(f),
            "dpuguard: a\n"
            "dpuguard: d (and 2 more refused since the last line)\n"
            "dpuguard: e\n");
  std::fclose(f);
}

TEST(RefusalLogTest, TheFirstLineIsWrittenWhateverTheClockSays) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  RefusalLog log(f, 1000);
  EXPECT_TRUE(log.note(0, "first"));
  EXPECT_EQ(contents(f), "dpuguard: first\n");
  std::fclose(f);
}

}  // namespace
}  // namespace dpuguard::proxy::tls
