// Prometheus rendering: sums per-worker counters; route series merged by route name.
#include "proxy/telemetry/prometheus.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

namespace dpuguard::proxy {
namespace {

uint64_t load(const Counter& c) { return c.load(std::memory_order_relaxed); }

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const std::string& name, const std::string& labels, uint64_t v) {
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += std::to_string(v);
  out += '\n';
}

struct HistogramSum {
  std::array<uint64_t, kLatencyBucketsMs.size() + 1> buckets{};
  uint64_t count = 0;
  uint64_t sum_us = 0;
  void add(const Histogram& h) {
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += load(h.buckets[i]);
    count += load(h.count);
    sum_us += load(h.sum_us);
  }
};

void histogram(std::string& out, const std::string& name, const std::string& labels, const HistogramSum& h) {
  uint64_t cumulative = 0;
  const std::string sep = labels.empty() ? "" : labels + ",";
  for (size_t i = 0; i < kLatencyBucketsMs.size(); ++i) {
    cumulative += h.buckets[i];
    char le[32];
    std::snprintf(le, sizeof le, "%g", kLatencyBucketsMs[i] / 1000.0);
    sample(out, name + "_bucket", sep + "le=\"" + le + "\"", cumulative);
  }
  cumulative += h.buckets.back();
  sample(out, name + "_bucket", sep + "le=\"+Inf\"", cumulative);
  char sum[48];
  std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(h.sum_us) / 1e6);
  out += name + "_sum" + (labels.empty() ? "" : "{" + labels + "}") + " " + sum + "\n";
  sample(out, name + "_count", labels, h.count);
}

}  // namespace

std::string renderPrometheus(const std::vector<WorkerMetrics*>& workers, const ProcessStats& process) {
  std::string out;
  auto total = [&](auto member) {
    uint64_t v = 0;
    for (WorkerMetrics* w : workers) v += load(w->*member);
    return v;
  };
  auto gauge = [&](auto member) {
    int64_t v = 0;
    for (WorkerMetrics* w : workers) v += (w->*member).load(std::memory_order_relaxed);
    return static_cast<uint64_t>(v < 0 ? 0 : v);
  };

  // Per route: status codes and latency.
  std::map<std::string, std::map<int, uint64_t>> by_route_status;
  std::map<std::string, HistogramSum> latency;
  for (WorkerMetrics* w : workers) {
    w->forEachRoute([&](RouteStats& r) {
      for (size_t code = 100; code < r.by_status.size(); ++code) {
        if (uint64_t v = load(r.by_status[code]); v != 0) by_route_status[r.name][static_cast<int>(code)] += v;
      }
      if (!r.name.empty()) latency[r.name].add(r.latency);
    });
  }
  header(out, "dpuguard_requests_total", "counter", "Responses sent to clients, by route (empty: no route) and status.");
  for (const auto& [route, codes] : by_route_status) {
    for (const auto& [code, v] : codes) {
      sample(out, "dpuguard_requests_total", "route=\"" + route + "\",status=\"" + std::to_string(code) + "\"", v);
    }
  }
  header(out, "dpuguard_request_duration_seconds", "histogram", "From the first byte of a request to its end, by route.");
  for (const auto& [route, h] : latency) histogram(out, "dpuguard_request_duration_seconds", "route=\"" + route + "\"", h);

  std::map<std::string, std::array<uint64_t, tls::kFailureCount + 3>> tls;  // failures, ok, resumed, pending
  for (WorkerMetrics* w : workers) {
    w->forEachTlsListener([&](ListenerTlsStats& t) {
      auto& row = tls[t.listener];
      for (size_t i = 1; i < tls::kFailureCount; ++i) row[i] += load(t.failures[i]);
      row[tls::kFailureCount] += load(t.handshakes);
      row[tls::kFailureCount + 1] += load(t.resumed);
      row[tls::kFailureCount + 2] += static_cast<uint64_t>(std::max<int64_t>(t.pending.load(std::memory_order_relaxed), 0));
    });
  }
  if (!tls.empty()) {
    header(out, "dpuguard_tls_handshakes_total", "counter", "TLS handshakes completed, by listener.");
    for (const auto& [l, row] : tls) sample(out, "dpuguard_tls_handshakes_total", "listener=\"" + l + "\"", row[tls::kFailureCount]);
    header(out, "dpuguard_tls_resumed_total", "counter", "TLS handshakes that resumed a session (ticket), by listener.");
    for (const auto& [l, row] : tls) sample(out, "dpuguard_tls_resumed_total", "listener=\"" + l + "\"", row[tls::kFailureCount + 1]);
    header(out, "dpuguard_tls_handshakes_pending", "gauge", "TLS handshakes in progress, by listener.");
    for (const auto& [l, row] : tls) sample(out, "dpuguard_tls_handshakes_pending", "listener=\"" + l + "\"", row[tls::kFailureCount + 2]);
    header(out, "dpuguard_tls_handshake_failures_total", "counter", "TLS handshakes refused or failed, by listener and reason.");
    for (const auto& [l, row] : tls) {
      for (size_t i = 1; i < tls::kFailureCount; ++i) {
        sample(out, "dpuguard_tls_handshake_failures_total",
               "listener=\"" + l + "\",reason=\"" + std::string(tls::failureName(static_cast<tls::Failure>(i))) + "\"", row[i]);
      }
    }
  }

  header(out, "dpuguard_outcomes_total", "counter", "How exchanges ended (flow-log 'reason').");
  for (int i = 0; i < kOutcomeCount; ++i) {
    uint64_t v = 0;
    for (WorkerMetrics* w : workers) v += load(w->outcomes[static_cast<size_t>(i)]);
    sample(out, "dpuguard_outcomes_total", "reason=\"" + std::string(outcomeName(static_cast<Outcome>(i))) + "\"", v);
  }
  header(out, "dpuguard_parse_errors_total", "counter",
         "Messages rejected by the HTTP/1 parser or path normalizer, by side and kind.");
  using ParseCounters = std::array<Counter, http1::kParseErrorCount>;
  const std::pair<const char*, ParseCounters WorkerMetrics::*> sides[] = {
      {"client", &WorkerMetrics::parse_errors}, {"upstream", &WorkerMetrics::upstream_parse_errors}};
  for (const auto& [side, counters] : sides) {
    for (int i = 1; i < http1::kParseErrorCount; ++i) {
      uint64_t v = 0;
      for (WorkerMetrics* w : workers) v += load((w->*counters)[static_cast<size_t>(i)]);
      sample(out, "dpuguard_parse_errors_total",
             std::string("side=\"") + side + "\",kind=\"" +
                 std::string(http1::parseErrorName(static_cast<http1::ParseError>(i))) + "\"",
             v);
    }
  }
  struct Simple {
    const char* name;
    const char* help;
    Counter WorkerMetrics::*counter;
  };
  static constexpr Simple kCounters[] = {
      {"dpuguard_connections_accepted_total", "Client connections accepted.", &WorkerMetrics::connections_accepted},
      {"dpuguard_requests_received_total", "Request heads received.", &WorkerMetrics::requests},
      {"dpuguard_bytes_received_total", "Bytes read from clients.", &WorkerMetrics::bytes_in},
      {"dpuguard_bytes_sent_total", "Bytes written to clients.", &WorkerMetrics::bytes_out},
      {"dpuguard_upstream_connections_opened_total", "TCP connections opened to upstreams.",
       &WorkerMetrics::upstream_connections_opened},
      {"dpuguard_upstream_connections_reused_total", "Requests sent on a pooled keep-alive connection.",
       &WorkerMetrics::upstream_connections_reused},
      {"dpuguard_upstream_retries_total", "Requests sent again after a connect failure or a stale pooled connection.",
       &WorkerMetrics::upstream_retries},
      {"dpuguard_upstream_ejections_total", "Endpoints ejected after consecutive failures.",
       &WorkerMetrics::upstream_ejections},
      {"dpuguard_connections_limited_total", "Times a worker reached max_connections and stopped accepting.",
       &WorkerMetrics::connections_limited},
      {"dpuguard_flow_log_dropped_total", "Flow-log lines dropped: the writer's queue was full (a slow log reader).",
       &WorkerMetrics::flow_log_dropped},
      {"dpuguard_upstream_panics_total", "Endpoints picked while none of the cluster was healthy (panic mode).",
       &WorkerMetrics::upstream_panics},
      {"dpuguard_upstream_ejections_refused_total",
       "Ejections not made: max_ejection_percent of the cluster was out already, or it was the last endpoint.",
       &WorkerMetrics::upstream_ejections_refused},
      {"dpuguard_upstream_fallbacks_total", "Requests sent on to a fallback cluster after a 429, 503 or failed connect.",
       &WorkerMetrics::upstream_fallbacks},
      {"dpuguard_host_channel_connects_total", "Host channel handshakes that succeeded.",
       &WorkerMetrics::host_channel_connects},
      {"dpuguard_host_channel_failures_total", "Host channel handshakes refused or failed.",
       &WorkerMetrics::host_channel_failures},
      {"dpuguard_host_channel_faults_total", "Host channels torn down: ring fault, stall or lost socket.",
       &WorkerMetrics::host_channel_faults},
      {"dpuguard_host_messages_received_total", "Validated messages read from host rings.",
       &WorkerMetrics::host_messages_in},
      {"dpuguard_host_messages_sent_total", "Messages written to host rings.", &WorkerMetrics::host_messages_out},
      {"dpuguard_host_messages_unmatched_total", "Host messages for a stream that had already ended.",
       &WorkerMetrics::host_messages_unmatched},
      {"dpuguard_host_control_messages_total", "Control messages (identity labels, drain) from the host.",
       &WorkerMetrics::host_control_messages},
      {"dpuguard_host_drains_total", "Host channels closed after the host asked to drain.",
       &WorkerMetrics::host_drains},
      {"dpuguard_host_events_dropped_total", "Flow events for host_channel.events that could not be delivered.",
       &WorkerMetrics::host_events_dropped},
      {"dpuguard_host_labels_applied_total", "Identity labels from the host applied (added, changed, withdrawn).",
       &WorkerMetrics::host_labels_applied},
      {"dpuguard_host_labels_refused_total",
       "Identity labels from the host refused: outside host_channel.labels.within, past max_labels, a withdrawal of "
       "nothing, or from another host backend.",
       &WorkerMetrics::host_labels_refused},
  };
  header(out, "dpuguard_accept_errors_total", "counter",
         "accept(2) calls that gave no connection to serve, by reason (emfile, enfile, nomem: "
         "out of resources, accepting paused; fd_reserve: accepted into the descriptors kept for "
         "upstreams and the admin port, closed at once).");
  for (size_t i = 0; i < kAcceptErrorCount; ++i) {
    uint64_t v = 0;
    for (WorkerMetrics* w : workers) v += load(w->accept_errors[i]);
    sample(out, "dpuguard_accept_errors_total", std::string("reason=\"") + kAcceptErrorNames[i] + "\"", v);
  }
  for (const Simple& c : kCounters) {
    header(out, c.name, "counter", c.help);
    sample(out, c.name, "", total(c.counter));
  }
  header(out, "dpuguard_upstream_tls_handshakes_total", "counter",
         "TLS handshakes with upstreams that succeeded, by whether they resumed a session.");
  sample(out, "dpuguard_upstream_tls_handshakes_total", "resumed=\"true\"",
         total(&WorkerMetrics::upstream_tls_resumed));
  sample(
      out, "dpuguard_upstream_tls_handshakes_total", "resumed=\"false\"",
      total(&WorkerMetrics::upstream_tls_handshakes) - total(&WorkerMetrics::upstream_tls_resumed));
  header(out, "dpuguard_upstream_tls_handshake_failures_total", "counter",
         "TLS handshakes with upstreams that failed, by reason (a connect failure).");
  for (size_t i = 1; i < tls::kFailureCount; ++i) {
    uint64_t v = 0;
    for (WorkerMetrics* w : workers) v += load(w->upstream_tls_failures[i]);
    sample(out, "dpuguard_upstream_tls_handshake_failures_total",
           "reason=\"" + std::string(tls::failureName(static_cast<tls::Failure>(i))) + "\"", v);
  }
  header(out, "dpuguard_connections_active", "gauge", "Client connections open now.");
  sample(out, "dpuguard_connections_active", "", gauge(&WorkerMetrics::connections_active));
  header(out, "dpuguard_accept_paused", "gauge",
         "Workers not accepting now (out of descriptors, or at max_connections).");
  sample(out, "dpuguard_accept_paused", "", gauge(&WorkerMetrics::accept_paused));
  header(out, "dpuguard_upstream_connections_active", "gauge", "Upstream connections open now (busy or pooled).");
  sample(out, "dpuguard_upstream_connections_active", "", gauge(&WorkerMetrics::upstream_connections_active));
  // Each worker holds its own copy of the host's labels; a worker behind the others shows here.
  header(out, "dpuguard_host_labels", "gauge", "Identity labels from the host in force, per worker.");
  for (size_t i = 0; i < workers.size(); ++i) {
    const int64_t n = workers[i]->host_labels.load(std::memory_order_relaxed);
    sample(out, "dpuguard_host_labels", "worker=\"" + std::to_string(i) + "\"", static_cast<uint64_t>(std::max<int64_t>(n, 0)));
  }
  HistogramSum up;
  for (WorkerMetrics* w : workers) up.add(w->upstream_latency);
  header(out, "dpuguard_upstream_response_seconds", "histogram", "Request head sent to response head received.");
  histogram(out, "dpuguard_upstream_response_seconds", "", up);
  header(out, "dpuguard_config_generation", "gauge", "Config snapshots published since start (1 = the initial one).");
  sample(out, "dpuguard_config_generation", "", process.config_generation);
  header(out, "dpuguard_config_reloads_total", "counter", "Reload attempts by result.");
  sample(out, "dpuguard_config_reloads_total", "result=\"ok\"", process.reloads_ok);
  sample(out, "dpuguard_config_reloads_total", "result=\"rejected\"", process.reloads_rejected);
  header(out, "dpuguard_draining", "gauge", "1 while shutting down.");
  sample(out, "dpuguard_draining", "", process.draining ? 1 : 0);
  return out;
}

}  // namespace dpuguard::proxy
