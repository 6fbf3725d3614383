// Metrics: per-worker counters and histograms (relaxed atomics: written by one worker,
// read by the admin thread), summed and rendered in Prometheus text format by the admin server.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "parsers/http1/parse_error.h"
#include "proxy/telemetry/outcome.h"
#include "proxy/tls/tls_failure.h"

namespace dpuguard::proxy {

using Counter = std::atomic<uint64_t>;

inline void bump(Counter& c, uint64_t n = 1) {
  c.fetch_add(n, std::memory_order_relaxed);
}

// Upper bounds in milliseconds (Prometheus "le"), then +Inf.
inline constexpr std::array<double, 14> kLatencyBucketsMs = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 60000};

struct Histogram {
  std::array<Counter, kLatencyBucketsMs.size() + 1> buckets{};
  Counter count{0};
  Counter sum_us{0};
  void observeUs(uint64_t us);
};

struct RouteStats {
  explicit RouteStats(std::string n) : name(std::move(n)) {}
  std::string name;
  std::array<Counter, 600> by_status{};  // index = HTTP status code
  Histogram latency;                     // request start to last response byte
};

// Why accept(2) gave no connection to serve, for dpuguard_accept_errors_total{reason}.
enum class AcceptError : uint8_t {
  kEmfile,     // the process is out of file descriptors
  kEnfile,     // the system is
  kNoMemory,   // ENOBUFS / ENOMEM
  kFdReserve,  // accepted into the descriptors kept for upstreams and the admin port: closed
  kOther,
};
inline constexpr size_t kAcceptErrorCount = 5;
inline constexpr std::array<const char*, kAcceptErrorCount> kAcceptErrorNames = {
    "emfile", "enfile", "nomem", "fd_reserve", "other"};
// A TLS listener's handshakes (created when a worker adopts a config, never freed).
struct ListenerTlsStats {
  explicit ListenerTlsStats(std::string n) : listener(std::move(n)) {}
  std::string listener;
  Counter handshakes{0};  // completed
  Counter resumed{0};     // of which resumed a session
  std::array<Counter, tls::kFailureCount> failures{};
  std::atomic<int64_t> pending{0};  // handshakes in progress
};

struct WorkerMetrics {
  Counter connections_accepted{0};
  std::array<Counter, kAcceptErrorCount> accept_errors{};
  Counter connections_limited{0};         // times max_connections stopped the accepts
  std::atomic<int64_t> accept_paused{0};  // 1 while this worker's listeners are not polled
  // The event loop's clock at its last turn (a heartbeat timer turns it every second):
  // /healthz fails when it lags behind (admin.worker_stall_ms).
  std::atomic<int64_t> loop_turn_ms{0};
  Counter flow_log_dropped{0};            // lines the flow-log writer had no room for
  Counter upstream_panics{0};             // picks made among unhealthy endpoints: none was healthy
  Counter upstream_ejections_refused{0};  // ejections max_ejection_percent did not allow
  Counter upstream_fallbacks{0};          // requests sent on to a fallback cluster
  std::atomic<int64_t> connections_active{0};
  Counter requests{0};
  std::array<Counter, http1::kParseErrorCount> parse_errors{};           // client requests
  std::array<Counter, http1::kParseErrorCount> upstream_parse_errors{};  // upstream responses
  std::array<Counter, kOutcomeCount> outcomes{};
  Counter upstream_connections_opened{0};
  Counter upstream_connections_reused{0};
  std::atomic<int64_t> upstream_connections_active{0};
  Counter upstream_retries{0};
  Counter upstream_ejections{0};
  // TLS to upstreams (clusters[].tls): handshakes done, how many resumed a session, and
  // handshakes that failed, by tls::Failure.
  Counter upstream_tls_handshakes{0};
  Counter upstream_tls_resumed{0};
  std::array<Counter, tls::kFailureCount> upstream_tls_failures{};
  // Host channel (host:// backends): handshakes, teardowns, messages.
  Counter host_channel_connects{0};
  Counter host_channel_failures{0};  // handshakes refused or failed
  Counter host_channel_faults{0};    // ring faults, stalls, lost sockets: the link went down
  Counter host_messages_in{0};
  Counter host_messages_out{0};
  Counter host_messages_unmatched{0};  // for a stream that had already ended
  Counter host_control_messages{0};
  Counter host_events_dropped{0};  // flow events for host_channel.events not delivered
  Counter host_drains{0};          // channels closed after the host asked to drain
  // host_channel.labels: labels applied, refused (outside `within`, past max_labels, a
  // withdrawal of nothing, or from another host backend), and held now by this worker.
  Counter host_labels_applied{0};
  Counter host_labels_refused{0};
  std::atomic<int64_t> host_labels{0};
  Counter bytes_in{0};
  Counter bytes_out{0};
  Histogram upstream_latency;  // request head sent to response head received

  // Route stats are created when a worker adopts a config, never on the request path, and
  // never freed (pointers stay valid for in-flight requests of an old config).
  RouteStats* routeStats(const std::string& name);
  template <typename Fn>
  void forEachRoute(Fn fn) {
    std::lock_guard<std::mutex> lock(routes_mutex_);
    for (RouteStats& r : routes_) fn(r);
  }
  ListenerTlsStats* tlsStats(const std::string& listener);
  template <typename Fn>
  void forEachTlsListener(Fn fn) {
    std::lock_guard<std::mutex> lock(routes_mutex_);
    for (ListenerTlsStats& t : tls_) fn(t);
  }

 private:
  std::mutex routes_mutex_;
  std::deque<RouteStats> routes_;
  std::deque<ListenerTlsStats> tls_;
};

}  // namespace dpuguard::proxy
