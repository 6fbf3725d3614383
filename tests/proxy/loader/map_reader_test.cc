// readEnum: one table per config enum; a bad value is an error at its FILE:LINE:COL that
// lists every accepted name, with a hint for a near miss. enumName writes a value back.
#include "proxy/loader/map_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "proxy/config/config.h"

namespace dpuguard::proxy {
namespace {

enum class Color : uint8_t { kRed, kGreen, kBlue };
constexpr EnumName<Color> kColorNames[] = {
    {"red", Color::kRed}, {"green", Color::kGreen}, {"blue", Color::kBlue}};

struct Read {
  Color color = Color::kGreen;
  bool ok = false;
  std::string errors;
};

// Reads key `color` of the mapping in `yaml` with MapReader::readEnum.
Read readColor(const std::string& yaml) {
  Context ctx("c.yaml");
  Read out;
  MapReader r(ctx, YAML::Load(yaml), "palette", {"color"});
  r.readEnum("color", out.color, kColorNames);
  for (const ConfigError& e : ctx.errors()) out.errors += e.toString() + "\n";
  out.ok = ctx.errors().empty();
  return out;
}

TEST(ReadEnumTest, EveryNameReadsItsValue) {
  for (const EnumName<Color>& row : kColorNames) {
    const Read r = readColor("color: " + std::string(row.name) + "\n");
    EXPECT_TRUE(r.ok) << r.errors;
    EXPECT_EQ(r.color, row.value) << row.name;
  }
}

TEST(ReadEnumTest, AnAbsentKeyKeepsTheDefault) {
  const Read r = readColor("{}\n");
  EXPECT_TRUE(r.ok) << r.errors;
  EXPECT_EQ(r.color, Color::kGreen);
}

TEST(ReadEnumTest, BadValuesArePositionedAndListTheNames) {
  EXPECT_EQ(readColor("color: bleu\n").errors,
            "c.yaml:1:8: 'color' must be red, green or blue, got 'bleu' (did you mean 'blue'?)\n");
  EXPECT_EQ(readColor("# palette\n\ncolor:   purple\n").errors,
            "c.yaml:3:10: 'color' must be red, green or blue, got 'purple'\n");
  EXPECT_EQ(readColor("color: RED\n").errors,
            "c.yaml:1:8: 'color' must be red, green or blue, got 'RED'\n");  // names are exact
  EXPECT_EQ(readColor("color: [red]\n").errors,
            "c.yaml:1:8: 'color' must be red, green or blue, got a list\n");
  EXPECT_EQ(readColor("color: {red: 1}\n").errors,
            "c.yaml:1:8: 'color' must be red, green or blue, got a mapping\n");
  EXPECT_EQ(readColor("color: ~\n").errors,
            "c.yaml:1:8: 'color' must be red, green or blue, got nothing\n");
  EXPECT_EQ(readColor("color: bleu\n").color, Color::kGreen);  // untouched on error
}

TEST(ReadEnumTest, TheFreeFormReadsAnyNode) {
  Context ctx("w.yaml");
  const YAML::Node list = YAML::Load("[red, blue, pink]");
  Color c = Color::kGreen;
  EXPECT_TRUE(readEnum(ctx, list[1], "'colors' entries", c, kColorNames));
  EXPECT_EQ(c, Color::kBlue);
  EXPECT_FALSE(readEnum(ctx, list[2], "'colors' entries", c, kColorNames));
  ASSERT_EQ(ctx.errors().size(), 1u);
  EXPECT_EQ(ctx.errors()[0].toString(),
            "w.yaml:1:13: 'colors' entries must be red, green or blue, got 'pink'");
}

TEST(ReadEnumTest, TwoNamesAndOneName) {
  Context ctx("t.yaml");
  LbPolicy lb = LbPolicy::kRoundRobin;
  EXPECT_FALSE(readEnum(ctx, YAML::Load("random"), "'lb'", lb, kLbPolicyNames));
  constexpr EnumName<int> kOnly[] = {{"only", 1}};
  int v = 0;
  EXPECT_FALSE(readEnum(ctx, YAML::Load("other"), "'x'", v, kOnly));
  ASSERT_EQ(ctx.errors().size(), 2u);
  EXPECT_EQ(ctx.errors()[0].message, "'lb' must be round_robin or least_request, got 'random'");
  EXPECT_EQ(ctx.errors()[1].message, "'x' must be only, got 'other'");
}

TEST(EnumNameTest, WritesTheSpellingTheLoaderReads) {
  EXPECT_EQ(enumName(kLbPolicyNames, LbPolicy::kLeastRequest), "least_request");
  EXPECT_EQ(enumName(kEscapedSlashNames, uri::EscapedSlashAction::kUnescape), "unescape");
  EXPECT_EQ(enumName(kPolicyModeNames, PolicyMode::kEnforce), "enforce");
  EXPECT_EQ(enumName(kRuleActionNames, RuleAction::kDeny), "deny");
  EXPECT_EQ(enumName(kColorNames, static_cast<Color>(9)), "");
  static_assert(enumName(kColorNames, Color::kBlue) == "blue");
}

}  // namespace
}  // namespace dpuguard::proxy
