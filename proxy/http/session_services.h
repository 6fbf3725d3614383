// SessionServices: what a client session and its upstream connections use of the worker that
// runs them (its loop, metrics, flow log, config snapshot, pools and the host channel), as an
// interface the Worker implements: http/ sessions never include the worker itself, and an
// in-process driver (a test, a fuzz rig) can run them under any implementation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attest/measurement_log.h"
#include "proxy/config/config.h"
#include "proxy/core/event_loop.h"
#include "proxy/host/host_link.h"
#include "proxy/http/exchange.h"
#include "proxy/http/upstream_connection.h"
#include "proxy/inspect/exchange_inspector.h"
#include "proxy/inspect/identity_map.h"
#include "proxy/inspect/pipeline.h"
#include "proxy/router/health_checker.h"
#include "proxy/router/load_balancer.h"
#include "proxy/router/router.h"
#include "proxy/telemetry/flow_log.h"
#include "proxy/telemetry/metrics.h"
#include "proxy/tls/server_context.h"

namespace dpuguard::proxy {

class ClientSession;

struct ClusterRuntime {
  const ClusterConfig* config;
  std::vector<UpstreamHost*> hosts;
  LoadBalancer lb;
  // clusters[].tls: this worker's last session per endpoint (by index), empty without TLS.
  std::vector<std::shared_ptr<tls::SessionSlot>> tls_sessions;

  // What a new connection to endpoint `i` uses of TLS (no context: plain TCP).
  UpstreamTls tlsFor(size_t i) const {
    if (config->tls.context == nullptr || i >= tls_sessions.size()) return {};
    return {config->tls.context, tls_sessions[i]};
  }
};

// A snapshot as one worker uses it: routes compiled, clusters bound to this worker's hosts.
struct WorkerRuntime {
  explicit WorkerRuntime(std::shared_ptr<const Config> c)
      : config(std::move(c)), router(*config), pipeline(*config) {}
  std::shared_ptr<const Config> config;
  Router router;
  inspect::Pipeline pipeline;
  std::vector<ClusterRuntime> clusters;
  std::vector<RouteStats*> route_stats;       // by route index
  std::shared_ptr<const HealthTable> health;  // the active checks' verdicts the balancers read
  // By listener index: the TLS context (null: plain TCP).
  std::vector<std::shared_ptr<const tls::ServerContext>> listener_tls;
  std::string measurement_id;  // the snapshot's measurement log's id, in every flow-log line
  // The log itself, quoted to a host that challenges us (null for in-process drivers).
  std::shared_ptr<const attest::MeasurementLog> measurement;
};

class SessionServices {
 public:
  virtual ~SessionServices() = default;
  virtual EventLoop& loop() = 0;
  virtual WorkerMetrics& metrics() = 0;
  virtual RouteStats& unroutedStats() = 0;
  virtual FlowLog& flowLog() = 0;
  // The latest config snapshot; an exchange keeps the one it started with.
  virtual const std::shared_ptr<WorkerRuntime>& runtime() const = 0;
  // The host's identity labels now (null when there are none).
  virtual const std::shared_ptr<const inspect::IdentityMap>& hostLabels() = 0;
  virtual inspect::InspectContext& inspectContext() = 0;
  virtual ExchangePool& exchanges() = 0;
  // The channel to the host backend `name` (host://name), created on first use.
  virtual HostLink& hostLink(const std::string& name) = 0;
  // Deferred deletion: objects are freed between loop iterations, never under their own call.
  virtual void retire(ClientSession* s) = 0;
  virtual void retire(UpstreamConnection* c) = 0;
};

}  // namespace dpuguard::proxy
