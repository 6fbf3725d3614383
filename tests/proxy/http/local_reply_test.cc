// Local replies: the status and message come from the Outcome table unless the caller carries
// more precise ones; the body is the OpenAI error shape and the framing is exact.
#include "proxy/http/local_reply.h"

#include <gtest/gtest.h>

#include <string>

namespace dpuguard::proxy {
namespace {

std::string bodyOf(const std::string& reply) {
  return reply.substr(reply.find("\r\n\r\n") + 4);
}

TEST(LocalReplyTest, StatusAndMessageFromTheOutcomeRow) {
  std::string out;
  EXPECT_EQ(writeLocalReply(Outcome::kNoRoute, false, out), 404);
  const std::string body =
      "{\"error\":{\"message\":\"no route matches this request\","
      "\"type\":\"dpuguard_error\",\"param\":null,\"code\":\"no_route\"}}\n";
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body);
}

TEST(LocalReplyTest, UpstreamFailuresAnswerTheirOwnStatus) {
  for (const auto& [o, status] : {std::pair{Outcome::kUpstreamConnectFailed, 502},
                                  {Outcome::kUpstreamReset, 502},
                                  {Outcome::kUpstreamProtocolError, 502},
                                  {Outcome::kUpstreamConnectTimeout, 504},
                                  {Outcome::kRouteTimeout, 504},
                                  {Outcome::kIdleTimeout, 504}}) {
    std::string out;
    EXPECT_EQ(writeLocalReply(o, true, out), status) << outcomeName(o);
    EXPECT_EQ(out.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0), 0u) << out;
    EXPECT_NE(out.find("Connection: close\r\n\r\n"), std::string::npos);
    EXPECT_NE(bodyOf(out).find("\"code\":\"" + std::string(outcomeName(o)) + "\""),
              std::string::npos)
        << out;
  }
}

TEST(LocalReplyTest, CarriedStatusAndDetail) {
  std::string out;
  ReplyDetail d{.status = 404,
                .message = "the model does not exist",
                .code = "model_not_found",
                .type = "invalid_request_error",
                .param = "model"};
  EXPECT_EQ(writeLocalReply(Outcome::kDenied, false, out, d), 404);
  EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << out;
  EXPECT_EQ(
      bodyOf(out),
      "{\"error\":{\"message\":\"the model does not exist\",\"type\":\"invalid_request_error\","
      "\"param\":\"model\",\"code\":\"model_not_found\"}}\n");
  // A fixed row keeps its status whatever the caller carries.
  out.clear();
  EXPECT_EQ(writeLocalReply(Outcome::kRateLimited, false, out, {.status = 403, .retry_after_s = 7}),
            429);
  EXPECT_NE(out.find("\r\nRetry-After: 7\r\n"), std::string::npos) << out;
  // A parse error carries its own status and names itself as the message.
  out.clear();
  EXPECT_EQ(writeLocalReply(Outcome::kBadRequest, true, out,
                            {.status = 431, .message = "head_too_large"}),
            431);
  EXPECT_EQ(out.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u) << out;
  EXPECT_NE(bodyOf(out).find("\"message\":\"head_too_large\""), std::string::npos);
}

TEST(LocalReplyTest, AnUnauthorizedReplyChallengesForABearerToken) {
  std::string out;
  ReplyDetail d{.message = "Incorrect API key provided.",
                .code = "invalid_api_key",
                .type = "invalid_request_error",
                .www_authenticate = "Bearer"};
  EXPECT_EQ(writeLocalReply(Outcome::kUnauthorized, false, out, d), 401);
  EXPECT_EQ(out.rfind("HTTP/1.1 401 Unauthorized\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("\r\nWWW-Authenticate: Bearer\r\n"), std::string::npos) << out;
  EXPECT_EQ(bodyOf(out),
            "{\"error\":{\"message\":\"Incorrect API key provided.\",\"type\":"
            "\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}\n");
  out.clear();
  writeLocalReply(Outcome::kDenied, false, out);
  EXPECT_EQ(out.find("WWW-Authenticate"), std::string::npos);
}

// Status lines always carry the usual phrase: a 505 once went out as "HTTP/1.1 505 ".
TEST(LocalReplyTest, EveryStatusLineHasItsPhrase) {
  for (int i = 0; i < kOutcomeCount; ++i) {
    std::string out;
    const int status = writeLocalReply(static_cast<Outcome>(i), true, out);
    EXPECT_EQ(out.find("HTTP/1.1 " + std::to_string(status) + " \r\n"), std::string::npos) << out;
  }
  std::string out;
  writeLocalReply(Outcome::kBadRequest, true, out,
                  {.status = 505, .message = "unsupported_version"});
  EXPECT_EQ(out.rfind("HTTP/1.1 505 HTTP Version Not Supported\r\n", 0), 0u) << out;
}

TEST(LocalReplyTest, AnOutcomeWithoutAReplyIsStillWellFormed) {
  std::string out;
  EXPECT_EQ(writeLocalReply(Outcome::kProxied, true, out), 500);
  EXPECT_EQ(out.rfind("HTTP/1.1 500 Internal Server Error\r\n", 0), 0u) << out;
  EXPECT_NE(bodyOf(out).find("\"message\":\"internal error\""), std::string::npos);
}

TEST(LocalReplyTest, MessageStaysValidJson) {
  std::string out;
  writeLocalReply(Outcome::kDenied, false, out, {.message = "a \"quoted\" \\ and\ta tab"});
  EXPECT_NE(bodyOf(out).find(R"("message":"a \"quoted\" \\ anda tab")"), std::string::npos) << out;
}

}  // namespace
}  // namespace dpuguard::proxy
