// Responses dpuguard itself sends (errors, 100 Continue): a status line, a small JSON body in
// the OpenAI error shape {"error":{"message","type","code"}}, and exact framing.
#pragma once

#include <string>
#include <string_view>

namespace dpuguard::proxy {

// Standard reason phrase for `status` ("Bad Request").
std::string_view reasonPhrase(int status);

// What an error body says beyond its code and message (OpenAI's error object), and
// Retry-After for a 429.
struct ReplyDetail {
  std::string_view code;        // overrides the caller's code when set ("model_not_allowed")
  std::string_view type = "dpuguard_error";
  std::string_view param;       // empty: "param" is null
  uint32_t retry_after_s = 0;   // 0: no Retry-After
};

// Appends a complete response to `out`. `code` is a stable snake_case reason (no_route,
// upstream_connect_failed, ...) also used in metrics and the flow log.
void writeLocalReply(int status, std::string_view code, std::string_view message, bool close, std::string& out,
                     const ReplyDetail& detail = {});

inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace dpuguard::proxy
