// TlsAcceptor: a worker's TLS connections from accept to the end of their handshakes. Each
// is a PendingHandshake, at most max_pending_handshakes of them per listener context at once
// (one more is closed at accept: `overload`); an established one goes to `established` (the
// worker starts its HTTP session), a failed one is counted by reason, answered in plain HTTP
// if it spoke plain HTTP, and closed; a refused client certificate is also logged (who and
// why, RefusalLog). Runs on the worker's thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/socket_address.h"
#include "proxy/telemetry/metrics.h"
#include "proxy/tls/pending_handshake.h"
#include "proxy/tls/refusal_log.h"
#include "proxy/tls/server_context.h"

namespace dpuguard::proxy {

class TlsAcceptor final : public tls::HandshakeOwner {
 public:
  using Established = std::function<void(std::unique_ptr<tls::TlsTransport>, const SocketAddress&,
                                         size_t listener_index)>;
  // `established` takes each connection whose handshake succeeded; `closed` hears of each
  // one closed here (the accept gate counts them).
  TlsAcceptor(EventLoop& loop, WorkerMetrics& metrics, Established established,
              std::function<void()> closed);
  ~TlsAcceptor() override;
  TlsAcceptor(const TlsAcceptor&) = delete;
  TlsAcceptor& operator=(const TlsAcceptor&) = delete;

  // The listeners of a (new) config: counters for each one that has TLS.
  void configure(const std::vector<ListenerConfig>& listeners,
                 const std::vector<std::shared_ptr<const tls::ServerContext>>& contexts);
  // An accepted connection `fd` on TLS listener `listener_index` under `context`.
  void adopt(int fd, const SocketAddress& peer, size_t listener_index,
             const std::shared_ptr<const tls::ServerContext>& context);
  size_t pending() const { return handshakes_.size(); }
  // Drain: every handshake in progress ends now (no exchange yet, nothing to finish).
  void abandonAll();
  // Frees the ones that ended (between loop iterations, never under their own call).
  void reap();

  void onHandshakeDone(tls::PendingHandshake& h) override;

 private:
  void logRefusal(tls::PendingHandshake& h, const ListenerTlsStats& stats);

  EventLoop& loop_;
  WorkerMetrics& metrics_;
  Established established_;
  std::function<void()> closed_;
  std::unordered_set<tls::PendingHandshake*> handshakes_;
  std::vector<tls::PendingHandshake*> dead_;
  std::vector<ListenerTlsStats*> stats_;  // by listener; set once it has had TLS
  tls::RefusalLog refusals_;
};

}  // namespace dpuguard::proxy
