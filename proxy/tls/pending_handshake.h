// PendingHandshake: a TLS connection accepted on a listener, from accept to the end of its
// handshake, before any HTTP: the event loop drives TlsTransport::handshake() on readiness,
// and a deadline (handshake_timeout_ms) ends a client that stalls. A connection costs only
// its SSL and this object until it has proven it speaks TLS; then its owner takes the
// transport and starts the HTTP session on it. No thread per handshake.
#pragma once

#include <cstdint>
#include <memory>

#include "proxy/core/event_loop.h"
#include "proxy/core/socket_address.h"
#include "proxy/tls/server_context.h"
#include "proxy/tls/tls_transport.h"

namespace dpuguard::proxy::tls {

class PendingHandshake;

class HandshakeOwner {
 public:
  virtual ~HandshakeOwner() = default;
  // The handshake ended (`h.transport()` established, or failed with its failure()). Called
  // from inside the loop's dispatch: the owner may take the transport, and retires `h`
  // (deletes it later, never under this call).
  virtual void onHandshakeDone(PendingHandshake& h) = 0;
};

class PendingHandshake final : public IoHandler, public Timer {
 public:
  // `context` made the transport's SSL; its callbacks run during the handshake, so it is
  // held until the handshake ends, whatever reloads happen meanwhile.
  PendingHandshake(EventLoop& loop, HandshakeOwner& owner,
                   std::shared_ptr<const ServerContext> context, std::unique_ptr<TlsTransport> t,
                   const SocketAddress& peer, size_t listener_index);
  ~PendingHandshake() override;

  void start();
  // Ends it now (drain): the connection is closed, the owner is not called.
  void abandon();

  TlsTransport& transport() { return *transport_; }
  // After onHandshakeDone of an established one: the transport, for the session.
  std::unique_ptr<TlsTransport> take() { return std::move(transport_); }
  const SocketAddress& peer() const { return peer_; }
  size_t listenerIndex() const { return listener_index_; }
  bool done() const { return done_; }

  void onIo(uint32_t events) override;
  void onTimer() override;

 private:
  void step();
  void finish();

  EventLoop& loop_;
  HandshakeOwner& owner_;
  std::shared_ptr<const ServerContext> context_;
  std::unique_ptr<TlsTransport> transport_;
  SocketAddress peer_;
  size_t listener_index_;
  uint32_t interest_ = 0;
  bool done_ = false;
};

}  // namespace dpuguard::proxy::tls
