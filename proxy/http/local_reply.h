// Responses dpuguard itself sends (errors, 100 Continue): a status line, a small JSON body in
// the OpenAI error shape {"error":{"message","type","code"}}, and exact framing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/telemetry/outcome.h"

namespace dpuguard::proxy {

// What a reply says beyond what its Outcome's row gives (outcome.h): the status a kCarried
// row takes from the decision, a more precise message, OpenAI's error object fields, and
// Retry-After for a 429, WWW-Authenticate for a 401.
struct ReplyDetail {
  int status = 0;              // kCarried rows: the verdict's or parse error's status; 0: the row's
  std::string_view message{};  // empty: the row's reason
  std::string_view code{};     // overrides the outcome's name when set ("model_not_allowed")
  std::string_view type = "dpuguard_error";
  std::string_view param{};    // empty: "param" is null
  uint32_t retry_after_s = 0;  // 0: no Retry-After
  // A 401's challenge, sent as WWW-Authenticate (RFC 9110 §11.6.1): "Bearer"; empty: none.
  std::string_view www_authenticate{};
};

// Appends a complete response for `outcome` to `out` and returns its status, which the
// outcome's row gives (replyStatus(outcome, detail.status)). The body's "code" is the
// outcome's name (no_route, upstream_connect_failed, ...) unless detail.code is set. An
// outcome that never answers locally (ReplyStatus::kNone) is a caller's mistake: it is
// answered 500 so the client still gets a well-formed response.
int writeLocalReply(Outcome outcome, bool close, std::string& out, const ReplyDetail& detail = {});

inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace dpuguard::proxy
