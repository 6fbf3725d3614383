// LoadBalancer: chooses an endpoint of a cluster (round-robin or least-request) among those
// not ejected, and ejects an endpoint after N consecutive failures for a while (passive
// health checking, like Envoy's outlier detection on consecutive gateway errors).
// State is per worker: no locks, no sharing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "proxy/config/config.h"

namespace dpuguard::proxy {

struct EndpointHealth {
  uint32_t active = 0;                // requests in flight from this worker
  uint32_t consecutive_failures = 0;
  int64_t ejected_until_ms = 0;       // 0 = not ejected
  uint64_t ejections = 0;
};

class LoadBalancer {
 public:
  LoadBalancer(const ClusterConfig& cluster, std::vector<EndpointHealth*> endpoints)
      : policy_(cluster.lb), eject_after_(cluster.eject_after_failures), eject_ms_(cluster.eject_ms),
        endpoints_(std::move(endpoints)) {}

  // Index of the endpoint to use, or -1 if every endpoint is ejected (503).
  // `exclude` (or -1) is skipped when another healthy endpoint exists (retry elsewhere).
  int pick(int64_t now_ms, int exclude = -1);
  void onSuccess(size_t i);
  void onFailure(size_t i, int64_t now_ms);
  size_t size() const { return endpoints_.size(); }
  EndpointHealth& health(size_t i) { return *endpoints_[i]; }

 private:
  bool healthy(size_t i, int64_t now_ms);

  LbPolicy policy_;
  uint32_t eject_after_;
  uint32_t eject_ms_;
  std::vector<EndpointHealth*> endpoints_;
  size_t cursor_ = 0;
};

}  // namespace dpuguard::proxy
