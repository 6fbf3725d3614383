// Worker: one thread, one event loop, its own SO_REUSEPORT listener sockets, client sessions,
// upstream pools and metrics: share-nothing. It adopts a new config snapshot at a safe point
// (between loop iterations); exchanges in flight keep the snapshot they started with.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "attest/measurement_log.h"
#include "parsers/json/completion_chunk.h"
#include "parsers/json/inference_request.h"
#include "proxy/accept_gate.h"
#include "proxy/config/config.h"
#include "proxy/core/event_loop.h"
#include "proxy/host/host_link.h"
#include "proxy/http/exchange.h"
#include "proxy/http/session_services.h"
#include "proxy/http/upstream_connection.h"
#include "proxy/inspect/edge_table.h"
#include "proxy/inspect/exchange_inspector.h"
#include "proxy/inspect/host_label_table.h"
#include "proxy/inspect/pipeline.h"
#include "proxy/inspect/token_buckets.h"
#include "proxy/router/load_balancer.h"
#include "proxy/router/router.h"
#include "proxy/telemetry/flow_log.h"
#include "proxy/telemetry/metrics.h"
#include "proxy/tls/server_context.h"
#include "proxy/tls_acceptor.h"

namespace dpuguard::proxy {

class ClientSession;

// A config snapshot and the logging sink opened for it, published by the Server.
struct Snapshot {
  std::shared_ptr<const Config> config;
  std::shared_ptr<FlowLogSink> flow_sink;
  std::shared_ptr<HealthTable> health;  // null: nothing is health-checked
  // By listener index: its TLS context (null: plain TCP); built once, shared by the workers.
  std::vector<std::shared_ptr<const tls::ServerContext>> listener_tls;
  // What this snapshot runs: the executable, the config, its files (snapshot_measurer.h).
  std::shared_ptr<const attest::MeasurementLog> measurement;
};

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual uint64_t generation() const = 0;  // changes whenever a new snapshot is published
  virtual Snapshot snapshot() const = 0;
  // Rate-limit and token-budget state: one per process, shared by the workers, kept across
  // snapshots.
  inspect::TokenBuckets& buckets() { return buckets_; }

 private:
  inspect::TokenBuckets buckets_;
};

// One snapshot for good: in-process drivers (benchmarks, the session fuzz target) that never
// reload.
class FixedSnapshotSource final : public SnapshotSource {
 public:
  explicit FixedSnapshotSource(Snapshot s) : snapshot_(std::move(s)) {}
  uint64_t generation() const override { return 1; }
  Snapshot snapshot() const override { return snapshot_; }

 private:
  Snapshot snapshot_;
};

class Worker final : public SessionServices {
 public:
  // `listen_fds[i]` is this worker's socket for listener i; the worker owns them.
  Worker(SnapshotSource& source, std::vector<int> listen_fds);
  ~Worker();

  void start();
  void join();
  // Thread-safe. Stop accepting, finish what is in flight (up to drain_timeout_ms), exit.
  void beginDrain();
  // Thread-safe: re-check the snapshot now.
  void wake() { loop_.wake(); }

  // In-process drivers (fuzz/targets/http1_session), on the caller's thread instead of
  // start(). adopt: serve `fd`, a connected non-blocking stream socket, as a client accepted
  // on listener `listener_index` from `peer`; the worker owns the fd. runOnce: one loop
  // iteration waiting at most `timeout_ms` (0: poll); returns the events it handled (-1: stopped).
  void adopt(int fd, const SocketAddress& peer, size_t listener_index);
  int runOnce(int timeout_ms) {
    return loop_.runOnce([this] { beforeWait(); }, timeout_ms);
  }

  EventLoop& loop() override { return loop_; }
  WorkerMetrics& metrics() override { return metrics_; }
  RouteStats& unroutedStats() override { return *unrouted_stats_; }
  FlowLog& flowLog() override { return flow_log_; }
  inspect::EdgeTable& edges() { return edges_; }
  inspect::SignatureScratch& signatureScratch() { return signature_scratch_; }
  inspect::TokenBuckets& buckets() { return source_.buckets(); }
  // The inference JSON views: one per worker, reused by its sessions (no I/O in between).
  json::InferenceRequestParser& requestParser() { return request_parser_; }
  json::CompletionChunkParser& completionParser() { return completion_parser_; }
  // What the exchange inspector's phases use of this worker's (scratch, JSON views, tables).
  inspect::InspectContext& inspectContext() override { return inspect_context_; }
  // The per-exchange state of this worker's client sessions, reused.
  ExchangePool& exchanges() override { return exchanges_; }
  // The host's identity labels (host_channel.labels) as this worker holds them now; null
  // when there are none. A session keeps its copy for the exchange.
  const std::shared_ptr<const inspect::IdentityMap>& hostLabels() override {
    return host_labels_.published();
  }
  const std::shared_ptr<WorkerRuntime>& runtime() const override { return runtime_; }

  // Thread-safe (the admin thread): fn(endpoint text, health) for every endpoint this worker
  // has used, reading only its atomics.
  template <typename Fn>
  void forEachEndpoint(Fn fn) {
    std::lock_guard<std::mutex> lock(hosts_mutex_);
    for (const auto& [text, h] : hosts_) fn(text, h->health);
  }

  // This worker's channel to the host backend `name` (host://name), created on first use.
  HostLink& hostLink(const std::string& name) override;

  // Deferred deletion: objects are freed between loop iterations, never under their own call.
  void retire(ClientSession* s) override;
  void retire(UpstreamConnection* c) override;

 private:
  class Acceptor;
  class DrainTimer;
  class Heartbeat;
  class LabelFeed;
  class QuoteSigner;

  void run();
  void beforeWait();
  void adoptSnapshot();
  // A client connection ready for HTTP (cleartext, or TLS with its handshake done).
  void startSession(std::unique_ptr<Transport> t, const SocketAddress& peer, size_t listener_index);
  void adoptHostLabels(const HostLabelsConfig& config);
  void accept(size_t listener_index, int fd);
  UpstreamHost* host(const Endpoint& endpoint);

  SnapshotSource& source_;
  std::vector<int> listen_fds_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::unique_ptr<DrainTimer> drain_timer_;
  EventLoop loop_;
  std::unique_ptr<AcceptGate> gate_;
  std::unique_ptr<Heartbeat> heartbeat_;
  std::thread thread_;
  std::atomic<bool> drain_requested_{false};
  bool draining_ = false;
  uint64_t generation_ = 0;
  std::shared_ptr<WorkerRuntime> runtime_;
  WorkerMetrics metrics_;
  RouteStats* unrouted_stats_ = nullptr;
  FlowLog flow_log_;
  inspect::EdgeTable edges_;
  inspect::SignatureScratch signature_scratch_;
  json::InferenceRequestParser request_parser_{64u << 20};  // inference.max_body_bytes' ceiling
  json::CompletionChunkParser completion_parser_{256u << 20};
  inspect::InspectContext inspect_context_{signature_scratch_, source_.buckets(), request_parser_,
                                           completion_parser_, edges_};
  ExchangePool exchanges_;
  std::mutex hosts_mutex_;  // hosts_ gains entries on the worker, is read by the admin
  std::map<std::string, std::unique_ptr<UpstreamHost>> hosts_;
  std::map<std::string, std::unique_ptr<HostLink>> host_links_;
  inspect::HostLabelTable host_labels_;
  std::unique_ptr<LabelFeed> label_feed_;
  std::string labels_from_;                    // the host backend label_feed_ listens to
  std::unique_ptr<QuoteSigner> quote_signer_;  // answers every host link's challenges
  std::unordered_set<ClientSession*> sessions_;
  std::vector<ClientSession*> dead_sessions_;
  std::vector<UpstreamConnection*> dead_upstreams_;
  TlsAcceptor tls_acceptor_;
};

}  // namespace dpuguard::proxy
