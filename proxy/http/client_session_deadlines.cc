// ClientSession, its deadlines: the one timer a session keeps (head, idle, route, connect
// and linger deadlines, whichever comes first), what each one does when it passes, and the
// lingering close that lets a client read a reply before the connection goes.
#include <sys/epoll.h>

#include <algorithm>

#include "proxy/http/client_session.h"
#include "proxy/http/session_limits.h"
#include "proxy/http/session_services.h"

namespace dpuguard::proxy {

void ClientSession::closeOrLinger() {
  // close(2) with unread bytes in the socket sends a reset, which can destroy the reply
  // before the client has read it (RFC 9112 §9.6): end our side, drop what still comes.
  // Needed only while request bytes are unread or may still arrive.
  // Needed only while request bytes are unread or may still arrive: a body the reply came
  // before may be on its way though none is readable yet.
  const bool unread = linger_.body_owed || !in_.buffer().empty() || in_.inMessage() ||
                      transport_->hasPendingInput();
  if (client_eof_ || !unread || !transport_->shutdownWrite()) {
    closeConnection();
    return;
  }
  state_ = State::kLingering;
  linger_.deadline_ms = loop_.now() + limits().lingering_time_ms;
  linger_.last_read_ms = loop_.now();
  linger_.bytes = 0;
  in_.buffer().consume(in_.buffer().size());
  interest_ = EPOLLIN | EPOLLRDHUP;
  loop_.modify(transport_->fd(), interest_, this);
  lingerRead();
}

void ClientSession::lingerRead() {
  // Pipelined requests after the reply are dropped with the rest, never parsed.
  char drop[16384];
  while (linger_.bytes < limits().lingering_bytes) {
    const Transport::Result r = transport_->read(drop, sizeof drop);
    if (r.io == Transport::Io::kDone) {
      linger_.bytes += r.bytes;
      linger_.last_read_ms = loop_.now();
      continue;
    }
    if (r.io == Transport::Io::kWouldBlock) {
      armTimer();
      return;
    }
    break;  // the client closed (or failed): done
  }
  closeConnection();
}

uint32_t ClientSession::idleTimeoutMs() const {
  if (ex_ != nullptr && x().route != nullptr && x().route->idle_timeout_ms != 0)
    return x().route->idle_timeout_ms;
  return limits().idle_timeout_ms;
}

int64_t ClientSession::nextDeadline() const {
  const LimitsConfig& listener = limits();
  if (state_ == State::kLingering)
    return std::min(linger_.deadline_ms, linger_.last_read_ms + kLingerIdleMs);
  int64_t d = last_activity_ms_ + idleTimeoutMs();
  if (state_ == State::kReadingHead) {
    // From accept or the end of the last exchange, whatever arrives meanwhile: a silent
    // connection and one that sends a byte a second end at the same time.
    d = std::min<int64_t>(d, head_wait_start_ms_ + listener.header_timeout_ms);
  } else if (state_ == State::kProxying && ex_ != nullptr) {
    const ExchangeState& s = x();
    if (s.route != nullptr && s.route->timeout_ms != 0)
      d = std::min<int64_t>(d, s.start_ms + s.route->timeout_ms);
    if (s.up != nullptr && s.up->connecting() && s.cluster != nullptr) {
      d = std::min<int64_t>(d, s.connect_started_ms + s.cluster->config->connect_timeout_ms);
    }
  }
  return d;
}

void ClientSession::armTimer() {
  if (closed()) return;
  const int64_t d = nextDeadline();
  if (!scheduled() || d < deadline()) loop_.timers().schedule(this, d);
}

void ClientSession::onTimer() {
  const int64_t now = loop_.now();
  if (now < nextDeadline()) {
    armTimer();
    return;
  }
  switch (state_) {
    case State::kReadingHead:
      // A request begun, or a new connection that sent nothing: 408. A keep-alive connection
      // idle since its last exchange is closed without a word (a reply there could be taken
      // for the answer to a request the client is just sending).
      if (in_.inMessage() || !in_.buffer().empty() || !served_) {
        if (ex_ == nullptr) {  // bytes, but no head started yet: an exchange to answer with
          ex_ = worker_.exchanges().acquire();
          in_.attach(ex_->parser);
        }
        localReply(Outcome::kHeaderTimeout, true);
      } else {
        closeConnection();  // idle keep-alive connection
      }
      break;
    case State::kProxying: {
      const ExchangeState& s = x();
      if (s.collecting) {
        localReply(Outcome::kBodyTimeout, true);
      } else if (s.up != nullptr && s.up->connecting() &&
                 now >= s.connect_started_ms + s.cluster->config->connect_timeout_ms) {
        s.up->connectTimedOut();  // connect_timeout_ms covers the TLS handshake too
        if (s.up->tlsFailure() != tls::Failure::kNone)
          x().upstream_tls_error = tls::failureName(s.up->tlsFailure());
        // Evidence against the endpoint only if it has not answered since (a full accept
        // queue times connects out while the backend is busy, not dead).
        upstreamFailed(Outcome::kUpstreamConnectTimeout,
                       s.cluster->lb.connectTimeoutCounts(static_cast<size_t>(s.endpoint),
                                                          s.connect_started_ms));
      } else if (s.route != nullptr && s.route->timeout_ms != 0 &&
                 now >= s.start_ms + s.route->timeout_ms) {
        if (s.response_started)
          abortExchange(Outcome::kRouteTimeout);
        else
          upstreamFailed(Outcome::kRouteTimeout, false);
      } else if (s.response_started) {
        abortExchange(Outcome::kIdleTimeout);
      } else {
        upstreamFailed(Outcome::kIdleTimeout, false);
      }
      break;
    }
    case State::kClosing:
    case State::kLingering:
      closeConnection();
      break;
  }
  if (!closed()) drive();
}

}  // namespace dpuguard::proxy
