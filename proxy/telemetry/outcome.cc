// Names, statuses and messages for Outcome, one table row per value.
#include "proxy/telemetry/outcome.h"

#include <array>

namespace dpuguard::proxy {
namespace {

using enum ReplyStatus;

constexpr std::array<OutcomeInfo, kOutcomeCount> kOutcomes = {{
    {Outcome::kProxied, "proxied", 0, "", kNone},
    {Outcome::kBadRequest, "bad_request", 400, "malformed request", kCarried},
    {Outcome::kNoRoute, "no_route", 404, "no route matches this request", kFixed},
    {Outcome::kExpectationFailed, "expectation_failed", 417,
     "only Expect: 100-continue is supported", kFixed},
    {Outcome::kBodyTooLarge, "body_too_large", 413, "request body larger than max_body_bytes",
     kFixed},
    {Outcome::kHeaderTimeout, "header_timeout", 408, "request head not received in time", kFixed},
    {Outcome::kBodyTimeout, "body_timeout", 408, "request body not received in time", kFixed},
    {Outcome::kNoHealthyUpstream, "no_healthy_upstream", 503, "no healthy endpoint in cluster",
     kFixed},
    {Outcome::kUpstreamConnectFailed, "upstream_connect_failed", 502, "cannot connect to upstream",
     kFixed},
    {Outcome::kUpstreamTlsFailed, "upstream_tls_failed", 502,
     "TLS handshake with the upstream failed", kFixed},
    {Outcome::kUpstreamConnectTimeout, "upstream_connect_timeout", 504,
     "upstream did not accept the connection in time", kFixed},
    {Outcome::kUpstreamReset, "upstream_reset", 502,
     "upstream closed the connection without a response", kFixed},
    {Outcome::kUpstreamProtocolError, "upstream_protocol_error", 502,
     "upstream sent an invalid response", kFixed},
    {Outcome::kRouteTimeout, "route_timeout", 504,
     "upstream did not answer within the route's timeout", kFixed},
    {Outcome::kIdleTimeout, "idle_timeout", 504, "upstream did not answer in time", kFixed},
    {Outcome::kClientAborted, "client_aborted", 0, "", kNone},
    {Outcome::kDraining, "draining", 0, "", kNone},
    {Outcome::kDenied, "denied", 403, "denied", kCarried},
    {Outcome::kInvalidRequest, "invalid_request", 400, "invalid request body", kFixed},
    {Outcome::kRateLimited, "rate_limited", 429, "rate limit exceeded", kFixed},
    {Outcome::kBudgetCut, "budget_cut", 0, "", kNone},
    {Outcome::kCompletionCut, "completion_cut", 0, "", kNone},
    {Outcome::kCompletionBlocked, "completion_blocked", 502,
     "the answer was stopped by an output guardrail", kFixed},
    {Outcome::kUnauthorized, "unauthorized", 401, "a valid API key is required", kFixed},
}};

// The table is indexed by the enum; a row out of place is a compile error, not a wrong name.
constexpr bool tableInOrder() {
  for (size_t i = 0; i < kOutcomes.size(); ++i) {
    if (static_cast<size_t>(kOutcomes[i].outcome) != i) return false;
  }
  return true;
}
static_assert(tableInOrder(), "kOutcomes rows must follow the Outcome order");

// A row answers with a status exactly when it says so.
constexpr bool statusesConsistent() {
  for (const OutcomeInfo& row : kOutcomes) {
    if ((row.source == kNone) != (row.status == 0)) return false;
    if (row.source != kNone && (row.status < 400 || row.status > 599 || row.reason.empty()))
      return false;
  }
  return true;
}
static_assert(statusesConsistent(),
              "a replying row needs a 4xx/5xx status and a reason; a kNone row neither");

}  // namespace

const OutcomeInfo& outcomeInfo(Outcome o) {
  const auto i = static_cast<size_t>(o);
  return i < kOutcomes.size() ? kOutcomes[i] : kOutcomes.back();
}

std::string_view outcomeName(Outcome o) {
  return outcomeInfo(o).name;
}

int replyStatus(Outcome o, int carried) {
  const OutcomeInfo& row = outcomeInfo(o);
  if (row.source == ReplyStatus::kCarried && carried >= 100 && carried <= 599) return carried;
  return row.status;
}

}  // namespace dpuguard::proxy
