// ApiKeyTable: the key file's lines and their positioned errors, the Bearer token's form, the
// digest lookup (whole digests compared), and the keys `dpuguard keys add` generates.
#include "proxy/inspect/api_key_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace dpuguard::proxy::inspect {
namespace {

// SHA-256("abc"), FIPS 180-2 appendix B.1.
constexpr std::string_view kAbc =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

std::string errorsOf(std::string_view text) {
  std::vector<ConfigError> errors;
  ApiKeyTable::parse(text, "keys.txt", &errors);
  std::string s;
  for (const ConfigError& e : errors) s += e.toString() + "\n";
  return s;
}

TEST(ApiKeyTableTest, DigestIsSha256OfTheKeyAsSent) {
  ApiKeyTable::Digest d{};
  ASSERT_TRUE(ApiKeyTable::digest("abc", d));
  EXPECT_EQ(ApiKeyTable::digestText(d), "sha256:" + std::string(kAbc));
}

TEST(ApiKeyTableTest, ParsesLinesCommentsAndBlankLines) {
  const std::string text = "# header\n\n   \nsha256:" + std::string(kAbc) +
                           " spiffe://c/ns/a/sa/b  # added today\r\n"
                           "sha256:" +
                           std::string(64, 'A') + "\tteam-b\n";  // upper-case hex, a tab
  std::vector<ConfigError> errors;
  const auto t = ApiKeyTable::parse(text, "keys.txt", &errors);
  EXPECT_TRUE(errors.empty()) << errors.front().toString();
  EXPECT_EQ(t->size(), 2u);
  EXPECT_EQ(t->lookup("abc"), "spiffe://c/ns/a/sa/b");
  EXPECT_EQ(t->lookup("abd"), "");
  EXPECT_EQ(t->lookup(""), "");
}

TEST(ApiKeyTableTest, BadLinesNameFileLineAndColumn) {
  const std::string good = "sha256:" + std::string(kAbc);
  EXPECT_EQ(errorsOf("dpg_secretkey team\n"),
            "keys.txt:1:1: expected 'sha256:<64 hex digits> IDENTITY' (the key's digest)\n");
  EXPECT_EQ(errorsOf("# c\n  sha256:abcd team\n"),
            "keys.txt:2:10: a SHA-256 digest is 64 hex digits (a key itself never goes in this "
            "file; 'dpuguard keys add' writes its digest)\n");
  EXPECT_EQ(errorsOf("sha256:" + std::string(63, 'a') + "g team\n").substr(0, 15),
            "keys.txt:1:8: a");
  EXPECT_EQ(errorsOf(good + "\n"), "keys.txt:1:72: missing the identity after the digest\n");
  EXPECT_EQ(errorsOf(good + " team extra\n"),
            "keys.txt:1:78: unexpected text after the identity (a comment starts with '#')\n");
  EXPECT_EQ(errorsOf(good + " " + std::string(256, 'x') + "\n"),
            "keys.txt:1:73: an identity is 1-255 printable ASCII bytes without spaces or '#'\n");
  EXPECT_EQ(errorsOf(good + " a\n\n" + good + " b\n"),
            "keys.txt:3:1: this digest is already listed on line 1\n");
  // Every bad line is reported, not only the first.
  const std::string three = errorsOf("x\ny\n" + good + " ok\nz\n");
  EXPECT_EQ(std::count(three.begin(), three.end(), '\n'), 3) << three;
}

TEST(ApiKeyTableTest, BearerTokenFollowsRfc9110Credentials) {
  EXPECT_EQ(ApiKeyTable::bearerToken("Bearer dpg_abc-DEF_123"), "dpg_abc-DEF_123");
  EXPECT_EQ(ApiKeyTable::bearerToken("bearer  sk-proj.x~y+z/w=="), "sk-proj.x~y+z/w==");
  EXPECT_EQ(ApiKeyTable::bearerToken(" BEARER k "), "k");  // OWS around the field value
  EXPECT_EQ(ApiKeyTable::bearerToken("Bearer"), "");
  EXPECT_EQ(ApiKeyTable::bearerToken("Bearer "), "");
  EXPECT_EQ(ApiKeyTable::bearerToken("Basic dXNlcjpwYXNz"), "");
  EXPECT_EQ(ApiKeyTable::bearerToken("Bearerk"), "");
  EXPECT_EQ(ApiKeyTable::bearerToken("Bearer\tk"), "");   // 1*SP, not HTAB
  EXPECT_EQ(ApiKeyTable::bearerToken("Bearer a b"), "");  // one token68
  EXPECT_EQ(ApiKeyTable::bearerToken("Bearer a=b"), "");  // '=' only at the end
  EXPECT_EQ(ApiKeyTable::bearerToken("Bearer ===="), "");
  EXPECT_EQ(ApiKeyTable::bearerToken("Bearer " + std::string(ApiKeyTable::kMaxKeyBytes, 'k')),
            std::string(ApiKeyTable::kMaxKeyBytes, 'k'));
  EXPECT_EQ(ApiKeyTable::bearerToken("Bearer " + std::string(ApiKeyTable::kMaxKeyBytes + 1, 'k')),
            "");
}

TEST(ApiKeyTableTest, CheckTellsMissingMalformedUnknownAndKnownApart) {
  const auto t = ApiKeyTable::parse("sha256:" + std::string(kAbc) + " team-a\n", "k", nullptr);
  EXPECT_EQ(t->check("", 0).status, ApiKeyStatus::kMissing);
  EXPECT_EQ(t->check("Basic x", 1).status, ApiKeyStatus::kMalformed);
  EXPECT_EQ(t->check("Bearer abc", 2).status, ApiKeyStatus::kMalformed);  // two fields
  EXPECT_EQ(t->check("Bearer abd", 1).status, ApiKeyStatus::kUnknown);
  const ApiKeyResult ok = t->check("Bearer abc", 1);
  EXPECT_EQ(ok.status, ApiKeyStatus::kKnown);
  EXPECT_EQ(ok.identity, "team-a");
}

TEST(ApiKeyTableTest, ALookupComparesTheWholeDigest) {
  // Stored: SHA-256("abc") with its last byte changed. It hashes to the same bucket as the
  // key "abc" (the bucket is chosen by the first 8 bytes), so only the constant-time equality
  // over all 32 bytes tells them apart.
  std::string near(kAbc);
  near.back() = near.back() == '0' ? '1' : '0';
  const auto t = ApiKeyTable::parse("sha256:" + near + " team-a\n", "k", nullptr);
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ(t->lookup("abc"), "");
  EXPECT_EQ(t->check("Bearer abc", 1).status, ApiKeyStatus::kUnknown);
}

TEST(ApiKeyTableTest, GeneratedKeysAreBearerTokensOf256RandomBits) {
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    std::string key;
    ASSERT_TRUE(ApiKeyTable::generateKey(key));
    ASSERT_EQ(key.size(), 4u + 43u) << key;
    EXPECT_EQ(key.substr(0, 4), "dpg_");
    EXPECT_EQ(key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_",
                                    4),
              std::string::npos)
        << key;
    EXPECT_EQ(ApiKeyTable::bearerToken("Bearer " + key), key);
    // 256 bits in 43 characters: the last one carries 4 bits, its low 2 bits are zero.
    EXPECT_NE(std::string("AEIMQUYcgkosw048").find(key.back()), std::string::npos) << key;
    seen.insert(key);
  }
  EXPECT_EQ(seen.size(), 64u);
}

TEST(ApiKeyTableTest, IdentitiesAreWhatAKeyFileLineCanHold) {
  EXPECT_TRUE(ApiKeyTable::validIdentity("spiffe://cluster/ns/a/sa/b"));
  EXPECT_FALSE(ApiKeyTable::validIdentity(""));
  EXPECT_FALSE(ApiKeyTable::validIdentity("a b"));
  EXPECT_FALSE(ApiKeyTable::validIdentity("a#b"));
  EXPECT_FALSE(ApiKeyTable::validIdentity("a\x01"));
  EXPECT_FALSE(ApiKeyTable::validIdentity(std::string(256, 'x')));
}

}  // namespace
}  // namespace dpuguard::proxy::inspect
