// HealthChecker implementation: each Probe is a timer (the next check, or the deadline of the
// one in progress) and an IoHandler (connect, write the request, read the status line).
#include "proxy/router/health_checker.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "parsers/http1/message_parser.h"
#include "proxy/core/socket_ops.h"
#include "sandbox/process_sandbox.h"

namespace dpuguard::proxy {
namespace {

bool sameCheck(const HealthCheckConfig& a, const HealthCheckConfig& b) {
  return a.path == b.path && a.host == b.host && a.interval_ms == b.interval_ms &&
         a.timeout_ms == b.timeout_ms && a.healthy_threshold == b.healthy_threshold &&
         a.unhealthy_threshold == b.unhealthy_threshold;
}

}  // namespace

HealthTable::HealthTable(const Config& config, const HealthTable* previous) {
  by_cluster_.resize(config.clusters.size());
  for (size_t c = 0; c < config.clusters.size(); ++c) {
    const ClusterConfig& cl = config.clusters[c];
    by_cluster_[c].assign(cl.endpoints.size(), nullptr);
    if (!cl.health_check.enabled) continue;
    for (size_t e = 0; e < cl.endpoints.size(); ++e) {
      if (cl.endpoints[e].isHost()) continue;
      auto entry = std::make_unique<EndpointCheck>();
      entry->cluster = cl.name;
      entry->endpoint = cl.endpoints[e];
      entry->config = cl.health_check;
      for (const auto& old : previous ? previous->entries_ : entries_) {
        if (old->cluster == cl.name && old->endpoint.text == cl.endpoints[e].text &&
            sameCheck(old->config, cl.health_check)) {
          entry->state.store(old->state.load());
          entry->passes.store(old->passes.load());
          entry->failures.store(old->failures.load());
          entry->streak.store(old->streak.load());
        }
      }
      by_cluster_[c][e] = entry.get();
      entries_.push_back(std::move(entry));
    }
  }
}

const std::atomic<uint8_t>* HealthTable::state(size_t c, size_t e) const {
  if (c >= by_cluster_.size() || e >= by_cluster_[c].size() || by_cluster_[c][e] == nullptr)
    return nullptr;
  return &by_cluster_[c][e]->state;
}

std::string HealthTable::prometheus() const {
  std::string out =
      "# HELP dpuguard_upstream_endpoint_healthy Active health check verdict: 1 healthy, 0 "
      "unhealthy, -1 not known yet.\n# TYPE dpuguard_upstream_endpoint_healthy gauge\n";
  for (const auto& e : entries_) {
    const auto s = static_cast<CheckState>(e->state.load(std::memory_order_relaxed));
    out += "dpuguard_upstream_endpoint_healthy{cluster=\"" + e->cluster + "\",endpoint=\"" +
           e->endpoint.text + "\"} " +
           (s == CheckState::kHealthy     ? "1"
            : s == CheckState::kUnhealthy ? "0"
                                          : "-1") +
           "\n";
  }
  out +=
      "# HELP dpuguard_upstream_health_checks_total Active health checks by result.\n# TYPE "
      "dpuguard_upstream_health_checks_total counter\n";
  for (const auto& e : entries_) {
    const std::string labels = "cluster=\"" + e->cluster + "\",endpoint=\"" + e->endpoint.text;
    out += "dpuguard_upstream_health_checks_total{" + labels + "\",result=\"pass\"} " +
           std::to_string(e->passes.load()) + "\n";
    out += "dpuguard_upstream_health_checks_total{" + labels + "\",result=\"fail\"} " +
           std::to_string(e->failures.load()) + "\n";
  }
  return out;
}

// One endpoint's checks: idle until its timer, then one exchange on a fresh connection.
class HealthChecker::Probe final : public IoHandler, public Timer {
 public:
  Probe(EventLoop& loop, EndpointCheck& check) : loop_(loop), check_(check) {
    // Spread the first checks over the interval's first 100 ms instead of all at once.
    loop_.timers().schedule(
        this, loop_.now() + static_cast<int64_t>(reinterpret_cast<uintptr_t>(this) % 100));
  }
  ~Probe() override {
    loop_.timers().cancel(this);
    closeFd();
  }

  void onTimer() override {
    if (fd_ >= 0) return finish(false);  // the check did not end within timeout_ms
    begin();
  }

  void onIo(uint32_t events) override {
    if (connecting_) {
      if (socketError(fd_) != 0) return finish(false);
      connecting_ = false;
    }
    if (events & EPOLLOUT) {
      while (sent_ < request_.size()) {
        const ssize_t n =
            ::send(fd_, request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) return finish(false);
        sent_ += static_cast<size_t>(n);
      }
      loop_.modify(fd_, EPOLLIN | EPOLLRDHUP, this);
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read();
  }

 private:
  void begin() {
    const HealthCheckConfig& hc = check_.config;
    bool in_progress = false;
    int err = 0;
    fd_ = connectSocket(check_.endpoint.address, &in_progress, &err);
    loop_.timers().schedule(this, loop_.now() + hc.timeout_ms);
    if (fd_ < 0) return finish(false);
    connecting_ = in_progress;
    request_ = "GET " + hc.path +
               " HTTP/1.1\r\nHost: " + (hc.host.empty() ? check_.endpoint.address.text : hc.host) +
               "\r\nUser-Agent: dpuguard-health-check\r\nConnection: close\r\n\r\n";
    sent_ = 0;
    used_ = 0;
    parser_ = std::make_unique<http1::MessageParser>(http1::MessageParser::Kind::kResponse,
                                                     http1::Limits{});
    loop_.add(fd_, EPOLLOUT | EPOLLRDHUP, this);
  }

  void read() {
    while (used_ < sizeof buf_) {
      const ssize_t n = ::read(fd_, buf_ + used_, sizeof buf_ - used_);
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) return finish(false);  // closed or reset before a whole head
      http1::NullBodySink sink;
      const http1::ParseResult r =
          parser_->feed(std::string_view(buf_ + used_, static_cast<size_t>(n)), sink);
      used_ += static_cast<size_t>(n);
      if (r.status == http1::ParseStatus::kError) return finish(false);
      if (r.status == http1::ParseStatus::kHeadComplete ||
          r.status == http1::ParseStatus::kMessageComplete) {
        const int status = parser_->head().status;
        return finish(status >= 200 && status < 300);
      }
    }
    finish(false);  // a head larger than we read for a check
  }

  void finish(bool pass) {
    closeFd();
    const HealthCheckConfig& hc = check_.config;
    const auto state = static_cast<CheckState>(check_.state.load());
    const bool same_way = pass ? state != CheckState::kUnhealthy : state == CheckState::kUnhealthy;
    const uint32_t streak = same_way ? 0 : check_.streak.load() + 1;
    (pass ? check_.passes : check_.failures).fetch_add(1);
    if (state == CheckState::kUnknown) {  // the first verdict decides at once
      check_.state.store(
          static_cast<uint8_t>(pass ? CheckState::kHealthy : CheckState::kUnhealthy));
      check_.streak.store(0);
    } else if (!same_way && streak >= (pass ? hc.healthy_threshold : hc.unhealthy_threshold)) {
      check_.state.store(
          static_cast<uint8_t>(pass ? CheckState::kHealthy : CheckState::kUnhealthy));
      check_.streak.store(0);
    } else {
      check_.streak.store(streak);
    }
    loop_.timers().schedule(this, loop_.now() + hc.interval_ms);
  }

  void closeFd() {
    if (fd_ < 0) return;
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }

  EventLoop& loop_;
  EndpointCheck& check_;
  int fd_ = -1;
  bool connecting_ = false;
  std::string request_;
  size_t sent_ = 0;
  std::unique_ptr<http1::MessageParser> parser_;
  char buf_[4096];  // never moved: the parser's views point into it
  size_t used_ = 0;
};

HealthChecker::HealthChecker() = default;

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::use(std::shared_ptr<HealthTable> table) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    next_ = std::move(table);
    pending_ = true;
  }
  loop_.wake();
}

void HealthChecker::start() {
  thread_ = std::thread([this] {
    sandbox::enterRole(sandbox::Role::kTelemetry);
    run();
  });
}

void HealthChecker::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  loop_.wake();
  thread_.join();
  probes_.clear();
}

void HealthChecker::adopt() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!pending_) return;
  pending_ = false;
  probes_.clear();
  table_ = std::move(next_);
  if (table_ == nullptr) return;
  for (const auto& e : table_->entries()) probes_.push_back(std::make_unique<Probe>(loop_, *e));
}

void HealthChecker::run() {
  loop_.run([this] {
    if (stop_.load()) {
      loop_.stop();
      return;
    }
    adopt();
  });
}

}  // namespace dpuguard::proxy
