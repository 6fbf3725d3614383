// Outcome: why an exchange ended the way it did. One table row per value (outcome.cc) gives
// its name, shared by the flow log ("reason"), the metrics (dpuguard_outcomes_total{reason})
// and local replies ("code"), and the status and message dpuguard answers with.
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
  kHeaderTimeout,           // 408: the request head did not arrive in time
  kBodyTimeout,             // 408: a request body read whole (inference) did not arrive in time
  kNoHealthyUpstream,       // 503
  kUpstreamConnectFailed,   // 502
  kUpstreamTlsFailed,       // 502: the TLS handshake with the upstream failed (a connect failure)
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
  kCompletionCut,      // a streamed answer was ended by an output guardrail (where: completion)
  kCompletionBlocked,  // 502: a whole answer an output guardrail refused, sent instead of it
  kUnauthorized,       // 401: a route's API key is missing, malformed or unknown
};

inline constexpr int kOutcomeCount = static_cast<int>(Outcome::kUnauthorized) + 1;

// How a local reply for an outcome gets its status:
//   kNone     the outcome never answers locally: the upstream answered (kProxied, kBudgetCut)
//             or the connection was closed without an answer (kClientAborted, kDraining, a
//             failure after the response had started); `status` is 0.
//   kFixed    always the row's `status`.
//   kCarried  the status of the decision that ended the exchange, carried by the caller: a
//             verdict's (kDenied: 403, 404 for an unknown model) or a parse error's statusFor()
//             (kBadRequest: 400, 414, 431, 501, 505). The row's `status` is the usual one,
//             used when the caller carries none.
enum class ReplyStatus : uint8_t { kNone, kFixed, kCarried };

struct OutcomeInfo {
  Outcome outcome;
  std::string_view name;    // stable snake_case: metrics label, flow-log "reason", reply "code"
  int status;               // the local reply's status (see ReplyStatus)
  std::string_view reason;  // the reply's "message" when the caller has no more precise one
  ReplyStatus source;
};

// The row of `o` (an out-of-range value gets the last row).
const OutcomeInfo& outcomeInfo(Outcome o);

std::string_view outcomeName(Outcome o);

// The status a local reply for `o` carries: `carried` for a kCarried row when it is a status
// (100-599), else the row's status; 0 for a kNone row.
int replyStatus(Outcome o, int carried = 0);

}  // namespace dpuguard::proxy
