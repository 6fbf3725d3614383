// Server implementation.
#include "proxy/server.h"

#include <openssl/crypto.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <thread>

#include "attest/quote.h"
#include "proxy/attestation_reply.h"
#include "proxy/config/config_json.h"
#include "proxy/core/json_escape.h"
#include "proxy/core/socket_ops.h"
#include "proxy/loader/config_loader.h"
#include "proxy/loader/snapshot_measurer.h"
#include "proxy/telemetry/prometheus.h"

namespace dpuguard::proxy {

namespace {

// The kernel's TLS module is loaded (kTLS can take the record layer).
bool kernelOffersKtls() {
  FILE* f = std::fopen("/proc/sys/net/ipv4/tcp_available_ulp", "r");
  if (f == nullptr) return false;
  char line[256] = {};
  const bool ok = std::fgets(line, sizeof line, f) != nullptr;
  std::fclose(f);
  if (!ok) return false;
  for (char* tok = std::strtok(line, " \n"); tok != nullptr; tok = std::strtok(nullptr, " \n")) {
    if (std::strcmp(tok, "tls") == 0) return true;
  }
  return false;
}

}  // namespace

std::string reloadConflict(const Config& running, const Config& next) {
  if (running.listeners.size() != next.listeners.size()) return "the number of listeners changed";
  for (size_t i = 0; i < running.listeners.size(); ++i) {
    if (running.listeners[i].name != next.listeners[i].name ||
        running.listeners[i].address.text != next.listeners[i].address.text) {
      return "listener '" + running.listeners[i].name + "' (" + running.listeners[i].address.text +
             ") changed";
    }
  }
  if (running.admin.address.text != next.admin.address.text) return "the admin address changed";
  if (running.workers != next.workers) return "'workers' changed";
  if (!(running.sandbox == next.sandbox)) return "'sandbox' changed";
  return "";
}

Server::Server(std::string config_path) : path_(std::move(config_path)) {}

Server::~Server() = default;

Snapshot Server::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

bool Server::reload() {
  LoadResult r = ConfigLoader::loadFile(path_);
  std::string why;
  Snapshot next;
  if (r.ok()) {
    why = reloadConflict(*snapshot().config, *r.config);
    if (!why.empty()) why = path_ + ": " + why + " (needs a restart)";
  } else {
    for (const ConfigError& e : r.errors) why += e.toString() + "\n";
  }
  if (why.empty()) {
    std::string err;
    next.flow_sink = FlowLogSink::open(r.config->logging.flow_log, &err);
    if (!next.flow_sink) why = path_ + ": " + err;
    next.health = std::make_shared<HealthTable>(*r.config, snapshot().health.get());
    if (why.empty() && !buildTls(*r.config, next, &err)) why = path_ + ": " + err;
    if (why.empty() && !measure(*r.config, next, &err)) why = path_ + ": " + err;
  }
  if (!why.empty()) {
    ++reloads_rejected_;
    std::fprintf(stderr, "dpuguard: reload rejected, the running config stays in force:\n%s\n",
                 why.c_str());
    return false;
  }
  next.config = r.config;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    current_ = std::move(next);
  }
  generation_.fetch_add(1, std::memory_order_release);
  checker_.use(snapshot().health);
  ++reloads_ok_;
  for (auto& w : workers_) w->wake();
  std::fprintf(stderr, "dpuguard: reloaded %s (generation %llu, measurement %s)\n", path_.c_str(),
               static_cast<unsigned long long>(generation()), snapshot().measurement->id().c_str());
  return true;
}

std::string Server::healthProblem() {
  if (draining_.load()) return "draining";
  const uint32_t stall = snapshot().config->admin.worker_stall_ms;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const int64_t now = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  for (size_t i = 0; i < workers_.size(); ++i) {
    const int64_t turned = workers_[i]->metrics().loop_turn_ms.load(std::memory_order_relaxed);
    if (turned != 0 && now - turned > stall) {
      return "worker " + std::to_string(i) + ": its event loop has not turned for " +
             std::to_string(now - turned) + " ms (admin.worker_stall_ms " + std::to_string(stall) +
             ")";
    }
  }
  return "";
}

bool Server::buildTls(const Config& c, Snapshot& s, std::string* why) {
  s.listener_tls.clear();
  for (const ListenerConfig& l : c.listeners) {
    if (!l.tls.enabled) {
      s.listener_tls.push_back(nullptr);
      continue;
    }
    std::shared_ptr<tls::TicketKeys>& keys = ticket_keys_[l.name];
    if (!keys) keys = std::make_shared<tls::TicketKeys>(l.tls.ticket_key_rotate_s);
    keys->setRotation(l.tls.ticket_key_rotate_s);
    std::string err;
    auto ctx = tls::ServerContext::build(l.tls, keys, &err);
    if (!ctx) {
      *why = "listener '" + l.name + "' tls: " + err;
      return false;
    }
    s.listener_tls.push_back(std::move(ctx));
  }
  return true;
}

bool Server::measure(const Config& c, Snapshot& s, std::string* why) {
  auto log = std::make_shared<attest::MeasurementLog>();
  if (!measureSnapshot(c, log.get(), why)) {
    *why = "cannot measure the snapshot: " + *why;
    return false;
  }
  s.measurement = std::move(log);
  return true;
}

AdminReply Server::attestation(std::string_view query) const {
  const Snapshot snap = snapshot();
  return attestationReply(query, *snap.measurement, snap.config->attestation.key.get());
}

std::string Server::metricsText() {
  std::vector<WorkerMetrics*> m;
  for (auto& w : workers_) m.push_back(&w->metrics());
  ProcessStats p;
  p.config_generation = generation();
  p.reloads_ok = reloads_ok_.load();
  p.reloads_rejected = reloads_rejected_.load();
  p.draining = draining_.load();
  std::string text = renderPrometheus(m, p) + inspectReport().prometheus();
  const Snapshot snap = snapshot();
  bool first = true;
  for (size_t i = 0; i < snap.listener_tls.size(); ++i) {
    if (!snap.listener_tls[i]) continue;
    if (first) {
      text +=
          "# HELP dpuguard_tls_certificate_expiry_timestamp_seconds When a listener's "
          "certificate expires (notAfter, Unix time).\n"
          "# TYPE dpuguard_tls_certificate_expiry_timestamp_seconds gauge\n";
      first = false;
    }
    for (const tls::CertificateInfo& cert : snap.listener_tls[i]->certificates()) {
      text += "dpuguard_tls_certificate_expiry_timestamp_seconds{listener=\"" +
              snap.config->listeners[i].name + "\",file=\"" + cert.file + "\"} " +
              std::to_string(cert.not_after_unix) + "\n";
    }
  }
  if (const std::shared_ptr<HealthTable> h = snapshot().health) text += h->prometheus();
  text +=
      "# HELP dpuguard_upstream_endpoint_ejected Workers that have the endpoint ejected now.\n"
      "# TYPE dpuguard_upstream_endpoint_ejected gauge\n";
  for (const auto& [endpoint, sum] : endpointSums())
    text += "dpuguard_upstream_endpoint_ejected{endpoint=\"" + endpoint + "\"} " +
            std::to_string(sum.ejected_workers) + "\n";
  return text;
}

std::map<std::string, Server::EndpointSum> Server::endpointSums() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const int64_t now = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  std::map<std::string, EndpointSum> sums;
  for (auto& w : workers_) {
    w->forEachEndpoint([&](const std::string& text, const EndpointHealth& h) {
      EndpointSum& s = sums[text];
      s.ejected_workers += h.ejected_until_ms.load(std::memory_order_relaxed) > now;
      s.active += h.active.load(std::memory_order_relaxed);
      s.ejections += h.ejections.load(std::memory_order_relaxed);
    });
  }
  return sums;
}

std::string Server::clustersJson() {
  const Snapshot snap = snapshot();
  const std::map<std::string, EndpointSum> sums = endpointSums();
  const size_t nworkers = workers_.size();
  std::string out = "{\"clusters\":[";
  for (size_t c = 0; c < snap.config->clusters.size(); ++c) {
    const ClusterConfig& cl = snap.config->clusters[c];
    std::string eps;
    size_t available = 0;
    for (size_t e = 0; e < cl.endpoints.size(); ++e) {
      const std::string& text = cl.endpoints[e].text;
      const auto it = sums.find(text);
      const EndpointSum s = it != sums.end() ? it->second : EndpointSum{};
      const std::atomic<uint8_t>* st = snap.health ? snap.health->state(c, e) : nullptr;
      const auto check = st ? static_cast<CheckState>(st->load()) : CheckState::kUnknown;
      const char* check_name = st == nullptr                     ? "unchecked"
                               : check == CheckState::kHealthy   ? "healthy"
                               : check == CheckState::kUnhealthy ? "unhealthy"
                                                                 : "unknown";
      available += check != CheckState::kUnhealthy && s.ejected_workers < nworkers;
      eps += std::string(e ? "," : "") + "{\"endpoint\":\"" + text + "\",\"health_check\":\"" +
             check_name + "\",\"ejected_workers\":" + std::to_string(s.ejected_workers) +
             ",\"active\":" + std::to_string(s.active) +
             ",\"ejections\":" + std::to_string(s.ejections) + "}";
    }
    std::string name;
    appendJsonEscaped(name, cl.name);
    out += std::string(c ? "," : "") + "{\"name\":\"" + name +
           "\",\"available\":" + std::to_string(available) + ",\"endpoints\":[" + eps + "]}";
  }
  return out + "],\"workers\":" + std::to_string(nworkers) + "}\n";
}

InspectReport Server::inspectReport() {
  InspectReport r;
  for (auto& w : workers_) w->edges().mergeInto(r.edges, r.rules, r.edges_dropped);
  r.buckets = buckets().size();
  r.buckets_refused = buckets().refusedFull();
  return r;
}

void Server::writeLearnedBaseline() {
  const std::shared_ptr<const Config> c = snapshot().config;
  const PolicyConfig& p = c->inspect.policy;
  if (p.mode != PolicyMode::kLearn) return;
  if (learned_file_ != p.baseline_file) {  // first time, or the file changed on reload
    learned_file_ = p.baseline_file;
    learned_.clear();
    if (p.baseline) learned_.insert(p.baseline->edges().begin(), p.baseline->edges().end());
  }
  if (inspectReport().addAllowedEdges(learned_) == 0) return;
  const std::string tmp = learned_file_ + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  const std::string text = inspect::EdgeBaseline::format(learned_);
  if (f == nullptr || std::fwrite(text.data(), 1, text.size(), f) != text.size() ||
      std::fclose(f) != 0 || std::rename(tmp.c_str(), learned_file_.c_str()) != 0) {
    std::fprintf(stderr, "dpuguard: cannot write the policy baseline %s: %s\n",
                 learned_file_.c_str(), std::strerror(errno));
    return;
  }
  std::fprintf(stderr, "dpuguard: policy baseline %s: %zu edges\n", learned_file_.c_str(),
               learned_.size());
}

void Server::logSandbox(const sandbox::SandboxSettings& s) {
  if (s.mode == sandbox::Mode::kOff && s.user.empty() && s.group.empty()) return;
  std::string roles;
  for (const sandbox::Role r : sandbox::kAllRoles) {
    roles += std::string(roles.empty() ? "" : ", ") + sandbox::roleName(r) + " " +
             std::to_string(sandbox::allowlistSize(r));
  }
  std::fprintf(stderr,
               "dpuguard: sandbox %s: uid %u gid %u, no_new_privs, not dumpable, no core; "
               "system calls allowed per thread role: %s%s\n",
               sandbox::modeName(s.mode), getuid(), getgid(), roles.c_str(),
               s.mode == sandbox::Mode::kEnforce ? "; any other kills the process (SIGSYS)"
               : s.mode == sandbox::Mode::kAudit ? "; any other is logged by the kernel"
                                                 : "");
}

int Server::run() {
  // Signals are taken synchronously by this thread only; workers inherit the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Private keys and ticket keys in OpenSSL's secure heap: locked in memory and left out of
  // core dumps (the EC private keys' numbers and TicketKeys are allocated there).
  if (CRYPTO_secure_malloc_init(1u << 18, 16) == 0)
    std::fprintf(stderr, "dpuguard: no secure heap for key material (mlock refused)\n");
  LoadResult r = ConfigLoader::loadFile(path_);
  if (!r.ok()) {
    for (const ConfigError& e : r.errors) std::fprintf(stderr, "%s\n", e.toString().c_str());
    return 1;
  }
  std::string err;
  current_.config = r.config;
  current_.health = std::make_shared<HealthTable>(*r.config, nullptr);
  current_.flow_sink = FlowLogSink::open(r.config->logging.flow_log, &err);
  if (!current_.flow_sink) {
    std::fprintf(stderr, "%s: %s\n", path_.c_str(), err.c_str());
    return 1;
  }
  if (!buildTls(*r.config, current_, &err) || !measure(*r.config, current_, &err)) {
    std::fprintf(stderr, "%s: %s\n", path_.c_str(), err.c_str());
    return 1;
  }
  generation_.store(1);
  const Config& c = *r.config;
  for (const ListenerConfig& l : c.listeners) {
    if (l.tls.ktls && !kernelOffersKtls()) {
      std::fprintf(stderr,
                   "dpuguard: listener '%s': ktls is on but this kernel offers no 'tls' TCP ULP "
                   "(/proc/sys/net/ipv4/tcp_available_ulp); records stay in user space\n",
                   l.name.c_str());
    }
  }
  const unsigned n = c.workers != 0 ? c.workers : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    std::vector<int> fds;
    for (const ListenerConfig& l : c.listeners) {
      const int fd = listenSocket(l.address, true, &err);
      if (fd < 0) {
        std::fprintf(stderr, "dpuguard: listener '%s': %s\n", l.name.c_str(), err.c_str());
        for (int f : fds) close(f);
        return 1;
      }
      fds.push_back(fd);
    }
    workers_.push_back(std::make_unique<Worker>(*this, std::move(fds)));
  }
  if (c.admin.enabled) {
    AdminHandlers h;
    h.metrics = [this] { return metricsText(); };
    h.config = [this] { return configToJson(*snapshot().config); };
    h.unhealthy = [this] { return healthProblem(); };
    h.edges = [this] { return inspectReport().edgesJson(); };
    h.clusters = [this] { return clustersJson(); };
    h.measurement = [this] { return snapshot().measurement->json() + "\n"; };
    h.attestation = [this](std::string_view query) { return attestation(query); };
    admin_ = std::make_unique<AdminServer>(c.admin.address, std::move(h));
    if (!admin_->listen(&err)) {
      std::fprintf(stderr, "dpuguard: admin: %s\n", err.c_str());
      return 1;
    }
  }
  // Every socket is bound: give up what running does not need before any thread starts.
  attest::bootId();  // read now, for /attestation: no thread opens files once confined
  if (!sandbox::lockDownProcess(c.sandbox, &err)) {
    std::fprintf(stderr, "dpuguard: %s\n", err.c_str());
    return 1;
  }
  if (admin_) admin_->startThread();
  for (auto& w : workers_)
    w->flowLog().setQueue(flow_writer_.addQueue(), &w->metrics().flow_log_dropped);
  flow_writer_.start();
  checker_.use(current_.health);
  checker_.start();
  for (auto& w : workers_) w->start();
  for (const ListenerConfig& l : c.listeners) {
    std::fprintf(stderr, "dpuguard: listener '%s' on %s, %u workers\n", l.name.c_str(),
                 l.address.text.c_str(), n);
  }
  if (c.admin.enabled)
    std::fprintf(stderr, "dpuguard: admin on %s\n", c.admin.address.text.c_str());
  std::fprintf(stderr, "dpuguard: measurement %s (composite %s)\n",
               current_.measurement->id().c_str(), current_.measurement->composite().c_str());
  logSandbox(c.sandbox);
  sandbox::enterRole(sandbox::Role::kControl);

  while (true) {
    siginfo_t info{};
    const timespec tick{1, 0};  // learn mode writes its baseline at most once a second
    const int sig = sigtimedwait(&set, &info, &tick);
    if (sig < 0) {
      writeLearnedBaseline();
    } else if (sig == SIGHUP) {
      reload();
    } else if (sig == SIGTERM || sig == SIGINT) {
      break;
    }
  }
  writeLearnedBaseline();
  std::fprintf(stderr, "dpuguard: draining (up to %u ms)\n", snapshot().config->drain_timeout_ms);
  draining_.store(true);
  for (auto& w : workers_) w->beginDrain();
  for (auto& w : workers_) w->join();
  flow_writer_.stop();
  checker_.stop();
  if (admin_) admin_->stop();
  std::fprintf(stderr, "dpuguard: stopped\n");
  return 0;
}

}  // namespace dpuguard::proxy
