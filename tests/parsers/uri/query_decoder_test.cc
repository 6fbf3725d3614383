// Query form-decoding for signatures: '+' and %XX once, malformed escapes kept as they are.
#include "parsers/uri/query_decoder.h"

#include <gtest/gtest.h>

#include <string>

namespace dpuguard::uri {
namespace {

std::string decoded(std::string_view q) {
  std::string out = "untouched";
  return decodeQuery(q, out) ? out : "none:" + out;
}

TEST(QueryDecoderTest, DecodesPlusAndEscapesOnce) {
  EXPECT_EQ(decoded("id=1+UNION%20SELECT%20a"), "id=1 UNION SELECT a");
  EXPECT_EQ(decoded("q=a%2Bb%2fc"), "q=a+b/c");            // an encoded '+' is a plus, not a space
  EXPECT_EQ(decoded("f=%252e%252e"), "f=%2e%2e");          // once: double encodings stay for the raw rules
  EXPECT_EQ(decoded("x=%00y"), std::string("x=\0y", 4));   // a NUL is scanned like any byte
}

TEST(QueryDecoderTest, KeepsMalformedEscapes) {
  EXPECT_EQ(decoded("a=%zz&b=%4"), "a=%zz&b=%4");
  EXPECT_EQ(decoded("%"), "%");
  EXPECT_EQ(decoded("a=%4g%41"), "a=%4gA");
}

TEST(QueryDecoderTest, NothingToDecodeLeavesTheBufferAlone) {
  EXPECT_EQ(decoded("page=2&sort=created_at"), "none:untouched");
  EXPECT_EQ(decoded(""), "none:untouched");
}

}  // namespace
}  // namespace dpuguard::uri
