// MeasurementLog: canonical encoding, composite, path encoding, bounds.
#include "attest/measurement_log.h"

#include <gtest/gtest.h>

#include "attest/digest.h"

namespace dpuguard::attest {
namespace {

const std::string kA = sha256Hex("a");
const std::string kB = sha256Hex("b");

TEST(MeasurementLog, SameInputsGiveTheSameCompositeAndOrderMatters) {
  MeasurementLog x, y, z;
  ASSERT_TRUE(x.add("config", "/etc/d.yaml", kA));
  ASSERT_TRUE(x.add("rules", "/etc/r.yaml", kB));
  ASSERT_TRUE(y.add("config", "/etc/d.yaml", kA));
  ASSERT_TRUE(y.add("rules", "/etc/r.yaml", kB));
  ASSERT_TRUE(z.add("rules", "/etc/r.yaml", kB));
  ASSERT_TRUE(z.add("config", "/etc/d.yaml", kA));
  EXPECT_EQ(x.composite(), y.composite());
  EXPECT_NE(x.composite(), z.composite());
  EXPECT_EQ(x.canonical(), "0 config " + kA + " /etc/d.yaml\n1 rules " + kB + " /etc/r.yaml\n");
  EXPECT_EQ(x.composite(), sha256Hex(x.canonical()));
  EXPECT_EQ(x.id(), x.composite().substr(0, 16));
}

TEST(MeasurementLog, PathsOfAnyBytesAreOneTokenAndNoTwoEncodeAlike) {
  EXPECT_EQ(encodePath("/a b/\"c\"\\%\n"), "/a%20b/%22c%22%5C%25%0A");
  EXPECT_EQ(encodePath(std::string("\xff", 1)), "%FF");
  EXPECT_NE(encodePath("/a%20b"), encodePath("/a b"));
  EXPECT_TRUE(isEncodedPath(encodePath("/x y\x01")));
  EXPECT_FALSE(isEncodedPath("/a b"));   // a raw space
  EXPECT_FALSE(isEncodedPath("/a%41"));  // 'A' needs no escape: a second spelling
  EXPECT_FALSE(isEncodedPath("/a%2"));   // cut
  EXPECT_FALSE(isEncodedPath("/a%2g"));
  EXPECT_FALSE(isEncodedPath(""));
  MeasurementLog log;
  ASSERT_TRUE(log.add("config", "/no/such dir/x y", kA));
  EXPECT_EQ(log.entries()[0].path, "/no/such%20dir/x%20y");
}

TEST(MeasurementLog, RefusesBadComponentsDigestsAndOverflow) {
  MeasurementLog log;
  EXPECT_FALSE(log.add("Config", "/x", kA));
  EXPECT_FALSE(log.add("con fig", "/x", kA));
  EXPECT_FALSE(log.add(std::string(33, 'a'), "/x", kA));
  EXPECT_FALSE(log.add("config", "/x", kA.substr(1)));
  EXPECT_FALSE(log.add("config", "/x", std::string(64, 'A')));
  EXPECT_FALSE(log.add("config", std::string(5000, 'p'), kA));
  for (size_t i = 0; i < MeasurementLog::kMaxEntries; ++i)
    ASSERT_TRUE(log.add("rules", "/r" + std::to_string(i), kA));
  EXPECT_FALSE(log.add("rules", "/one-more", kA));
  EXPECT_EQ(log.entries().size(), MeasurementLog::kMaxEntries);
}

TEST(MeasurementLog, JsonAndTextNameEveryEntryAndTheComposite) {
  MeasurementLog log;
  ASSERT_TRUE(log.add("executable", "/usr/bin/dpuguard", kA));
  const std::string json = log.json();
  EXPECT_NE(json.find("\"component\":\"executable\""), std::string::npos);
  EXPECT_NE(json.find("\"composite\":\"" + log.composite() + "\""), std::string::npos);
  EXPECT_NE(log.text().find("measurement id  " + log.id()), std::string::npos);
}

}  // namespace
}  // namespace dpuguard::attest
