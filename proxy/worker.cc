// Worker implementation: accept loop, snapshot adoption, drain, deferred deletion.
#include "proxy/worker.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "proxy/attestation_reply.h"
#include "proxy/core/plain_transport.h"
#include "proxy/http/client_session.h"
#include "sandbox/process_sandbox.h"

namespace dpuguard::proxy {

class Worker::Acceptor final : public IoHandler {
 public:
  Acceptor(Worker& w, size_t listener, int fd) : worker_(w), listener_(listener), fd_(fd) {}
  void onIo(uint32_t) override { worker_.accept(listener_, fd_); }

 private:
  Worker& worker_;
  size_t listener_;
  int fd_;
};

class Worker::DrainTimer final : public Timer {
 public:
  explicit DrainTimer(Worker& w) : worker_(w) {}
  void onTimer() override {
    // Time is up: whatever is still open is cut.
    for (ClientSession* s :
         std::vector<ClientSession*>(worker_.sessions_.begin(), worker_.sessions_.end())) {
      s->forceClose();
    }
    worker_.loop_.stop();
  }

 private:
  Worker& worker_;
};

// Turns the loop at least once a second so its heartbeat (metrics().loop_turn_ms) shows a
// live worker even when no connection has anything to do.
class Worker::Heartbeat final : public Timer {
 public:
  explicit Heartbeat(Worker& w) : worker_(w) {}
  void onTimer() override {
    worker_.metrics_.loop_turn_ms.store(worker_.loop_.now(), std::memory_order_relaxed);
    worker_.loop_.timers().schedule(this, worker_.loop_.now() + 1000);
  }

 private:
  Worker& worker_;
};

// Quotes for a host that challenges a link: the measurement of the snapshot this worker runs,
// signed with that snapshot's device key (as GET /attestation signs it).
class Worker::QuoteSigner final : public HostLink::QuoteSource {
 public:
  explicit QuoteSigner(Worker& w) : worker_(w) {}
  bool quote(std::string_view nonce_hex, std::string* out) override {
    const WorkerRuntime& rt = *worker_.runtime_;
    if (rt.measurement == nullptr) {
      *out = "this dpuguard runs no measured snapshot";
      return false;
    }
    AdminReply r = attestationReply("nonce=" + std::string(nonce_hex), *rt.measurement,
                                    rt.config->attestation.key.get(), attest::kContextHostChannel);
    while (!r.body.empty() && r.body.back() == '\n') r.body.pop_back();
    *out = std::move(r.body);
    return r.status == 200;
  }

 private:
  Worker& worker_;
};

// The labels link's messages into host_labels_, with the counters.
class Worker::LabelFeed final : public HostLink::LabelSink {
 public:
  explicit LabelFeed(Worker& w) : worker_(w) {}
  void reset() override {
    worker_.host_labels_.clear();
    warned_ = false;
    update();
  }
  void label(const shm::IdentityLabelView& v) override {
    IpPrefix network;
    network.network.family = v.prefix.family == 4 ? AF_INET : AF_INET6;
    std::memcpy(network.network.bytes.data(), v.prefix.addr, v.prefix.family == 4 ? 4 : 16);
    network.bits = v.prefix.prefix_len;
    using Result = inspect::HostLabelTable::Result;
    const Result r = worker_.host_labels_.apply(network, v.identity,
                                                (v.prefix.flags & shm::kLabelWithdraw) != 0);
    if (r == Result::kApplied) bump(worker_.metrics_.host_labels_applied);
    if (r != Result::kApplied && r != Result::kUnchanged) {
      bump(worker_.metrics_.host_labels_refused);
      if (!warned_) {  // once per channel: a confused or hostile host must not flood the log
        warned_ = true;
        std::fprintf(stderr,
                     "dpuguard: host channel '%s': identity label '%.*s' refused (%s); more are "
                     "only counted\n",
                     worker_.labels_from_.c_str(), static_cast<int>(v.identity.size()),
                     v.identity.data(),
                     r == Result::kOutside ? "outside host_channel.labels.within"
                     : r == Result::kFull  ? "max_labels reached"
                                           : "withdraws a label not held");
      }
    }
    update();
  }

 private:
  void update() {
    worker_.metrics_.host_labels.store(static_cast<int64_t>(worker_.host_labels_.size()));
  }

  Worker& worker_;
  bool warned_ = false;
};

Worker::Worker(SnapshotSource& source, std::vector<int> listen_fds)
    : source_(source),
      listen_fds_(std::move(listen_fds)),
      tls_acceptor_(
          loop_, metrics_,
          [this](std::unique_ptr<tls::TlsTransport> t, const SocketAddress& peer, size_t i) {
            startSession(std::move(t), peer, i);
          },
          [this] { gate_->closed(sessions_.size() + tls_acceptor_.pending()); }) {
  unrouted_stats_ = metrics_.routeStats("");
  std::vector<AcceptGate::Listener> gated;
  for (size_t i = 0; i < listen_fds_.size(); ++i) {
    acceptors_.push_back(std::make_unique<Acceptor>(*this, i, listen_fds_[i]));
    loop_.add(listen_fds_[i], EPOLLIN, acceptors_.back().get());
    gated.push_back({listen_fds_[i], acceptors_.back().get()});
  }
  gate_ = std::make_unique<AcceptGate>(loop_, metrics_, std::move(gated), "worker");
  adoptSnapshot();
  drain_timer_ = std::make_unique<DrainTimer>(*this);
  heartbeat_ = std::make_unique<Heartbeat>(*this);
  heartbeat_->onTimer();
}

Worker::~Worker() {
  if (heartbeat_) loop_.timers().cancel(heartbeat_.get());
  for (int fd : listen_fds_) {
    if (fd >= 0) close(fd);
  }
  for (ClientSession* s : sessions_) delete s;
  for (ClientSession* s : dead_sessions_) delete s;
  for (auto& [addr, h] : hosts_) {
    for (UpstreamConnection* c : std::vector<UpstreamConnection*>(h->idle)) c->close();
  }
  for (UpstreamConnection* c : dead_upstreams_) delete c;
}

void Worker::start() {
  thread_ = std::thread([this] {
    sandbox::enterRole(sandbox::Role::kWorker);
    run();
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::beginDrain() {
  drain_requested_.store(true);
  loop_.wake();
}

void Worker::run() {
  loop_.run([this] { beforeWait(); });
  flow_log_.flush();
}

void Worker::beforeWait() {
  metrics_.loop_turn_ms.store(loop_.now(), std::memory_order_relaxed);
  flow_log_.flush();
  for (ClientSession* s : dead_sessions_) delete s;
  dead_sessions_.clear();
  for (UpstreamConnection* c : dead_upstreams_) delete c;
  dead_upstreams_.clear();
  tls_acceptor_.reap();
  if (source_.generation() != generation_) adoptSnapshot();
  if (drain_requested_.load() && !draining_) {
    draining_ = true;
    gate_->shut();
    for (size_t i = 0; i < listen_fds_.size(); ++i) {
      loop_.remove(listen_fds_[i]);
      close(listen_fds_[i]);
      listen_fds_[i] = -1;
    }
    for (ClientSession* s : std::vector<ClientSession*>(sessions_.begin(), sessions_.end()))
      s->drain();
    tls_acceptor_.abandonAll();
    loop_.timers().schedule(drain_timer_.get(), loop_.now() + runtime_->config->drain_timeout_ms);
    // Sessions closed by drain() are retired: free them now.
    for (ClientSession* s : dead_sessions_) delete s;
    dead_sessions_.clear();
  }
  if (draining_ && sessions_.empty()) loop_.stop();
}

void Worker::adoptSnapshot() {
  generation_ = source_.generation();
  Snapshot snap = source_.snapshot();
  auto rt = std::make_shared<WorkerRuntime>(snap.config);
  const Config& c = *rt->config;
  rt->clusters.reserve(c.clusters.size());
  rt->health = snap.health;
  for (size_t ci = 0; ci < c.clusters.size(); ++ci) {
    const ClusterConfig& cc = c.clusters[ci];
    std::vector<UpstreamHost*> hosts;
    std::vector<EndpointHealth*> health;
    for (const Endpoint& e : cc.endpoints) {
      hosts.push_back(host(e));
      health.push_back(&hosts.back()->health);
    }
    std::vector<std::shared_ptr<tls::SessionSlot>> sessions;
    if (cc.tls.context != nullptr) {  // a new snapshot's context: no session of the old one
      for (size_t i = 0; i < hosts.size(); ++i)
        sessions.push_back(std::make_shared<tls::SessionSlot>());
    }
    LoadBalancer lb(cc, health);
    lb.setCounters(&metrics_.upstream_panics, &metrics_.upstream_ejections_refused);
    for (size_t k = 0; snap.health && k < cc.endpoints.size(); ++k)
      lb.setCheck(k, snap.health->state(ci, k));
    rt->clusters.push_back(ClusterRuntime{&cc, hosts, std::move(lb), sessions});
  }
  for (const RouteConfig& r : c.routes) rt->route_stats.push_back(metrics_.routeStats(r.name));
  rt->listener_tls = snap.listener_tls;
  if (snap.measurement) rt->measurement_id = snap.measurement->id();
  rt->measurement = snap.measurement;
  rt->listener_tls.resize(c.listeners.size());
  tls_acceptor_.configure(c.listeners, rt->listener_tls);
  runtime_ = std::move(rt);
  gate_->setMaxConnections(c.max_connections);
  adoptHostLabels(c.host_channel.labels);
  flow_log_.flush();
  flow_log_.setSink(snap.flow_sink);
  flow_log_.setQueueCapacity(c.logging.flow_log_queue_bytes);
}

void Worker::adoptHostLabels(const HostLabelsConfig& config) {
  if (!label_feed_) label_feed_ = std::make_unique<LabelFeed>(*this);
  if (config.from != labels_from_) {  // another labeler: what the old one said no longer holds
    if (!labels_from_.empty()) hostLink(labels_from_).takeLabels(nullptr);
    host_labels_.clear();
    labels_from_ = config.from;
    if (!labels_from_.empty()) hostLink(labels_from_).takeLabels(label_feed_.get());
  }
  host_labels_.configure(config);
  metrics_.host_labels.store(static_cast<int64_t>(host_labels_.size()));
}

HostLink& Worker::hostLink(const std::string& name) {
  std::unique_ptr<HostLink>& link = host_links_[name];
  // Ring geometry and socket directory come from the config in force when the link is first
  // needed; a reload that changes host_channel applies to links opened after a restart.
  if (!link) {
    link = std::make_unique<HostLink>(loop_, metrics_, name, runtime_->config->host_channel);
    if (!quote_signer_) quote_signer_ = std::make_unique<QuoteSigner>(*this);
    link->setQuoteSource(quote_signer_.get());
  }
  return *link;
}

UpstreamHost* Worker::host(const Endpoint& endpoint) {
  std::lock_guard<std::mutex> lock(hosts_mutex_);
  auto& slot = hosts_[endpoint.text];
  if (!slot) {
    slot = std::make_unique<UpstreamHost>();
    slot->endpoint = endpoint;
  }
  return slot.get();
}

void Worker::accept(size_t listener_index, int fd) {
  for (int i = 0; i < 64; ++i) {
    // max_connections counts handshakes in progress too: paused until one closes
    if (!gate_->admit(sessions_.size() + tls_acceptor_.pending())) return;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int c = accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) {
      gate_->failed(errno);  // EAGAIN: none left; out of descriptors: paused for a while
      return;
    }
    if (gate_->inReserve(c)) {  // the last descriptors are for upstreams and the admin port
      close(c);
      return;
    }
    const int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    adopt(c, SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len), listener_index);
  }
}

void Worker::adopt(int fd, const SocketAddress& peer, size_t listener_index) {
  const std::shared_ptr<const tls::ServerContext>& tls_context =
      runtime_->listener_tls[listener_index];
  if (tls_context == nullptr) {
    startSession(std::make_unique<PlainTransport>(fd), peer, listener_index);
    return;
  }
  tls_acceptor_.adopt(fd, peer, listener_index, tls_context);
}

void Worker::startSession(std::unique_ptr<Transport> t, const SocketAddress& peer,
                          size_t listener_index) {
  auto* s = new ClientSession(*this, std::move(t), peer, listener_index);
  sessions_.insert(s);
  s->start();
}

void Worker::retire(ClientSession* s) {
  sessions_.erase(s);
  if (gate_) gate_->closed(sessions_.size() + tls_acceptor_.pending());
  dead_sessions_.push_back(s);
}

void Worker::retire(UpstreamConnection* c) {
  dead_upstreams_.push_back(c);
}

}  // namespace dpuguard::proxy
