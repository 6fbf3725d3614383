// HealthChecker: active health checks (clusters[].health_check) on a thread and event loop of
// its own, one probe per checked TCP endpoint of each cluster: every interval_ms a new
// connection, `GET path` with `Connection: close`, and a 2xx status within timeout_ms is a
// pass. unhealthy_threshold failures in a row make the endpoint unhealthy, healthy_threshold
// passes in a row healthy again. The verdicts are relaxed atomics in a HealthTable that
// workers' load balancers read (CheckState); host:// endpoints are not checked.
// A table is made per config snapshot; on reload an endpoint whose check did not change keeps
// its state and counts.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/core/event_loop.h"
#include "proxy/router/load_balancer.h"

namespace dpuguard::proxy {

struct EndpointCheck {
  std::string cluster;
  Endpoint endpoint;
  HealthCheckConfig config;
  std::atomic<uint8_t> state{static_cast<uint8_t>(CheckState::kUnknown)};
  std::atomic<uint64_t> passes{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint32_t> streak{0};  // passes (healthy) or failures (unhealthy) in a row
};

class HealthTable {
 public:
  // Entries for every checked TCP endpoint of `config`; states carried over from `previous`.
  HealthTable(const Config& config, const HealthTable* previous);
  // The state of endpoint `e` of cluster `c`, or null when it is not checked.
  const std::atomic<uint8_t>* state(size_t c, size_t e) const;
  const std::vector<std::unique_ptr<EndpointCheck>>& entries() const { return entries_; }
  // Prometheus series: dpuguard_upstream_endpoint_healthy, dpuguard_upstream_health_checks_total.
  std::string prometheus() const;

 private:
  std::vector<std::unique_ptr<EndpointCheck>> entries_;
  std::vector<std::vector<EndpointCheck*>> by_cluster_;  // [cluster][endpoint], null = unchecked
};

class HealthChecker {
 public:
  HealthChecker();
  ~HealthChecker();
  // Thread-safe: check what `table` lists from now on (null: nothing).
  void use(std::shared_ptr<HealthTable> table);
  void start();
  void stop();

 private:
  class Probe;
  void run();
  void adopt();

  EventLoop loop_;
  std::mutex mutex_;
  std::shared_ptr<HealthTable> next_;
  bool pending_ = false;
  std::shared_ptr<HealthTable> table_;  // the loop thread's
  std::vector<std::unique_ptr<Probe>> probes_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace dpuguard::proxy
