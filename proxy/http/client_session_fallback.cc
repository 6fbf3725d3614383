// ClientSession, fallback clusters: a request its cluster refused (429 or 503 before any byte
// of the answer went to the client) or could not connect to is sent on to the next cluster of
// clusters[].fallback, when it can be sent again: it has no body, or its body was collected
// whole (inference routes) and is replayed. Every attempt is named in the flow log.
#include <algorithm>
#include <charconv>

#include "proxy/core/json_escape.h"
#include "proxy/http/client_session.h"
#include "proxy/http/session_services.h"

namespace dpuguard::proxy {

bool ClientSession::refusedUpstream(const http1::MessageHead& h) {
  ExchangeState& s = x();
  const ClusterRuntime* first = s.first_cluster != nullptr ? s.first_cluster : s.cluster;
  if (first == nullptr || first->config->fallback_indexes.empty()) return false;
  // Retry-After in delta-seconds (RFC 9110 §10.2.3): that endpoint rests as long, at most 5 min.
  for (const http1::HeaderField& f : h.headers) {
    if (!http1::equalsIgnoreCase(f.name, "retry-after")) continue;
    uint32_t seconds = 0;
    const auto [end, ec] =
        std::from_chars(f.value.data(), f.value.data() + f.value.size(), seconds);
    if (ec == std::errc() && end == f.value.data() + f.value.size()) {
      s.cluster->lb.health(static_cast<size_t>(s.endpoint)).retry_after_until_ms =
          loop_.now() + std::min<int64_t>(seconds, 300) * 1000;
    }
  }
  return fallBack(Outcome::kProxied, h.status);
}

bool ClientSession::fallBack(Outcome why, int status) {
  ExchangeState& s = x();
  if (s.response_started || s.cluster == nullptr) return false;
  // Only what can be sent again: no body, or one read whole before anything went upstream.
  if (s.request_has_body && !inspector().collectsBody()) return false;
  if (s.first_cluster == nullptr) s.first_cluster = s.cluster;
  const std::vector<size_t>& list = s.first_cluster->config->fallback_indexes;
  if (s.fallback_step >= list.size() || s.tried_count >= ExchangeState::kMaxAttempts) return false;
  s.tried[s.tried_count++] = {s.cluster, s.endpoint, status, why};
  releaseUpstream(false);  // a refusal's body is not read: that connection goes
  s.cluster = &rt_->clusters[list[s.fallback_step++]];
  s.endpoint = -1;
  s.attempts = 0;  // the fallback cluster gets its own retry
  s.awaiting_response_head = true;
  if (inspector().collectsBody()) {  // the collected body goes again, from its first byte
    s.collected_sent = 0;
    s.request_done = false;
  }
  bump(worker_.metrics().upstream_fallbacks);
  if (connectUpstream(-1) && inspector().collectsBody()) sendCollected();
  return true;
}

void ClientSession::logAttempts() {
  const ExchangeState& s = x();
  std::string& out = ex_->attempts;
  out.assign("[");
  auto one = [&](const ClusterRuntime* cluster, int endpoint, int status, std::string_view reason) {
    if (out.size() > 1) out.push_back(',');
    out.append("{\"cluster\":\"");
    appendJsonEscaped(out, cluster != nullptr ? std::string_view(cluster->config->name) : "");
    out.append("\",\"endpoint\":\"");
    if (cluster != nullptr && endpoint >= 0)
      appendJsonEscaped(out, cluster->hosts[static_cast<size_t>(endpoint)]->endpoint.text);
    out.append("\",\"status\":").append(std::to_string(status)).append(",\"reason\":\"");
    out.append(reason).append("\"}");
  };
  for (size_t i = 0; i < s.tried_count; ++i) {
    const ExchangeState::Attempt& a = s.tried[i];
    one(a.cluster, a.endpoint, a.status,
        a.status != 0 ? (a.status == 429 ? "upstream_429" : "upstream_503")
                      : outcomeName(a.outcome));
  }
  one(s.cluster, s.endpoint, s.status, outcomeName(s.outcome));
  out.push_back(']');
}

}  // namespace dpuguard::proxy
