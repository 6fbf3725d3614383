// TlsTransport: a Transport over a TLS connection on a non-blocking TCP socket (OpenSSL 3),
// the server side of a client connection or the client side of an upstream one. The
// handshake runs inside read/write as far as the socket allows: until it is done they move
// nothing and say kWouldBlock, with wantsRead/wantsWrite naming what OpenSSL waits for (a read
// may need a write and the reverse). handshake() runs it explicitly; failure() says why it
// failed. Owns the fd and the SSL.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/core/transport.h"
#include "proxy/tls/tls_failure.h"

namespace dpuguard::proxy::tls {

class TlsTransport final : public Transport {
 public:
  // `ssl` has its role set (SSL_set_accept_state / SSL_set_connect_state) and its context's
  // callbacks; this sets the fd.
  TlsTransport(int fd, SSL* ssl);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  // Runs the handshake. kDone: established now or before; kWouldBlock: waiting for
  // wantsRead/wantsWrite; kError: failed (failure()), the connection is to be closed.
  Io handshake();
  bool established() const { return established_; }
  Failure failure() const { return failure_; }
  // Records a failure found outside OpenSSL (a timeout) and ends the connection.
  void fail(Failure f);
  SSL* ssl() const { return ssl_; }
  // The handshake failed because the client spoke plain HTTP: answer it in plain HTTP, 400
  // "use https", as nginx does, rather than leave it a reset. True if it was answered.
  bool answerPlainHttp();

  int fd() const override { return fd_; }
  Result read(char* dst, size_t capacity) override;
  Result write(std::string_view data) override;
  bool shutdownWrite() override;
  bool hasPendingInput() const override;
  bool hasBufferedInput() const override;
  bool wantsRead() const override { return want_read_; }
  bool wantsWrite() const override { return want_write_; }
  std::string_view peerIdentity() const override { return peer_identity_; }
  const TlsFacts* tls() const override { return established_ ? &facts_ : nullptr; }
  void close() override;

  // The transport an SSL belongs to (for OpenSSL callbacks), or null.
  static TlsTransport* of(const SSL* ssl);
  // Set by the context's callbacks during the handshake: the SPIFFE ID the client's
  // certificate proves, or why the certificate is refused (the alert is OpenSSL's).
  void setPeerIdentity(std::string id) { peer_identity_ = std::move(id); }
  void noteFailure(Failure f) { pending_failure_ = f; }
  // Renegotiation is never allowed: a ClientHello after the handshake ends the connection.
  void noteRenegotiation() { renegotiating_ = true; }
  // Where failures of the established connection are counted (by Failure; the handshake's
  // own are counted by whoever drives it). Null: not counted.
  void countFailuresIn(std::atomic<uint64_t>* by_failure) { counters_ = by_failure; }

 private:
  Io handshakeStep();
  Result afterError(int ret);
  Failure classify(int ssl_error) const;
  void setEstablished();

  int fd_;
  SSL* ssl_;
  bool established_ = false;
  bool want_read_ = false;
  bool want_write_ = false;
  bool shut_ = false;
  bool renegotiating_ = false;
  bool plain_http_ = false;  // the handshake's first bytes were an HTTP request line
  Failure failure_ = Failure::kNone;
  Failure pending_failure_ = Failure::kNone;  // a callback's finding, reported if it fails
  TlsFacts facts_;
  std::atomic<uint64_t>* counters_ = nullptr;
  std::string peer_identity_;
};

}  // namespace dpuguard::proxy::tls
