// TLS settings: a listener's (termination, client certificates) and a cluster's (TLS to its
// upstreams). Paths only: the files are read when the snapshot's TLS contexts are built (the
// loader checks them so a bad file is a config error, file:line:col). No key material here,
// but for a cluster's context, which the loader builds and holds opaque (below).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/config/enum_names.h"

namespace dpuguard::proxy {

namespace tls {
class TlsClientContext;
}

enum class TlsVersion : uint8_t { kTls12, kTls13 };
inline constexpr EnumName<TlsVersion> kTlsVersionNames[] = {
    {"1.2", TlsVersion::kTls12},
    {"1.3", TlsVersion::kTls13},
};

// A certificate chain and its private key. `names`: the SNI names it serves (exact, or
// "*.example.com" for one label); empty = the names in the certificate's subjectAltName.
struct TlsCertificateConfig {
  std::string cert_file;  // PEM: the leaf first, then intermediates
  std::string key_file;   // PEM; readable by its owner only (0600 or 0400)
  std::vector<std::string> names;
};

enum class ClientAuthMode : uint8_t { kNone, kOptional, kRequire };
inline constexpr EnumName<ClientAuthMode> kClientAuthModeNames[] = {
    {"optional", ClientAuthMode::kOptional},
    {"require", ClientAuthMode::kRequire},
};

struct ClientAuthConfig {
  ClientAuthMode mode = ClientAuthMode::kNone;
  std::string ca_file;  // PEM bundle the client certificates must chain to
  // SPIFFE trust domains whose IDs are accepted ("prod.example"); empty = any.
  std::vector<std::string> trust_domains;
  uint32_t verify_depth = 4;
};

// listeners[].tls: terminate TLS on this listener.
struct ListenerTlsConfig {
  bool enabled = false;
  std::vector<TlsCertificateConfig> certificates;  // the first is the default (no/unknown SNI)
  TlsVersion min_version = TlsVersion::kTls13;
  std::string ciphers;       // TLS 1.2 cipher list (OpenSSL syntax); empty = safe default
  std::string ciphersuites;  // TLS 1.3 suites; empty = OpenSSL's default
  std::string groups;        // "X25519:P-256"; empty = safe default
  uint32_t handshake_timeout_ms = 10000;
  // Per worker: handshakes in progress beyond this are closed at once (a ClientHello may hold
  // ~190 KiB of OpenSSL's buffers until its timeout).
  uint32_t max_pending_handshakes = 512;
  bool session_tickets = true;
  uint32_t ticket_key_rotate_s = 3600;  // a new ticket key this often; the previous still decrypts
  ClientAuthConfig client_auth;
  bool ktls = false;  // hand the record layer to the kernel after the handshake, when it can
};

// clusters[].tls: TLS to this cluster's TCP endpoints. Present (a mapping, `tls: {}` for all
// defaults) = on. Paths are resolved against the config file's directory.
struct ClusterTlsConfig {
  bool enabled = false;
  std::string ca_file;      // PEM bundle; empty = the system's default trust store
  bool verify = true;       // chain and hostname checked (on by default when TLS is on)
  std::string server_name;  // SNI and the name checked; empty = the endpoint's host
  std::string cert_file;    // client certificate (mTLS to the backend); empty = none
  std::string key_file;
  TlsVersion min_version = TlsVersion::kTls12;
  // Built by the loader from the fields above (proxy/tls/tls_client_context.h): the SSL_CTX
  // the workers' connections to this cluster share. Opaque here; /config never shows it.
  std::shared_ptr<const tls::TlsClientContext> context;
};

}  // namespace dpuguard::proxy
