// TlsTransport: a Transport over a TLS connection on a non-blocking TCP socket (OpenSSL 3),
// the server side of a client connection or the client side of an upstream one. The
// handshake runs inside read/write as far as the socket allows: until it is done they move
// nothing and say kWouldBlock, with wantsRead/wantsWrite naming what OpenSSL waits for (a read
// may need a write and the reverse). handshake() runs it explicitly; failure() says why it
// failed. Owns the fd and the SSL.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/core/transport.h"

namespace dpuguard::proxy::tls {

// Why a handshake (or an established connection) failed: the `reason` label of
// dpuguard_tls_handshake_failures_total.
enum class Failure : uint8_t {
  kNone,
  kNotTls,            // the first bytes were not a TLS record (plain HTTP, garbage)
  kProtocol,          // a malformed or unacceptable handshake message (version, cipher, too big)
  kAlpn,              // no protocol we speak (h2 only)
  kNoCertificate,     // client_auth require: the client sent none
  kBadCertificate,    // the client's (or upstream's) certificate failed verification
  kIdentity,          // the certificate's SPIFFE ID is missing, doubled or of a foreign domain
  kRenegotiation,     // the peer tried to renegotiate
  kTimeout,           // handshake_timeout_ms passed
  kPeerClosed,        // the peer closed or reset during the handshake
  kInternal,          // anything else OpenSSL reported
};
inline constexpr size_t kFailureCount = static_cast<size_t>(Failure::kInternal) + 1;
std::string_view failureName(Failure f);

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

  int fd() const override { return fd_; }
  Result read(char* dst, size_t capacity) override;
  Result write(std::string_view data) override;
  bool shutdownWrite() override;
  bool hasPendingInput() const override;
  bool wantsRead() const override { return want_read_; }
  bool wantsWrite() const override { return want_write_; }
  std::string_view peerIdentity() const override { return peer_identity_; }
  const TlsFacts* tls() const override { return established_ ? &facts_ : nullptr; }
  void close() override;

  // Set by the context's verify step (server side, mTLS): the SPIFFE ID it accepted.
  void setPeerIdentity(std::string id) { peer_identity_ = std::move(id); }

 private:
  Result afterError(int ret, bool reading);
  void established(bool resumed);

  int fd_;
  SSL* ssl_;
  bool established_ = false;
  bool want_read_ = false;
  bool want_write_ = false;
  bool shut_ = false;
  Failure failure_ = Failure::kNone;
  TlsFacts facts_;
  std::string peer_identity_;
};

}  // namespace dpuguard::proxy::tls
