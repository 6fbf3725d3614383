#include "proxy/tls_acceptor.h"

#include <openssl/x509.h>
#include <unistd.h>

#include <utility>

namespace dpuguard::proxy {

TlsAcceptor::TlsAcceptor(EventLoop& loop, WorkerMetrics& metrics, Established established,
                         std::function<void()> closed)
    : loop_(loop),
      metrics_(metrics),
      established_(std::move(established)),
      closed_(std::move(closed)) {}

TlsAcceptor::~TlsAcceptor() {
  for (tls::PendingHandshake* h : handshakes_) delete h;
  reap();
}

void TlsAcceptor::configure(
    const std::vector<ListenerConfig>& listeners,
    const std::vector<std::shared_ptr<const tls::ServerContext>>& contexts) {
  stats_.resize(listeners.size());
  for (size_t i = 0; i < listeners.size(); ++i) {
    if (i < contexts.size() && contexts[i] && stats_[i] == nullptr)
      stats_[i] = metrics_.tlsStats(listeners[i].name);
  }
}

void TlsAcceptor::adopt(int fd, const SocketAddress& peer, size_t listener_index,
                        const std::shared_ptr<const tls::ServerContext>& context) {
  ListenerTlsStats& stats = *stats_[listener_index];
  if (handshakes_.size() >= context->config().max_pending_handshakes) {
    bump(stats.failures[static_cast<size_t>(tls::Failure::kOverload)]);
    ::close(fd);
    return;
  }
  SSL* ssl = context->newSsl();
  if (ssl == nullptr) {
    bump(stats.failures[static_cast<size_t>(tls::Failure::kInternal)]);
    ::close(fd);
    return;
  }
  auto transport = std::make_unique<tls::TlsTransport>(fd, ssl);
  transport->countFailuresIn(stats.failures.data());
  auto* h =
      new tls::PendingHandshake(loop_, *this, context, std::move(transport), peer, listener_index);
  handshakes_.insert(h);
  stats.pending.fetch_add(1, std::memory_order_relaxed);
  h->start();
}

void TlsAcceptor::abandonAll() {
  for (tls::PendingHandshake* h : handshakes_) {
    h->abandon();
    stats_[h->listenerIndex()]->pending.fetch_sub(1, std::memory_order_relaxed);
    dead_.push_back(h);
  }
  handshakes_.clear();
}

void TlsAcceptor::reap() {
  for (tls::PendingHandshake* h : dead_) delete h;
  dead_.clear();
}

void TlsAcceptor::onHandshakeDone(tls::PendingHandshake& h) {
  handshakes_.erase(&h);
  dead_.push_back(&h);
  ListenerTlsStats& stats = *stats_[h.listenerIndex()];
  stats.pending.fetch_sub(1, std::memory_order_relaxed);
  if (!h.transport().established()) {
    bump(stats.failures[static_cast<size_t>(h.transport().failure())]);
    logRefusal(h, stats);
    h.transport().answerPlainHttp();
    h.transport().close();
    closed_();
    return;
  }
  bump(stats.handshakes);
  if (h.transport().tls()->resumed) bump(stats.resumed);
  established_(h.take(), h.peer(), h.listenerIndex());
}

// Client certificates only: the other failures are scanners and broken clients, which the
// counters cover.
void TlsAcceptor::logRefusal(tls::PendingHandshake& h, const ListenerTlsStats& stats) {
  const tls::Failure f = h.transport().failure();
  std::string why;
  if (f == tls::Failure::kNoCertificate) {
    why = "none was sent and the listener requires one";
  } else if (f == tls::Failure::kBadCertificate) {
    const long v = SSL_get_verify_result(h.transport().ssl());
    why = v != X509_V_OK ? X509_verify_cert_error_string(v) : "it did not verify";
  } else if (f == tls::Failure::kIdentity) {
    why = "no single well-formed SPIFFE ID of an allowed trust domain";
  } else {
    return;
  }
  refusals_.note(loop_.now(), "listener '" + stats.listener + "': client certificate from " +
                                  h.peer().text + " refused (" + std::string(tls::failureName(f)) +
                                  "): " + why);
}

}  // namespace dpuguard::proxy
