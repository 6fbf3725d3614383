// Server: the process. Loads the config, opens every worker's listener sockets, starts the
// workers and the admin server, then waits for signals:
//   SIGHUP          reload: validate the file, publish a new snapshot, or keep the old one
//   SIGTERM/SIGINT  drain: stop accepting, finish in-flight exchanges, exit 0
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "proxy/admin/admin_server.h"
#include "proxy/inspect/inspect_report.h"
#include "proxy/worker.h"

namespace dpuguard::proxy {

class Server final : public SnapshotSource {
 public:
  explicit Server(std::string config_path);
  ~Server() override;

  // Runs until SIGTERM/SIGINT; returns the process exit code.
  int run();

  uint64_t generation() const override { return generation_.load(std::memory_order_acquire); }
  Snapshot snapshot() const override;

 private:
  bool reload();
  // The snapshot's TLS contexts by listener (null: plain); false with *why if one failed.
  bool buildTls(const Config& c, Snapshot& s, std::string* why);
  // The snapshot's measurement log (snapshot_measurer.h); false with *why.
  bool measure(const Config& c, Snapshot& s, std::string* why);
  void logSandbox(const sandbox::SandboxSettings& s);
  AdminReply attestation(std::string_view query) const;
  std::string metricsText();
  // Why /healthz fails (draining, a worker loop stalled), or "".
  std::string healthProblem();
  // /clusters: every cluster's endpoints with their checks, ejections and requests in flight.
  std::string clustersJson();
  // Per endpoint over the workers: how many have it ejected now, requests in flight, ejections.
  struct EndpointSum {
    uint64_t ejected_workers = 0, active = 0, ejections = 0;
  };
  std::map<std::string, EndpointSum> endpointSums();
  InspectReport inspectReport();
  // Policy mode learn: rewrites the baseline file when new allowed edges were seen.
  void writeLearnedBaseline();

  std::string path_;
  mutable std::mutex mutex_;
  Snapshot current_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reloads_rejected_{0};
  std::atomic<bool> draining_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<AdminServer> admin_;
  FlowLogWriter flow_writer_;               // writes every worker's flow-log queue
  HealthChecker checker_;                   // clusters[].health_check
  inspect::EdgeBaseline::EdgeSet learned_;  // learn mode: what the baseline file holds
  std::string learned_file_;
  // Ticket keys by listener name, kept across reloads so tickets stay valid.
  std::map<std::string, std::shared_ptr<tls::TicketKeys>> ticket_keys_;
};

// Why a reload of `next` over `running` is refused (listeners and admin are bound at start),
// or "" if it is acceptable.
std::string reloadConflict(const Config& running, const Config& next);

}  // namespace dpuguard::proxy
