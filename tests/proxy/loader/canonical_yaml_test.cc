// canonicalYaml: what the measurement log's config entry digests. Layout, comments, quoting
// and key order leave it alone; any value change moves it.
#include "proxy/loader/canonical_yaml.h"

#include <gtest/gtest.h>

namespace dpuguard::proxy {
namespace {

std::string canon(const std::string& yaml) {
  return canonicalYaml(YAML::Load(yaml)).value_or("<refused>");
}

TEST(CanonicalYaml, LayoutCommentsQuotingAndKeyOrderDoNotMatter) {
  const std::string a = canon("b: 1\na: [x, y]  # comment\nc: {d: 'q'}\n");
  EXPECT_EQ(a, R"({"a":["x","y"],"b":"1","c":{"d":"q"}})");
  EXPECT_EQ(canon("# top\nc:\n  d: q\na:\n  - x\n  - \"y\"\nb:    1\n"), a);
}

TEST(CanonicalYaml, EveryValueChangeShows) {
  const std::string a = canon("a: [x, y]\nb: 1\n");
  EXPECT_NE(canon("a: [y, x]\nb: 1\n"), a);  // sequences keep their order
  EXPECT_NE(canon("a: [x, y]\nb: 2\n"), a);
  EXPECT_NE(canon("a: [x, y]\nbb: 1\n"), a);
  EXPECT_NE(canon("a: [x, y]\nb: 1\nc: ~\n"), a);
}

TEST(CanonicalYaml, NoScalarCanForgeStructure) {
  // A value holding the canonical form's own punctuation stays one escaped string.
  EXPECT_EQ(canon("a: 'x\",\"b\":\"y'\n"), R"({"a":"x\x22,\x22b\x22:\x22y"})");
  EXPECT_EQ(canon("a: \"\\n\\\\\"\n"), R"({"a":"\x0a\x5c"})");
  EXPECT_EQ(canon("a: \n"), R"({"a":null})");
}

TEST(CanonicalYaml, AliasBombsAndDeepNestingAreRefusedNotWalked) {
  // Nine levels of ten aliases each: 10^9 scalars if expanded.
  std::string bomb = "a0: &a0 [\"lol\"]\n";
  for (int i = 1; i < 10; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += std::string(j ? "," : "") + "*a" + std::to_string(i - 1);
    bomb += "]\n";
  }
  EXPECT_EQ(canon(bomb), "<refused>");
  EXPECT_EQ(canon(std::string(100, '[') + std::string(100, ']')), "<refused>");
  EXPECT_NE(canon(std::string(60, '[') + std::string(60, ']')), "<refused>");
}

}  // namespace
}  // namespace dpuguard::proxy
