// Outcome: why an exchange ended the way it did. One name per reason, shared by the flow log
// ("reason"), the metrics (dpuguard_outcomes_total{reason}) and local replies ("code").
#pragma once

#include <cstdint>
#include <string_view>

namespace dpuguard::proxy {

enum class Outcome : uint8_t {
  kProxied = 0,             // the upstream's response went to the client
  kBadRequest,              // request parse error (see parse_error in the flow log)
  kNoRoute,                 // 404
  kExpectationFailed,       // 417
  kBodyTooLarge,            // 413
  kHeaderTimeout,           // 408
  kNoHealthyUpstream,       // 503
  kUpstreamConnectFailed,   // 502
  kUpstreamConnectTimeout,  // 504
  kUpstreamReset,           // 502 (or client cut off if the response had started)
  kUpstreamProtocolError,   // 502
  kRouteTimeout,            // 504
  kIdleTimeout,             // 504 while waiting for the upstream
  kClientAborted,           // the client went away mid-exchange
  kDraining,                // shutting down
  kDenied,                  // an inspection verdict blocked it (403, or the verdict's status)
  kInvalidRequest,          // 400: an inference request body failed validation
  kRateLimited,             // 429: a rate limit or the token budget
  kBudgetCut,               // a streamed answer was ended at the identity's token budget
};

inline constexpr int kOutcomeCount = static_cast<int>(Outcome::kBudgetCut) + 1;

constexpr std::string_view outcomeName(Outcome o) {
  switch (o) {
    case Outcome::kProxied: return "proxied";
    case Outcome::kBadRequest: return "bad_request";
    case Outcome::kNoRoute: return "no_route";
    case Outcome::kExpectationFailed: return "expectation_failed";
    case Outcome::kBodyTooLarge: return "body_too_large";
    case Outcome::kHeaderTimeout: return "header_timeout";
    case Outcome::kNoHealthyUpstream: return "no_healthy_upstream";
    case Outcome::kUpstreamConnectFailed: return "upstream_connect_failed";
    case Outcome::kUpstreamConnectTimeout: return "upstream_connect_timeout";
    case Outcome::kUpstreamReset: return "upstream_reset";
    case Outcome::kUpstreamProtocolError: return "upstream_protocol_error";
    case Outcome::kRouteTimeout: return "route_timeout";
    case Outcome::kIdleTimeout: return "idle_timeout";
    case Outcome::kClientAborted: return "client_aborted";
    case Outcome::kDraining: return "draining";
    case Outcome::kDenied: return "denied";
    case Outcome::kInvalidRequest: return "invalid_request";
    case Outcome::kRateLimited: return "rate_limited";
    case Outcome::kBudgetCut: return "budget_cut";
  }
  return "unknown";
}

}  // namespace dpuguard::proxy
