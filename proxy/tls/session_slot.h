// SessionSlot: the last TLS session one upstream endpoint's server gave one worker under one
// client context (one cluster of one config snapshot). A new connection to the endpoint offers
// it, so pooled connections opened later resume instead of running a full handshake; each new
// session (a TLS 1.2 handshake's, or a TLS 1.3 NewSessionTicket) replaces it. One thread only.
#pragma once

#include <openssl/ssl.h>

namespace dpuguard::proxy::tls {

class SessionSlot {
 public:
  SessionSlot() = default;
  ~SessionSlot() { clear(); }
  SessionSlot(const SessionSlot&) = delete;
  SessionSlot& operator=(const SessionSlot&) = delete;

  // The session to offer, or null (none yet, or the last one cannot be resumed).
  SSL_SESSION* get() const { return session_; }
  // Takes over the caller's reference to `s` and drops the previous session.
  void store(SSL_SESSION* s) {
    clear();
    session_ = s;
  }
  void clear() {
    if (session_ != nullptr) SSL_SESSION_free(session_);
    session_ = nullptr;
  }

 private:
  SSL_SESSION* session_ = nullptr;
};

}  // namespace dpuguard::proxy::tls
