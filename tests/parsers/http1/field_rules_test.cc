// field_rules: which fields cross a hop that frames the message anew (the shm host channel),
// and the Content-Length grammar.
#include "parsers/http1/field_rules.h"

#include <gtest/gtest.h>

#include <string>

namespace dpuguard::http1 {
namespace {

TEST(FieldRulesTest, ReframingHopPassesEndToEndFieldsAndHostOnly) {
  for (const char* name : {"Content-Type", "x-request-id", "Host", "HOST", "Authorization", "Via"}) {
    EXPECT_TRUE(passesReframingHop(name)) << name;
  }
  for (const char* name : {"Content-Length", "transfer-encoding", "Transfer_Encoding", "Content_Length", "Connection",
                           "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Connection", "HTTP2-Settings",
                           "Expect", "Proxy-Authorization"}) {
    EXPECT_FALSE(passesReframingHop(name)) << name;
  }
}

TEST(FieldRulesTest, ContentLengthIsDigitsLeadingZerosIncluded) {
  struct Valid {
    std::string value;
    uint64_t length;
  };
  const Valid valid[] = {
      {"0", 0},
      {"5", 5},
      {"005", 5},
      {"000", 0},
      {std::string(299, '0') + "5", 5},
      {"999999999999999999", 999999999999999999ull},
      {"000999999999999999999", 999999999999999999ull},
  };
  for (const Valid& v : valid) {
    uint64_t length = 12345;
    EXPECT_EQ(parseContentLength(v.value, &length), ParseError::kNone) << v.value;
    EXPECT_EQ(length, v.length) << v.value;
  }
  // No signs, lists, spaces, hex or empty values; more than 18 digits after the leading zeros
  // (so 2^63 and beyond, and nothing that could overflow) is refused.
  for (const char* bad :
       {"", "+5", "-5", "5,5", "5 5", "5\t5", "0x5", "5a", " 5", "5 ", "1000000000000000000",
        "9223372036854775808", "18446744073709551616", "99999999999999999999999999"}) {
    uint64_t length = 12345;
    EXPECT_EQ(parseContentLength(bad, &length), ParseError::kInvalidContentLength) << bad;
    EXPECT_EQ(length, 12345u) << bad;
  }
}

TEST(FieldRulesTest, TcharIsTheRfc9110TokenSet) {
  std::string tchars;
  for (int c = 0; c < 256; ++c) {
    if (isTchar(static_cast<unsigned char>(c))) tchars += static_cast<char>(c);
  }
  EXPECT_EQ(tchars,
            "!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~");
}

}  // namespace
}  // namespace dpuguard::http1
