// Metrics helpers.
#include "proxy/telemetry/metrics.h"

namespace dpuguard::proxy {

void Histogram::observeUs(uint64_t us) {
  const double ms = static_cast<double>(us) / 1000.0;
  size_t i = 0;
  while (i < kLatencyBucketsMs.size() && ms > kLatencyBucketsMs[i]) ++i;
  bump(buckets[i]);
  bump(count);
  bump(sum_us, us);
}

RouteStats* WorkerMetrics::routeStats(const std::string& name) {
  std::lock_guard<std::mutex> lock(routes_mutex_);
  for (RouteStats& r : routes_) {
    if (r.name == name) return &r;
  }
  return &routes_.emplace_back(name);
}

ListenerTlsStats* WorkerMetrics::tlsStats(const std::string& listener) {
  std::lock_guard<std::mutex> lock(routes_mutex_);
  for (ListenerTlsStats& t : tls_) {
    if (t.listener == listener) return &t;
  }
  return &tls_.emplace_back(listener);
}

}  // namespace dpuguard::proxy
