// Expectation: parsing and the one-line verdict on a log.
#include "attest/expectation.h"

#include <gtest/gtest.h>

#include "attest/digest.h"

namespace dpuguard::attest {
namespace {

const std::string kOld = sha256Hex("old");
const std::string kNew = sha256Hex("new");
const std::string kCfg = sha256Hex("cfg");

MeasurementLog logOf(const std::string& exe) {
  MeasurementLog log;
  EXPECT_TRUE(log.add("executable", "/usr/bin/dpuguard", exe));
  EXPECT_TRUE(log.add("config", "/etc/d.yaml", kCfg));
  return log;
}

Expectation parsed(const std::string& json) {
  Expectation e;
  std::string why;
  EXPECT_TRUE(Expectation::parse(json, &e, &why)) << why;
  return e;
}

std::string parseError(const std::string& json) {
  Expectation e;
  std::string why;
  EXPECT_FALSE(Expectation::parse(json, &e, &why));
  return why;
}

TEST(Expectation, SeveralValuesPerComponentForARollingUpgrade) {
  const Expectation e =
      parsed(R"({"expect":[{"component":"executable","sha256":[")" + kOld + R"(",")" + kNew +
             R"("]},{"component":"config","path":"/etc/d.yaml","sha256":")" + kCfg + R"("}]})");
  EXPECT_EQ(e.check(logOf(kOld)), "");
  EXPECT_EQ(e.check(logOf(kNew)), "");
  const std::string other = sha256Hex("other");
  EXPECT_EQ(e.check(logOf(other)), "component 'executable' (/usr/bin/dpuguard) differs: sha256 " +
                                       other + " is not an expected value");
}

TEST(Expectation, AnUnexpectedOrMissingComponentIsNamed) {
  const Expectation e = parsed(Expectation::fromLog(logOf(kOld)));
  EXPECT_EQ(e.check(logOf(kOld)), "");
  MeasurementLog more = logOf(kOld);
  ASSERT_TRUE(more.add("rules", "/etc/r.yaml", kCfg));
  EXPECT_EQ(e.check(more), "component 'rules' (/etc/r.yaml) is not in the expectation");
  MeasurementLog fewer;
  ASSERT_TRUE(fewer.add("executable", "/usr/bin/dpuguard", kOld));
  EXPECT_EQ(e.check(fewer), "expected component 'config' (/etc/d.yaml) is missing from the log");
  MeasurementLog moved;
  ASSERT_TRUE(moved.add("executable", "/usr/bin/dpuguard", kOld));
  ASSERT_TRUE(moved.add("config", "/etc/other.yaml", kCfg));
  EXPECT_EQ(e.check(moved), "component 'config' (/etc/other.yaml) is not in the expectation");
}

TEST(Expectation, KeysTwiceUnknownKeysAndRepeatedEntriesAreRefused) {
  const std::string entry =
      R"({"component":"config","path":"/etc/d.yaml","sha256":")" + kCfg + R"("})";
  EXPECT_EQ(
      parseError(R"({"expect":[)" + entry + "," + entry + "]}"),
      "expect entry 1 repeats expect entry 0 (component 'config', path '/etc/d.yaml'): list every "
      "accepted digest in one entry's sha256");
  EXPECT_EQ(parseError(R"({"expect":[{"component":"config","paht":"/etc/d.yaml","sha256":")" +
                       kCfg + R"("}]})"),
            "expect entry 0 has an unknown key 'paht'");
  EXPECT_EQ(parseError(R"({"expect":[{"component":"config","component":"executable","sha256":")" +
                       kCfg + R"("}]})"),
            "expect entry 0 gives 'component' twice");
  EXPECT_EQ(parseError(R"({"expect":[],"composite":"00"})"),
            "the expectation has an unknown key 'composite'");
}

TEST(Expectation, MalformedExpectationsAreRefused) {
  EXPECT_EQ(parseError("{}"), "the expectation needs an 'expect' list");
  EXPECT_EQ(parseError(R"({"expect":[{"sha256":")" + kOld + R"("}]})"),
            "expect entry 0 needs a 'component'");
  EXPECT_EQ(parseError(R"({"expect":[{"component":"config"}]})"),
            "expect entry 0 needs 'sha256': a digest or a list of them");
  EXPECT_EQ(parseError(R"({"expect":[{"component":"config","sha256":"ABC"}]})"),
            "expect entry 0: 'ABC' is not 64 lower-case hex digits");
  EXPECT_EQ(
      parseError(R"({"expect":[{"component":"config","path":"a b","sha256":")" + kOld + R"("}]})"),
      "expect entry 0: 'path' is not a percent-encoded path as the log writes it");
  EXPECT_EQ(parseError(std::string(Expectation::kMaxBytes + 1, ' ')),
            "the expectation is larger than 1048576 bytes");
}

}  // namespace
}  // namespace dpuguard::attest
