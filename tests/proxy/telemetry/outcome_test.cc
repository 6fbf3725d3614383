// The Outcome table: names are stable metric labels, every replying outcome has a status
// and a message, and only kCarried rows take the status the caller carries.
#include "proxy/telemetry/outcome.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace dpuguard::proxy {
namespace {

TEST(OutcomeTest, RowsFollowTheEnumAndNamesAreUniqueSnakeCase) {
  std::set<std::string_view> names;
  for (int i = 0; i < kOutcomeCount; ++i) {
    const auto o = static_cast<Outcome>(i);
    const OutcomeInfo& row = outcomeInfo(o);
    EXPECT_EQ(row.outcome, o) << i;
    EXPECT_EQ(outcomeName(o), row.name);
    EXPECT_TRUE(names.insert(row.name).second) << row.name;
    ASSERT_FALSE(row.name.empty()) << i;
    for (char c : row.name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << row.name;
  }
}

// Metrics labels and flow-log reasons operators alert on (README "Errors").
TEST(OutcomeTest, DocumentedNamesAndStatuses) {
  const struct {
    Outcome o;
    std::string_view name;
    int status;
  } documented[] = {
      {Outcome::kProxied, "proxied", 0},
      {Outcome::kBadRequest, "bad_request", 400},
      {Outcome::kNoRoute, "no_route", 404},
      {Outcome::kExpectationFailed, "expectation_failed", 417},
      {Outcome::kBodyTooLarge, "body_too_large", 413},
      {Outcome::kHeaderTimeout, "header_timeout", 408},
      {Outcome::kBodyTimeout, "body_timeout", 408},
      {Outcome::kNoHealthyUpstream, "no_healthy_upstream", 503},
      {Outcome::kUpstreamConnectFailed, "upstream_connect_failed", 502},
      {Outcome::kUpstreamTlsFailed, "upstream_tls_failed", 502},
      {Outcome::kUpstreamConnectTimeout, "upstream_connect_timeout", 504},
      {Outcome::kUpstreamReset, "upstream_reset", 502},
      {Outcome::kUpstreamProtocolError, "upstream_protocol_error", 502},
      {Outcome::kRouteTimeout, "route_timeout", 504},
      {Outcome::kIdleTimeout, "idle_timeout", 504},
      {Outcome::kClientAborted, "client_aborted", 0},
      {Outcome::kDraining, "draining", 0},
      {Outcome::kDenied, "denied", 403},
      {Outcome::kInvalidRequest, "invalid_request", 400},
      {Outcome::kRateLimited, "rate_limited", 429},
      {Outcome::kBudgetCut, "budget_cut", 0},
      {Outcome::kCompletionCut, "completion_cut", 0},
      {Outcome::kCompletionBlocked, "completion_blocked", 502},
      {Outcome::kUnauthorized, "unauthorized", 401},
  };
  ASSERT_EQ(std::size(documented), static_cast<size_t>(kOutcomeCount));
  for (const auto& d : documented) {
    EXPECT_EQ(outcomeName(d.o), d.name);
    EXPECT_EQ(replyStatus(d.o), d.status) << d.name;
    EXPECT_EQ(outcomeInfo(d.o).reason.empty(), d.status == 0) << d.name;
  }
}

TEST(OutcomeTest, OnlyCarriedRowsTakeTheCallersStatus) {
  EXPECT_EQ(outcomeInfo(Outcome::kDenied).source, ReplyStatus::kCarried);
  EXPECT_EQ(replyStatus(Outcome::kDenied, 404), 404);  // model_not_found
  EXPECT_EQ(replyStatus(Outcome::kDenied, 0), 403);    // none carried: the usual one
  EXPECT_EQ(replyStatus(Outcome::kDenied, 99), 403);   // not a status
  EXPECT_EQ(replyStatus(Outcome::kDenied, 600), 403);
  EXPECT_EQ(replyStatus(Outcome::kBadRequest, 431), 431);
  EXPECT_EQ(replyStatus(Outcome::kBadRequest, 505), 505);
  EXPECT_EQ(outcomeInfo(Outcome::kNoRoute).source, ReplyStatus::kFixed);
  EXPECT_EQ(replyStatus(Outcome::kNoRoute, 500), 404);
  EXPECT_EQ(replyStatus(Outcome::kRateLimited, 403), 429);
  EXPECT_EQ(outcomeInfo(Outcome::kProxied).source, ReplyStatus::kNone);
  EXPECT_EQ(replyStatus(Outcome::kProxied, 200), 0);
}

}  // namespace
}  // namespace dpuguard::proxy
