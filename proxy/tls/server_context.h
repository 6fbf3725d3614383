// ServerContext: what a TLS listener needs to accept connections under one config snapshot:
// an SSL_CTX per certificate (chosen by SNI: exact names, then "*." wildcards for one
// label, else the first certificate), TLS 1.3 by default, ALPN http/1.1 only (a client that
// offers only h2 gets no_application_protocol), renegotiation refused, tickets under the
// listener's TicketKeys, and client certificates checked against the CA bundle with their
// SPIFFE ID taken as the peer's identity. Built once per snapshot, shared read-only by the
// workers; each accepted connection gets its own SSL from newSsl().
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/config/tls_config.h"
#include "proxy/tls/ticket_keys.h"
#include "proxy/tls/tls_transport.h"

namespace dpuguard::proxy::tls {

struct CertificateInfo {
  std::string file;
  std::vector<std::string> names;  // the SNI names it serves
  int64_t not_after_unix = 0;      // expiry
};

class ServerContext {
 public:
  // Null with *error set ("FILE: why") when a file cannot be used.
  static std::shared_ptr<const ServerContext> build(const ListenerTlsConfig& config,
                                                    std::shared_ptr<TicketKeys> keys,
                                                    std::string* error);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // A server-side SSL for an accepted connection; null when out of memory.
  SSL* newSsl() const;
  const std::vector<CertificateInfo>& certificates() const { return infos_; }
  const ListenerTlsConfig& config() const { return config_; }
  // The certificate index serving `name` (exact, then wildcard, else 0).
  size_t certificateFor(std::string_view name) const;
  // After the handshake: a resumed session carries its client certificate in its ticket, not
  // through the verify callback; its identity is taken from it again, and a certificate that
  // has expired since, or no certificate under `require`, ends the connection. kNone: admitted.
  Failure admit(TlsTransport& t) const;

 private:
  ServerContext(const ListenerTlsConfig& config, std::shared_ptr<TicketKeys> keys);
  bool addCertificate(const TlsCertificateConfig& c, std::string* error);
  bool configure(SSL_CTX* ctx, std::string* error) const;
  // What a session may be resumed under: the client-auth settings and the CA bundle's bytes,
  // hashed (a ticket from before a CA or trust-domain change gives a full handshake).
  bool computeSessionContext(std::string* error);

  static int onServerName(SSL* ssl, int* alert, void* arg);
  static int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* out_len,
                    const unsigned char* in, unsigned int in_len, void* arg);
  static int onVerify(int preverify_ok, X509_STORE_CTX* store);
  static void onInfo(const SSL* ssl, int where, int ret);
  static int onTicketKey(SSL* ssl, unsigned char name[16], unsigned char iv[16],
                         EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc);

  ListenerTlsConfig config_;
  std::shared_ptr<TicketKeys> keys_;
  std::vector<SSL_CTX*> contexts_;  // by certificate; [0] the default
  std::vector<CertificateInfo> infos_;
  unsigned char session_context_[SSL_MAX_SID_CTX_LENGTH] = {};
};

}  // namespace dpuguard::proxy::tls
