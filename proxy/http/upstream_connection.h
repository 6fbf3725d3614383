// UpstreamConnection: one connection to an upstream endpoint (TCP, TLS over TCP, or a stream
// over the shm host channel to a host backend), with its buffers and response parser, over a
// Transport. While serving an exchange it reports I/O to its user (a ClientSession); while
// parked in its host's pool it closes itself on any event (peer closed, or unsolicited bytes)
// or when idle too long, except what TLS sends on its own (session tickets), which it absorbs.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "parsers/http1/message_parser.h"
#include "proxy/core/buffer.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"
#include "proxy/http/message_input.h"
#include "proxy/router/load_balancer.h"
#include "proxy/tls/session_slot.h"
#include "proxy/tls/tls_client_context.h"
#include "proxy/tls/tls_transport.h"

namespace dpuguard::proxy {

class UpstreamConnection;
class SessionServices;

// Everything a worker keeps about one endpoint address: health and idle connections (of
// every cluster that has the address; a TLS connection is taken only by its own context's).
struct UpstreamHost {
  Endpoint endpoint;
  EndpointHealth health;
  std::vector<UpstreamConnection*> idle;  // most recently parked last
};

// TLS for a new connection: the cluster's context (null: plain TCP) and the slot of the
// endpoint's last session for this worker (resumption).
struct UpstreamTls {
  std::shared_ptr<const tls::TlsClientContext> context;
  std::shared_ptr<tls::SessionSlot> session;
};

class UpstreamUser {
 public:
  virtual ~UpstreamUser() = default;
  virtual void onUpstreamIo(uint32_t events) = 0;
};

// Idle pooled connections older than this are closed (most servers close theirs sooner).
inline constexpr int64_t kPoolIdleTimeoutMs = 30000;

class UpstreamConnection final : public IoHandler, public Timer {
 public:
  enum class Io : uint8_t { kProgress, kAgain, kEof, kError };
  // Where a connect stands: done (TCP up and, on TLS, the handshake done), waiting for
  // connectInterest(), or failed (socket error or a TLS failure: tlsFailure()).
  enum class Connect : uint8_t { kDone, kAgain, kFailed };

  UpstreamConnection(SessionServices& worker, UpstreamHost& host, size_t buffer_bytes,
                     const http1::Limits& limits);
  ~UpstreamConnection() override;

  // Starts a non-blocking connect, TLS over it when tls.context is set; false (with errno in
  // *err) if it failed at once.
  bool connect(const UpstreamTls& tls, int* err);
  // Takes an exchange: events go to `user` from now on.
  void attach(UpstreamUser* user);
  // Returns the connection to its host's pool (keep-alive), or closes it if the pool is full.
  void park(uint32_t max_idle);
  // Closes the socket and hands the object to the worker for deferred deletion.
  void close();

  void setInterest(uint32_t events);
  Io readSome();   // into in
  Io writeSome();  // from out
  // Drives a connect on `events`: the TCP connect's result once writable, then the handshake.
  Connect advanceConnect(uint32_t events);
  // The events a connect in progress waits for.
  uint32_t connectInterest() const;
  // The connect timed out: counted as a TLS handshake timeout when it was at the handshake.
  void connectTimedOut();
  // What the transport itself waits for (TLS: a read may need a write and the reverse).
  uint32_t transportInterest() const;
  // Decrypted bytes held inside TLS that no socket event will announce: read them now.
  bool hasBufferedInput() const;

  void onIo(uint32_t events) override;
  void onTimer() override;

  UpstreamHost& host() { return host_; }
  bool connecting() const { return connecting_; }
  bool reused() const { return uses_ > 1; }
  bool closed() const { return !open_; }
  // The TLS context it was made with (null: plain), which decides who may take it from the pool.
  const tls::TlsClientContext* tlsContext() const { return tls_context_.get(); }
  // Why the TLS handshake failed (kNone if it did not), and the certificate's refusal if any.
  tls::Failure tlsFailure() const { return tls_failure_; }
  std::string_view tlsVerifyError() const { return tls_verify_error_; }

  MessageInput in;  // the response stream: buffer and parser, a head's bytes pinned
  Buffer out;
  bool peer_closed = false;  // read returned EOF

 private:
  Connect handshake();
  Connect tlsFailed(tls::Failure f);
  // Parked: reads what TLS sent by itself; false when it was data, EOF or an error.
  bool absorbIdle();

  SessionServices& worker_;
  UpstreamHost& host_;
  UpstreamUser* user_ = nullptr;
  // Declared before the transport, so they outlive its SSL (which points to the slot).
  std::shared_ptr<const tls::TlsClientContext> tls_context_;
  std::shared_ptr<tls::SessionSlot> tls_session_;
  std::unique_ptr<Transport> transport_;
  int fd_ = -1;  // transport_'s socket while registered with the loop (-1: it has none)
  bool open_ = false;
  tls::TlsTransport* tls_ = nullptr;  // transport_, when it is TLS
  tls::Failure tls_failure_ = tls::Failure::kNone;
  std::string_view tls_verify_error_;
  uint32_t interest_ = 0;
  bool connecting_ = false;   // until TCP is up and, on TLS, the handshake is done
  bool tcp_pending_ = false;  // the TCP connect itself has not completed
  uint64_t uses_ = 0;
};

}  // namespace dpuguard::proxy
