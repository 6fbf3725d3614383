// UpstreamConnection implementation.
#include "proxy/http/upstream_connection.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "proxy/core/plain_transport.h"
#include "proxy/core/socket_ops.h"
#include "proxy/http/session_services.h"

namespace dpuguard::proxy {

UpstreamConnection::UpstreamConnection(SessionServices& worker, UpstreamHost& host,
                                       size_t buffer_bytes, const http1::Limits& limits)
    : in(buffer_bytes, http1::MessageParser::Kind::kResponse, limits),
      out(buffer_bytes),
      worker_(worker),
      host_(host) {}

UpstreamConnection::~UpstreamConnection() = default;  // the transport closes its socket

bool UpstreamConnection::connect(const UpstreamTls& tls, int* err) {
  const Endpoint& endpoint = host_.endpoint;
  if (endpoint.kind == Endpoint::Kind::kHost) {
    // A host-resident backend: a stream over the shm channel, in memory (never "connecting").
    transport_ = worker_.hostLink(endpoint.backend)
                     .openStream(worker_.runtime()->config->limits.parserLimits(), err);
    if (transport_ == nullptr) return false;
  } else {
    bool in_progress = false;
    const int fd = connectSocket(endpoint.address, &in_progress, err);
    if (fd < 0) return false;
    if (tls.context != nullptr) {
      SSL* ssl = tls.context->newSsl(endpoint.address, tls.session.get());
      if (ssl == nullptr) {
        ::close(fd);
        *err = ENOMEM;
        return false;
      }
      auto t = std::make_unique<tls::TlsTransport>(fd, ssl);
      tls_ = t.get();
      transport_ = std::move(t);
      tls_context_ = tls.context;
      tls_session_ = tls.session;
    } else {
      transport_ = std::make_unique<PlainTransport>(fd);
    }
    tcp_pending_ = in_progress;
    connecting_ = in_progress || tls_ != nullptr;
  }
  fd_ = transport_->fd();
  open_ = true;
  interest_ = EPOLLOUT | EPOLLRDHUP;
  if (fd_ >= 0)
    worker_.loop().add(fd_, interest_, this);
  else
    transport_->watch(this, interest_);
  bump(worker_.metrics().upstream_connections_opened);
  worker_.metrics().upstream_connections_active.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void UpstreamConnection::attach(UpstreamUser* user) {
  user_ = user;
  ++uses_;
  worker_.loop().timers().cancel(this);
  if (uses_ > 1) bump(worker_.metrics().upstream_connections_reused);
}

void UpstreamConnection::park(uint32_t max_idle) {
  user_ = nullptr;
  if (host_.idle.size() >= max_idle || !in.buffer().empty() || !out.empty() ||
      transport_->hasBufferedInput()) {
    close();
    return;
  }
  // Records TLS already holds (a ticket read with the response's last bytes) are absorbed
  // now: no socket event would announce them.
  if (tls_ != nullptr && SSL_has_pending(tls_->ssl()) == 1 && !absorbIdle()) {
    close();
    return;
  }
  in.releaseIdleStorage();
  out.releaseIfEmpty();
  setInterest(EPOLLIN | EPOLLRDHUP | transportInterest());
  host_.idle.push_back(this);
  worker_.loop().timers().schedule(this, worker_.loop().now() + kPoolIdleTimeoutMs);
}

void UpstreamConnection::close() {
  if (closed()) return;
  if (fd_ >= 0)
    worker_.loop().remove(fd_);
  else
    transport_->watch(nullptr, 0);
  // A TLS connection that ends without a failure says so (close_notify): the server can tell
  // the end from a cut, and its session stays resumable (OpenSSL marks the session of a
  // connection freed without one as not resumable, for the next connection too).
  if (tls_ != nullptr && tls_->established() && tls_->failure() == tls::Failure::kNone)
    tls_->shutdownWrite();
  transport_->close();
  fd_ = -1;
  open_ = false;
  user_ = nullptr;
  worker_.loop().timers().cancel(this);
  auto& idle = host_.idle;
  idle.erase(std::remove(idle.begin(), idle.end(), this), idle.end());
  worker_.metrics().upstream_connections_active.fetch_sub(1, std::memory_order_relaxed);
  worker_.retire(this);
}

void UpstreamConnection::setInterest(uint32_t events) {
  if (closed() || events == interest_) return;
  interest_ = events;
  if (fd_ >= 0)
    worker_.loop().modify(fd_, events, this);
  else
    transport_->watch(this, events);
}

UpstreamConnection::Io UpstreamConnection::readSome() {
  Buffer& b = in.buffer();
  if (b.tailroom() == 0) b.compact();  // refused while a response head is in progress (pinned)
  if (b.tailroom() == 0) return Io::kAgain;
  const Transport::Result r = transport_->read(b.tail(), b.tailroom());
  switch (r.io) {
    case Transport::Io::kDone:
      b.produced(r.bytes);
      return Io::kProgress;
    case Transport::Io::kEof:
      return Io::kEof;
    case Transport::Io::kWouldBlock:
      return Io::kAgain;
    case Transport::Io::kError:
      break;
  }
  return Io::kError;
}

UpstreamConnection::Io UpstreamConnection::writeSome() {
  if (out.empty() || connecting_) return Io::kAgain;
  const Transport::Result r = transport_->write(out.readable());
  if (r.io == Transport::Io::kDone) {
    out.consume(r.bytes);
    return Io::kProgress;
  }
  return r.io == Transport::Io::kWouldBlock ? Io::kAgain : Io::kError;
}

UpstreamConnection::Connect UpstreamConnection::advanceConnect(uint32_t events) {
  if (!connecting_) return Connect::kDone;
  if (tcp_pending_) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return Connect::kAgain;
    if (socketError(fd_) != 0) return Connect::kFailed;
    tcp_pending_ = false;
  }
  if (tls_ != nullptr) return handshake();
  connecting_ = false;
  return Connect::kDone;
}

UpstreamConnection::Connect UpstreamConnection::handshake() {
  switch (tls_->handshake()) {
    case Transport::Io::kDone:
      break;
    case Transport::Io::kWouldBlock:
      return Connect::kAgain;
    case Transport::Io::kEof:
      return tlsFailed(tls::Failure::kPeerClosed);
    case Transport::Io::kError:
      return tlsFailed(tls_->failure());
  }
  connecting_ = false;
  WorkerMetrics& m = worker_.metrics();
  bump(m.upstream_tls_handshakes);
  if (SSL_session_reused(tls_->ssl()) == 1) bump(m.upstream_tls_resumed);
  return Connect::kDone;
}

UpstreamConnection::Connect UpstreamConnection::tlsFailed(tls::Failure f) {
  // A refused certificate is named by its verify result whatever the transport made of the
  // alert OpenSSL sent; without verification there is no such result to read.
  tls_verify_error_ = tls_context_->verifies() ? tls::TlsClientContext::verifyError(tls_->ssl())
                                               : std::string_view();
  if (!tls_verify_error_.empty()) f = tls::Failure::kBadCertificate;
  if (f == tls::Failure::kNone) f = tls::Failure::kInternal;
  tls_failure_ = f;
  bump(worker_.metrics().upstream_tls_failures[static_cast<size_t>(f)]);
  return Connect::kFailed;
}

uint32_t UpstreamConnection::connectInterest() const {
  if (tcp_pending_ || tls_ == nullptr) return EPOLLOUT;
  const uint32_t wants = transportInterest();
  return wants != 0 ? wants : static_cast<uint32_t>(EPOLLIN);
}

void UpstreamConnection::connectTimedOut() {
  if (!connecting_ || tcp_pending_ || tls_ == nullptr) return;
  tls_failure_ = tls::Failure::kTimeout;
  bump(worker_.metrics().upstream_tls_failures[static_cast<size_t>(tls::Failure::kTimeout)]);
}

uint32_t UpstreamConnection::transportInterest() const {
  if (transport_ == nullptr) return 0;
  return (transport_->wantsRead() ? EPOLLIN : 0u) | (transport_->wantsWrite() ? EPOLLOUT : 0u);
}

bool UpstreamConnection::hasBufferedInput() const {
  return !connecting_ && transport_ != nullptr && transport_->hasBufferedInput();
}

bool UpstreamConnection::absorbIdle() {
  // A TLS 1.3 server may send NewSessionTicket messages (or a KeyUpdate) at any time after
  // the handshake; SSL_read handles them and, with no data behind them, says "would block".
  char probe;
  const Transport::Result r = transport_->read(&probe, 1);
  return r.io == Transport::Io::kWouldBlock;
}

void UpstreamConnection::onIo(uint32_t events) {
  if (user_ != nullptr) {
    user_->onUpstreamIo(events);
    return;
  }
  // Parked: the server closed it, or sent bytes nobody asked for. Either way it is unusable.
  // Only TLS's own records leave it usable.
  if (tls_ != nullptr && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && absorbIdle()) {
    setInterest(EPOLLIN | EPOLLRDHUP | transportInterest());
    return;
  }
  close();
}

void UpstreamConnection::onTimer() {
  if (user_ == nullptr) close();
}

}  // namespace dpuguard::proxy
