// Renders the workers' metrics (summed) in the Prometheus text exposition format 0.0.4.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/telemetry/metrics.h"

namespace dpuguard::proxy {

struct ProcessStats {
  uint64_t config_generation = 0;
  uint64_t reloads_ok = 0;
  uint64_t reloads_rejected = 0;
  bool draining = false;
};

std::string renderPrometheus(const std::vector<WorkerMetrics*>& workers, const ProcessStats& process);

}  // namespace dpuguard::proxy
