// TlsTransport: OpenSSL's non-blocking calls mapped onto Transport's results. Every call
// starts with a clean error queue (the queue is per thread and shared by all connections of
// a worker), and every failure empties it again.
#include "proxy/tls/tls_transport.h"

#include <openssl/err.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace dpuguard::proxy::tls {
namespace {

int transportIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

TlsTransport::TlsTransport(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {
  SSL_set_fd(ssl_, fd_);
  SSL_set_ex_data(ssl_, transportIndex(), this);
  want_read_ = SSL_is_server(ssl_) != 0;  // a server waits for the ClientHello
}

TlsTransport::~TlsTransport() {
  close();
}

TlsTransport* TlsTransport::of(const SSL* ssl) {
  return static_cast<TlsTransport*>(SSL_get_ex_data(ssl, transportIndex()));
}

Transport::Io TlsTransport::handshake() {
  if (established_) return Io::kDone;
  if (failure_ != Failure::kNone || ssl_ == nullptr) return Io::kError;
  return handshakeStep();
}

Transport::Io TlsTransport::handshakeStep() {
  ERR_clear_error();
  const int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    setEstablished();
    return Io::kDone;
  }
  return afterError(ret).io;
}

void TlsTransport::setEstablished() {
  established_ = true;
  want_read_ = false;
  want_write_ = false;
  facts_.protocol = SSL_get_version(ssl_);
  facts_.cipher = SSL_get_cipher_name(ssl_);
  const char* sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  facts_.sni = sni != nullptr ? std::string_view(sni) : std::string_view();
  facts_.resumed = SSL_session_reused(ssl_) != 0;
  facts_.ktls =
      BIO_get_ktls_send(SSL_get_wbio(ssl_)) != 0 && BIO_get_ktls_recv(SSL_get_rbio(ssl_)) != 0;
}

Failure TlsTransport::classify(int ssl_error) const {
  if (pending_failure_ != Failure::kNone) return pending_failure_;
  if (ssl_error == SSL_ERROR_ZERO_RETURN || ssl_error == SSL_ERROR_SYSCALL)
    return Failure::kPeerClosed;
  const unsigned long e = ERR_peek_error();
  if (ERR_GET_LIB(e) != ERR_LIB_SSL) return e == 0 ? Failure::kPeerClosed : Failure::kInternal;
  switch (ERR_GET_REASON(e)) {
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_RECORD_LENGTH_MISMATCH:
      return established_ ? Failure::kProtocol : Failure::kNotTls;
    case SSL_R_NO_APPLICATION_PROTOCOL:
      return Failure::kAlpn;
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return Failure::kNoCertificate;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
      return Failure::kBadCertificate;
    case SSL_R_NO_RENEGOTIATION:
      return Failure::kRenegotiation;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
      return Failure::kPeerClosed;
    default:
      return Failure::kProtocol;
  }
}

Transport::Result TlsTransport::afterError(int ret) {
  const int err = SSL_get_error(ssl_, ret);
  want_read_ = false;
  want_write_ = false;
  if (err == SSL_ERROR_WANT_READ) {
    want_read_ = true;
    return {Io::kWouldBlock, 0};
  }
  if (err == SSL_ERROR_WANT_WRITE) {
    want_write_ = true;
    return {Io::kWouldBlock, 0};
  }
  if (err == SSL_ERROR_ZERO_RETURN && established_) {  // close_notify
    ERR_clear_error();
    return {Io::kEof, 0};
  }
  if (err == SSL_ERROR_SYSCALL && established_ && ERR_peek_error() == 0 && errno == 0) {
    return {Io::kEof, 0};  // EOF without close_notify (SSL_OP_IGNORE_UNEXPECTED_EOF covers most)
  }
  failure_ = renegotiating_ ? Failure::kRenegotiation : classify(err);
  plain_http_ = !established_ && ERR_GET_LIB(ERR_peek_error()) == ERR_LIB_SSL &&
                ERR_GET_REASON(ERR_peek_error()) == SSL_R_HTTP_REQUEST;
  ERR_clear_error();
  return {Io::kError, 0};
}

Transport::Result TlsTransport::read(char* dst, size_t capacity) {
  if (!established_) {
    const Io io = handshake();
    if (io != Io::kDone) return {io, 0};
  }
  ERR_clear_error();
  size_t n = 0;
  const int ret = renegotiating_ ? 0 : SSL_read_ex(ssl_, dst, capacity, &n);
  if (renegotiating_) {  // the info callback saw a ClientHello during this read
    if (failure_ == Failure::kNone && counters_ != nullptr)
      counters_[static_cast<size_t>(Failure::kRenegotiation)].fetch_add(1,
                                                                        std::memory_order_relaxed);
    failure_ = Failure::kRenegotiation;
    ERR_clear_error();
    return {Io::kError, 0};
  }
  if (ret != 1) return afterError(ret);
  want_read_ = false;
  want_write_ = false;
  // The rest of a record already decrypted, or records already read ahead: no readiness event
  // will say they are there. (A partial record read ahead ends this with SSL_ERROR_WANT_READ.)
  while (n < capacity && SSL_has_pending(ssl_) != 0) {
    size_t more = 0;
    if (SSL_read_ex(ssl_, dst + n, capacity - n, &more) != 1) {
      ERR_clear_error();
      break;
    }
    n += more;
  }
  return {Io::kDone, n};
}

bool TlsTransport::hasBufferedInput() const {
  return ssl_ != nullptr && established_ && SSL_has_pending(ssl_) != 0;
}

Transport::Result TlsTransport::write(std::string_view data) {
  if (!established_) {
    const Io io = handshake();
    if (io != Io::kDone) return {io, 0};
  }
  if (renegotiating_) return {Io::kError, 0};
  ERR_clear_error();
  size_t n = 0;
  const int ret = SSL_write_ex(ssl_, data.data(), data.size(), &n);
  if (ret == 1) {
    want_write_ = false;
    return {Io::kDone, n};
  }
  return afterError(ret);
}

bool TlsTransport::shutdownWrite() {
  if (ssl_ == nullptr) return false;
  if (!shut_ && established_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // queues close_notify; a full socket just loses it (the FIN follows)
    ERR_clear_error();
  }
  shut_ = true;
  return ::shutdown(fd_, SHUT_WR) == 0;
}

bool TlsTransport::hasPendingInput() const {
  if (ssl_ != nullptr && SSL_has_pending(ssl_) != 0) return true;
  int queued = 0;
  return ::ioctl(fd_, FIONREAD, &queued) == 0 && queued > 0;
}

bool TlsTransport::answerPlainHttp() {
  if (!plain_http_ || fd_ < 0) return false;
  static constexpr std::string_view kReply =
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 48\r\n"
      "Connection: close\r\n\r\nThis port speaks TLS: send the request as https\n";
  const bool sent = ::send(fd_, kReply.data(), kReply.size(), MSG_NOSIGNAL) ==
                    static_cast<ssize_t>(kReply.size());
  ::shutdown(fd_, SHUT_WR);
  char drop[4096];  // what is already here of the request: closing on it would reset
  for (int i = 0; i < 4 && ::read(fd_, drop, sizeof drop) > 0; ++i) {
  }
  return sent;
}

void TlsTransport::fail(Failure f) {
  if (failure_ == Failure::kNone) failure_ = f;
  established_ = false;  // refused after all: nothing more moves on it
}

void TlsTransport::close() {
  if (ssl_ != nullptr && established_ && !shut_ && failure_ == Failure::kNone) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify (RFC 8446 §6.1), best effort: the socket may be full
    ERR_clear_error();
  }
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace dpuguard::proxy::tls
