// PendingHandshake: readiness in, handshake steps out.
#include "proxy/tls/pending_handshake.h"

#include <sys/epoll.h>

namespace dpuguard::proxy::tls {

PendingHandshake::PendingHandshake(EventLoop& loop, HandshakeOwner& owner,
                                   std::shared_ptr<const ServerContext> context,
                                   std::unique_ptr<TlsTransport> t, const SocketAddress& peer,
                                   size_t listener_index)
    : loop_(loop),
      owner_(owner),
      context_(std::move(context)),
      transport_(std::move(t)),
      peer_(peer),
      listener_index_(listener_index) {}

PendingHandshake::~PendingHandshake() {
  if (scheduled()) loop_.timers().cancel(this);
  if (transport_ && transport_->fd() >= 0 && !done_) loop_.remove(transport_->fd());
}

void PendingHandshake::start() {
  interest_ = EPOLLIN;
  loop_.add(transport_->fd(), interest_, this);
  loop_.timers().schedule(this, loop_.now() + context_->config().handshake_timeout_ms);
}

void PendingHandshake::abandon() {
  if (done_) return;
  finish();
  transport_->close();
}

void PendingHandshake::onIo(uint32_t /*events*/) {
  if (!done_) step();
}

void PendingHandshake::onTimer() {
  if (done_) return;
  transport_->fail(Failure::kTimeout);
  finish();
  owner_.onHandshakeDone(*this);
}

void PendingHandshake::step() {
  const Transport::Io io = transport_->handshake();
  if (io == Transport::Io::kWouldBlock) {
    // Exactly what OpenSSL waits for: level-triggered input that is not wanted would spin.
    const uint32_t want = transport_->wantsWrite() ? EPOLLOUT : EPOLLIN;
    if (want != interest_) {
      interest_ = want;
      loop_.modify(transport_->fd(), interest_, this);
    }
    return;
  }
  if (io == Transport::Io::kDone) {
    if (const Failure f = context_->admit(*transport_); f != Failure::kNone) transport_->fail(f);
  }
  finish();
  owner_.onHandshakeDone(*this);
}

void PendingHandshake::finish() {
  done_ = true;
  if (scheduled()) loop_.timers().cancel(this);
  if (transport_->fd() >= 0) loop_.remove(transport_->fd());
}

}  // namespace dpuguard::proxy::tls
