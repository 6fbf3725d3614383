// TlsClientContext: the client side of TLS to one cluster's upstreams (clusters[].tls) for one
// config snapshot: an SSL_CTX with the trust store, chain and hostname verification, the
// optional client certificate (mTLS to the backend), ALPN http/1.1 and the minimum version.
// The config loader builds it (so a bad file is a config error) and the workers share it
// read-only; each upstream connection takes its SSL from newSsl().
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include "proxy/config/tls_config.h"
#include "proxy/core/socket_address.h"
#include "proxy/tls/session_slot.h"

namespace dpuguard::proxy::tls {

class TlsClientContext {
 public:
  // Why create() failed: the clusters[].tls key at fault ("ca_file", "cert_file", "key_file";
  // empty when no file is to blame) and what OpenSSL said.
  struct Error {
    std::string key;
    std::string message;
  };

  // Builds the context `config` describes (config.enabled is assumed); null with `error` set
  // when a file cannot be used (not PEM, no certificate in it, a key that does not match).
  static std::shared_ptr<const TlsClientContext> create(const ClusterTlsConfig& config,
                                                        Error* error);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  // A client SSL (connect state) for a connection to `peer`. The name verified and sent is
  // server_name: a DNS name is sent as SNI and checked against the certificate's DNS SANs, an
  // IP literal is checked against its IP SANs and not sent (RFC 6066 §3). Without server_name
  // it is the peer's address, as an IP literal. `slot` (may be null) gives the session offered
  // for resumption and receives the ones the server issues; it must outlive the SSL. Null
  // when OpenSSL cannot make one.
  SSL* newSsl(const SocketAddress& peer, SessionSlot* slot) const;

  bool verifies() const { return verify_; }

  // Why the peer's certificate was refused ("hostname mismatch", "unable to get local issuer
  // certificate"), or "" when verification passed or did not run. A static string.
  static std::string_view verifyError(const SSL* ssl);

 private:
  TlsClientContext(SSL_CTX* ctx, const ClusterTlsConfig& config);

  SSL_CTX* ctx_;
  std::string server_name_;
  bool server_name_is_ip_ = false;
  bool verify_ = true;
};

// True when `s` is a numeric IPv4 or IPv6 address (no brackets, no port).
bool isIpLiteral(std::string_view s);

}  // namespace dpuguard::proxy::tls
