// LoadBalancer: chooses an endpoint of a cluster (round-robin or least-request) among those
// neither ejected nor failing their active health checks, and ejects an endpoint after N
// consecutive failures for a while (passive health checking, like Envoy's outlier detection
// on consecutive gateway errors), within two bounds:
//   - max_ejection_percent: never more than that share of the cluster out at once, and never
//     the last endpoint left (unless it is 100, when an empty cluster answers 503);
//   - panic: when no endpoint passes its health checks, requests go to all of them anyway
//     (Envoy's panic mode) rather than certainly failing.
// A connect timeout while the endpoint has answered since that connect began is a full
// accept queue, not a dead backend: it does not count. State is per worker: no locks; the
// few fields the admin thread reads are relaxed atomics.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/telemetry/metrics.h"

namespace dpuguard::proxy {

struct EndpointHealth {
  std::atomic<uint32_t> active{0};  // requests in flight from this worker
  uint32_t consecutive_failures = 0;
  std::atomic<int64_t> ejected_until_ms{0};  // 0 = not ejected
  std::atomic<uint64_t> ejections{0};
  int64_t last_success_ms = -1;  // when a response head last came (loop clock)
  // A 429/503 with Retry-After on a cluster with fallbacks: not picked before this (unless no
  // other endpoint is usable).
  int64_t retry_after_until_ms = 0;
};

// An endpoint's state from the active health checker (router/health_checker.h).
enum class CheckState : uint8_t { kUnknown = 0, kHealthy = 1, kUnhealthy = 2 };

class LoadBalancer {
 public:
  LoadBalancer(const ClusterConfig& cluster, std::vector<EndpointHealth*> endpoints)
      : policy_(cluster.lb),
        eject_after_(cluster.eject_after_failures),
        eject_ms_(cluster.eject_ms),
        max_ejection_percent_(cluster.max_ejection_percent),
        endpoints_(std::move(endpoints)),
        checks_(endpoints_.size(), nullptr) {}

  // The health checker's verdict for endpoint `i` (null: not checked); counters for panics
  // and refused ejections (null: not counted).
  void setCheck(size_t i, const std::atomic<uint8_t>* state) { checks_[i] = state; }
  void setCounters(Counter* panics, Counter* refused) {
    panics_ = panics;
    refused_ = refused;
  }

  // Index of the endpoint to use, or -1 if every endpoint is ejected (503; possible only with
  // max_ejection_percent 100). `exclude` (or -1) is skipped when another endpoint is usable.
  int pick(int64_t now_ms, int exclude = -1);
  void onSuccess(size_t i, int64_t now_ms = -1);
  void onFailure(size_t i, int64_t now_ms);
  // Whether a connect to `i` begun at `started_ms` that timed out is evidence against it: not
  // when the endpoint answered a request since (it is alive; its accept queue is full).
  bool connectTimeoutCounts(size_t i, int64_t started_ms) const {
    return endpoints_[i]->last_success_ms < started_ms;
  }
  size_t size() const { return endpoints_.size(); }
  EndpointHealth& health(size_t i) { return *endpoints_[i]; }
  // Endpoints neither ejected nor failing their checks now.
  size_t available(int64_t now_ms);
  // Whether every such endpoint rests under a Retry-After now (and at least one does): a
  // cluster with fallbacks then goes straight to them, instead of to an endpoint that said
  // when to come back.
  bool resting(int64_t now_ms);

 private:
  bool ejected(size_t i, int64_t now_ms);
  bool failingChecks(size_t i) const {
    return checks_[i] != nullptr && checks_[i]->load(std::memory_order_relaxed) ==
                                        static_cast<uint8_t>(CheckState::kUnhealthy);
  }
  int choose(int64_t now_ms, int exclude, bool ignore_checks);

  LbPolicy policy_;
  uint32_t eject_after_;
  uint32_t eject_ms_;
  uint32_t max_ejection_percent_;
  std::vector<EndpointHealth*> endpoints_;
  std::vector<const std::atomic<uint8_t>*> checks_;
  Counter* panics_ = nullptr;
  Counter* refused_ = nullptr;
  size_t cursor_ = 0;
};

}  // namespace dpuguard::proxy
