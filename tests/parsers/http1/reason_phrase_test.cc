// Reason phrases for the statuses dpuguard writes itself (RFC 9110 §15).
#include "parsers/http1/reason_phrase.h"

#include <gtest/gtest.h>

#include "parsers/http1/parse_error.h"

namespace dpuguard::http1 {
namespace {

TEST(ReasonPhraseTest, UsualPhrases) {
  EXPECT_EQ(reasonPhrase(200), "OK");
  EXPECT_EQ(reasonPhrase(404), "Not Found");
  EXPECT_EQ(reasonPhrase(413), "Content Too Large");  // RFC 9110 §15.5.14, was "Payload Too Large"
  EXPECT_EQ(reasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reasonPhrase(504), "Gateway Timeout");
}

TEST(ReasonPhraseTest, UnusualStatusesGetAnEmptyPhrase) {
  EXPECT_EQ(reasonPhrase(299), "");
  EXPECT_EQ(reasonPhrase(0), "");
  EXPECT_EQ(reasonPhrase(-1), "");
}

// Every status a parse error answers with has its phrase.
TEST(ReasonPhraseTest, EveryParseErrorStatusHasOne) {
  for (int i = 1; i < kParseErrorCount; ++i) {
    const auto e = static_cast<ParseError>(i);
    EXPECT_FALSE(reasonPhrase(statusFor(e)).empty()) << parseErrorName(e) << " " << statusFor(e);
  }
}

}  // namespace
}  // namespace dpuguard::http1
