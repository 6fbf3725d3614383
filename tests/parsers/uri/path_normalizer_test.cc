// Path normalization: RFC 3986 §6.2.2 cases, the escaped-slash policies, and idempotence.
#include "parsers/uri/path_normalizer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace dpuguard::uri {
namespace {

std::string norm(std::string_view in, NormalizeOptions o = {}) {
  std::string out;
  const PathError e = normalizePath(in, o, out);
  return e == PathError::kNone ? out : "error:" + std::to_string(static_cast<int>(e));
}

const std::string kNul = "error:" + std::to_string(static_cast<int>(PathError::kNulByte));
const std::string kSlash = "error:" + std::to_string(static_cast<int>(PathError::kEscapedSlash));
const std::string kBad = "error:" + std::to_string(static_cast<int>(PathError::kBadEscape));

TEST(PathNormalizerTest, RemovesDotSegmentsPerRfc3986) {
  // RFC 3986 §5.2.4 examples and edges.
  EXPECT_EQ(norm("/a/b/c/./../../g"), "/a/g");
  EXPECT_EQ(norm("/mid/content=5/../6"), "/mid/6");
  EXPECT_EQ(norm("/a/."), "/a/");
  EXPECT_EQ(norm("/a/b/.."), "/a/");
  EXPECT_EQ(norm("/.."), "/");
  EXPECT_EQ(norm("/../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(norm("/v1/../admin"), "/admin");
  EXPECT_EQ(norm("/"), "/");
  EXPECT_EQ(norm("/a/..b/c"), "/a/..b/c");  // not a dot segment
  EXPECT_EQ(norm("/a/.b"), "/a/.b");
}

TEST(PathNormalizerTest, DecodesUnreservedAndUppercasesOtherEscapes) {
  EXPECT_EQ(norm("/%7Euser/%41%62c"), "/~user/Abc");
  EXPECT_EQ(norm("/a%2e%2E/b"), "/a../b");
  EXPECT_EQ(norm("/v1/%2e%2e/admin"), "/admin");  // encoded dots are dots
  EXPECT_EQ(norm("/v1/%2E/x"), "/v1/x");
  EXPECT_EQ(norm("/a%20b"), "/a%20b");
  EXPECT_EQ(norm("/a%3fb%3F"), "/a%3Fb%3F");  // reserved stays encoded, upper-cased
  EXPECT_EQ(norm("/%25"), "/%25");            // never double-decoded
  EXPECT_EQ(norm("/%252e%252e/x"), "/%252e%252e/x");
}

TEST(PathNormalizerTest, RefusesNulAndBadEscapes) {
  EXPECT_EQ(norm("/a%00b"), kNul);
  EXPECT_EQ(norm("/a%"), kBad);
  EXPECT_EQ(norm("/a%4"), kBad);
  EXPECT_EQ(norm("/a%zz"), kBad);
  EXPECT_EQ(norm("/a%g1"), kBad);
  EXPECT_EQ(norm("relative"), "error:" + std::to_string(static_cast<int>(PathError::kNotAbsolute)));
  EXPECT_EQ(norm(""), "error:" + std::to_string(static_cast<int>(PathError::kNotAbsolute)));
}

TEST(PathNormalizerTest, EscapedSlashPolicies) {
  NormalizeOptions keep;
  keep.escaped_slashes = EscapedSlashAction::kKeep;
  NormalizeOptions unescape;
  unescape.escaped_slashes = EscapedSlashAction::kUnescape;
  EXPECT_EQ(norm("/v1%2F..%2Fadmin"), kSlash);
  EXPECT_EQ(norm("/a%5cb"), kSlash);
  EXPECT_EQ(norm("/v1%2f..%2fadmin", keep), "/v1%2F..%2Fadmin");  // one segment, not a dot segment
  EXPECT_EQ(norm("/v1%2F..%2Fadmin", unescape), "/admin");
  EXPECT_EQ(norm("/a%5Cb", unescape), "/a\\b");
}

TEST(PathNormalizerTest, MergesSlashesOnlyWhenAsked) {
  NormalizeOptions merge;
  merge.merge_slashes = true;
  EXPECT_EQ(norm("//a///b//"), "//a///b//");
  EXPECT_EQ(norm("//a///b//", merge), "/a/b/");
  EXPECT_EQ(norm("/a//../b", merge), "/b");  // merged first, as nginx does
  EXPECT_EQ(norm("/a//../b"), "/a/b");
}

TEST(PathNormalizerTest, IsIdempotentOnGeneratedPaths) {
  // normalize(normalize(x)) == normalize(x), for every policy, over paths built from the
  // pieces that interact: dots, slashes, escapes of dots/slashes/percent, plain letters.
  const char* pieces[] = {"/", "//", ".", "..", "%2e", "%2E", "%2f", "%5C", "%25", "%41", "%7e", "a", "b", "%3F", "~"};
  std::mt19937 rng(12345);
  for (int mode = 0; mode < 6; ++mode) {
    NormalizeOptions o;
    o.merge_slashes = mode % 2 == 1;
    o.escaped_slashes = static_cast<EscapedSlashAction>(mode / 2);
    for (int i = 0; i < 3000; ++i) {
      std::string path = "/";
      const int n = static_cast<int>(rng() % 10);
      for (int k = 0; k < n; ++k) path += pieces[rng() % std::size(pieces)];
      std::string once;
      if (normalizePath(path, o, once) != PathError::kNone) continue;
      std::string twice;
      ASSERT_EQ(normalizePath(once, o, twice), PathError::kNone) << path;
      EXPECT_EQ(once, twice) << "input " << path << " mode " << mode;
      EXPECT_EQ(once.find("/./"), std::string::npos) << path;
      EXPECT_EQ(once.find("/../"), std::string::npos) << path;
    }
  }
}

}  // namespace
}  // namespace dpuguard::uri
