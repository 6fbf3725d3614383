// ServerContext: building the listener's SSL_CTXs and the callbacks that run inside a
// handshake (SNI, ALPN, client-certificate identity, renegotiation, ticket keys).
#include "proxy/tls/server_context.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstring>
#include <ctime>

#include "attest/pem_key.h"
#include "attest/regular_file.h"
#include "proxy/tls/spiffe_id.h"
#include "proxy/tls/tls_transport.h"

namespace dpuguard::proxy::tls {
namespace {

// TLS 1.2 only (1.3's suites are separate): forward-secret AEAD suites.
constexpr const char* kDefaultCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kDefaultGroups = "X25519:P-256:P-384";
constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};

std::string opensslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

int64_t notAfter(X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::vector<std::string> dnsNames(X509* cert) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_DNS) continue;
    const ASN1_IA5STRING* s = n->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

const ServerContext* owner(const SSL* ssl) {
  return static_cast<const ServerContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
}

}  // namespace

ServerContext::ServerContext(const ListenerTlsConfig& config, std::shared_ptr<TicketKeys> keys)
    : config_(config), keys_(std::move(keys)) {}

ServerContext::~ServerContext() {
  for (SSL_CTX* c : contexts_) SSL_CTX_free(c);
}

std::shared_ptr<const ServerContext> ServerContext::build(const ListenerTlsConfig& config,
                                                          std::shared_ptr<TicketKeys> keys,
                                                          std::string* error) {
  std::shared_ptr<ServerContext> c(new ServerContext(config, std::move(keys)));
  if (config.certificates.empty()) {
    *error = "tls needs at least one certificate";
    return nullptr;
  }
  if (!c->computeSessionContext(error)) return nullptr;
  for (const TlsCertificateConfig& cert : config.certificates) {
    if (!c->addCertificate(cert, error)) return nullptr;
  }
  return c;
}

bool ServerContext::configure(SSL_CTX* ctx, std::string* error) const {
  SSL_CTX_set_app_data(ctx, const_cast<ServerContext*>(this));
  SSL_CTX_set_min_proto_version(
      ctx, config_.min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                     SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF |
                     SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION;
  if (!config_.session_tickets) options |= SSL_OP_NO_TICKET;
  if (config_.ktls) options |= SSL_OP_ENABLE_KTLS;
  SSL_CTX_set_options(ctx, options);
  // Partial writes of a moving buffer (the session's output compacts); buffers released
  // while a connection is idle, as nginx and HAProxy do (about 34 KiB per idle connection).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // Read ahead: a whole record (header and body) per read(2), not a 5-byte header read first
  // and then the body: one syscall less per record. Bytes read ahead wait in OpenSSL's buffer,
  // which raises no readiness event: TlsTransport::hasBufferedInput says so (SSL_has_pending).
  SSL_CTX_set_read_ahead(ctx, 1);
  // Stateless resumption only: tickets, no server-side session cache to grow or share.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, config_.session_tickets ? 1 : 0);
  // A session resumes only under the client-auth settings it was made with.
  SSL_CTX_set_session_id_context(ctx, session_context_, sizeof session_context_);
  // A ticket lives one rotation period (the hint clients get, and what resumption checks).
  if (config_.ticket_key_rotate_s != 0) SSL_CTX_set_timeout(ctx, config_.ticket_key_rotate_s);
  if (config_.session_tickets) SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, onTicketKey);
  const std::string& ciphers = config_.ciphers.empty() ? kDefaultCiphers : config_.ciphers;
  if (SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
    *error = "ciphers '" + ciphers + "': no usable cipher";
    return false;
  }
  STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(list, i);
    if (SSL_CIPHER_get_cipher_nid(cipher) == NID_undef ||
        SSL_CIPHER_get_auth_nid(cipher) == NID_auth_null) {
      *error = "ciphers '" + ciphers + "': " + SSL_CIPHER_get_name(cipher) +
               " has no encryption or no authentication";
      return false;
    }
  }
  if (!config_.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx, config_.ciphersuites.c_str()) != 1) {
    *error = "ciphersuites '" + config_.ciphersuites + "': no usable suite";
    return false;
  }
  const std::string& groups = config_.groups.empty() ? kDefaultGroups : config_.groups;
  if (SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1) {
    *error = "groups '" + groups + "': unknown group";
    return false;
  }
  SSL_CTX_set_tlsext_servername_callback(ctx, onServerName);
  SSL_CTX_set_alpn_select_cb(ctx, onAlpn, nullptr);
  SSL_CTX_set_info_callback(ctx, onInfo);
  const ClientAuthConfig& auth = config_.client_auth;
  if (auth.mode != ClientAuthMode::kNone) {
    if (SSL_CTX_load_verify_locations(ctx, auth.ca_file.c_str(), nullptr) != 1) {
      *error = auth.ca_file + ": " + opensslError();
      return false;
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(auth.ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
    int mode = SSL_VERIFY_PEER;
    if (auth.mode == ClientAuthMode::kRequire) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, onVerify);
    SSL_CTX_set_verify_depth(ctx, static_cast<int>(auth.verify_depth));
  }
  return true;
}

bool ServerContext::addCertificate(const TlsCertificateConfig& c, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    *error = "cannot create a TLS context: " + opensslError();
    return false;
  }
  contexts_.push_back(ctx);
  if (!configure(ctx, error)) return false;
  if (SSL_CTX_use_certificate_chain_file(ctx, c.cert_file.c_str()) != 1) {
    *error = c.cert_file + ": " + opensslError();
    return false;
  }
  bool encrypted = false;  // never a passphrase prompt (attest/pem_key.h)
  SSL_CTX_set_default_passwd_cb(ctx, attest::refusePassphrase);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, &encrypted);
  const bool key_read = SSL_CTX_use_PrivateKey_file(ctx, c.key_file.c_str(), SSL_FILETYPE_PEM) == 1;
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
  if (!key_read) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    *error = encrypted ? attest::encryptedKeyProblem(c.key_file)
                       : c.key_file + ": " +
                             (mismatch ? "the key does not match the certificate " + c.cert_file
                                       : opensslError());
    ERR_clear_error();
    return false;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    *error = c.key_file + ": the key does not match the certificate " + c.cert_file;
    ERR_clear_error();
    return false;
  }
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  CertificateInfo info{c.cert_file, c.names, notAfter(leaf)};
  if (info.names.empty()) info.names = dnsNames(leaf);
  if (info.names.empty() && !contexts_.empty() && contexts_.size() > 1) {
    *error = c.cert_file + ": no DNS names in its subjectAltName; give the names it serves";
    return false;
  }
  infos_.push_back(std::move(info));
  return true;
}

size_t ServerContext::certificateFor(std::string_view name) const {
  if (name.ends_with('.')) name.remove_suffix(1);  // an absolute name (RFC 6066 says without)
  for (size_t i = 0; i < infos_.size(); ++i) {
    for (const std::string& n : infos_[i].names) {
      if (!n.starts_with("*.") && equalsIgnoreCase(n, name)) return i;
    }
  }
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0) return 0;
  const std::string_view parent = name.substr(dot);  // ".example.com"
  for (size_t i = 0; i < infos_.size(); ++i) {
    for (const std::string& n : infos_[i].names) {
      if (n.starts_with("*.") && equalsIgnoreCase(std::string_view(n).substr(1), parent)) return i;
    }
  }
  return 0;
}

bool ServerContext::computeSessionContext(std::string* error) {
  const ClientAuthConfig& auth = config_.client_auth;
  std::string material = "dpuguard-session/" + std::to_string(static_cast<int>(auth.mode));
  for (const std::string& d : auth.trust_domains) material += "/" + d;
  if (auth.mode != ClientAuthMode::kNone) {
    std::string text, why;
    if (!attest::readRegularFile(auth.ca_file, &text, &why)) {
      *error = auth.ca_file + ": cannot read: " + why;
      return false;
    }
    material += text;
  }
  unsigned int len = 0;
  unsigned char digest[EVP_MAX_MD_SIZE];
  if (EVP_Digest(material.data(), material.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    *error = "cannot hash the session context";
    return false;
  }
  std::memcpy(session_context_, digest, sizeof session_context_);
  return true;
}

Failure ServerContext::admit(TlsTransport& t) const {
  const ClientAuthConfig& auth = config_.client_auth;
  if (auth.mode == ClientAuthMode::kNone || !t.established() || !t.tls()->resumed)
    return Failure::kNone;
  X509* cert = SSL_get0_peer_certificate(t.ssl());
  if (cert == nullptr)
    return auth.mode == ClientAuthMode::kRequire ? Failure::kNoCertificate : Failure::kNone;
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) return Failure::kBadCertificate;
  std::string id;
  if (spiffeIdOf(cert, auth.trust_domains, &id) != SpiffeCheck::kOk) return Failure::kIdentity;
  t.setPeerIdentity(std::move(id));
  return Failure::kNone;
}

SSL* ServerContext::newSsl() const {
  SSL* ssl = SSL_new(contexts_.front());
  if (ssl != nullptr) SSL_set_accept_state(ssl);
  return ssl;
}

int ServerContext::onServerName(SSL* ssl, int* /*alert*/, void* /*arg*/) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_NOACK;
  const ServerContext* self = owner(ssl);
  const size_t i = self->certificateFor(name);
  if (i != 0) SSL_set_SSL_CTX(ssl, self->contexts_[i]);
  return SSL_TLSEXT_ERR_OK;
}

int ServerContext::onAlpn(SSL* ssl, const unsigned char** out, unsigned char* out_len,
                          const unsigned char* in, unsigned int in_len, void* /*arg*/) {
  // `in`: length-prefixed protocol names. Only HTTP/1.1 is spoken (h2 is refused cleanly).
  for (unsigned int i = 0; i < in_len;) {
    const unsigned int n = in[i];
    if (i + 1 + n > in_len) break;
    if (n == sizeof kHttp11 && std::memcmp(in + i + 1, kHttp11, n) == 0) {
      *out = in + i + 1;
      *out_len = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + n;
  }
  if (TlsTransport* t = TlsTransport::of(ssl)) t->noteFailure(Failure::kAlpn);
  return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol
}

int ServerContext::onVerify(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  TlsTransport* t = ssl != nullptr ? TlsTransport::of(ssl) : nullptr;
  if (preverify_ok != 1) {
    if (t != nullptr) t->noteFailure(Failure::kBadCertificate);
    return 0;
  }
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  std::string id;
  const SpiffeCheck check = spiffeIdOf(X509_STORE_CTX_get_current_cert(store),
                                       owner(ssl)->config_.client_auth.trust_domains, &id);
  if (check != SpiffeCheck::kOk) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);  // bad_certificate alert
    if (t != nullptr) t->noteFailure(Failure::kIdentity);
    return 0;
  }
  if (t != nullptr) t->setPeerIdentity(std::move(id));
  return 1;
}

void ServerContext::onInfo(const SSL* ssl, int where, int ret) {
  // A ClientHello on an established TLS 1.2 connection is a renegotiation attempt: OpenSSL
  // refuses it (SSL_OP_NO_RENEGOTIATION) with a no_renegotiation alert, and we end the
  // connection. TLS 1.3 has no renegotiation.
  const bool refused = (where & SSL_CB_WRITE_ALERT) != 0 && (ret & 0xff) == SSL_AD_NO_RENEGOTIATION;
  const bool restarted = (where & SSL_CB_HANDSHAKE_START) != 0 && SSL_version(ssl) < TLS1_3_VERSION;
  if (!refused && !restarted) return;
  TlsTransport* t = TlsTransport::of(ssl);
  if (t != nullptr && t->established()) t->noteRenegotiation();
}

int ServerContext::onTicketKey(SSL* ssl, unsigned char name[16], unsigned char iv[16],
                               EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
  const int r = owner(ssl)->keys_->crypt(name, iv, cipher, mac, enc);
  // TLS 1.3 clients use a ticket once (RFC 8446 C.4; OpenSSL's client marks a session it
  // resumed not resumable): a resumption that issues no new ticket makes the client's next
  // connection a full handshake. 2 = "valid, renew it": OpenSSL sends one new ticket after a
  // resumption (as it does with its own ticket keys). TLS 1.2 tickets stay reusable.
  if (r == 1 && enc == 0 && SSL_version(ssl) >= TLS1_3_VERSION) return 2;
  return r;
}

}  // namespace dpuguard::proxy::tls
