// TlsClientContext: building the SSL_CTX once, and one SSL per upstream connection.
#include "proxy/tls/tls_client_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstdlib>

#include "attest/pem_key.h"

namespace dpuguard::proxy::tls {
namespace {

// ALPN protocol list, wire format (RFC 7301 §3.1): we speak HTTP/1.1 only.
constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// The ex_data index under which an SSL carries its SessionSlot. Allocated once per process.
int slotIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// A new session from the server (TLS 1.2: at the end of the handshake; TLS 1.3: each
// NewSessionTicket, which may come any time after it): it replaces the slot's. Returning 1
// keeps the reference OpenSSL passed us.
int onNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<SessionSlot*>(SSL_get_ex_data(ssl, slotIndex()));
  if (slot == nullptr || SSL_SESSION_is_resumable(session) == 0) return 0;
  slot->store(session);
  return 1;
}

// OpenSSL's reason for the last error, then the queue emptied.
std::string lastError(std::string_view what) {
  std::string out(what);
  const unsigned long e = ERR_peek_last_error();
  if (e != 0) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    out += ": ";
    out += text;
  }
  ERR_clear_error();
  return out;
}

}  // namespace

bool isIpLiteral(std::string_view s) {
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return false;
  char text[INET6_ADDRSTRLEN];
  s.copy(text, s.size());
  text[s.size()] = '\0';
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, text, buf) == 1 || inet_pton(AF_INET6, text, buf) == 1;
}

TlsClientContext::TlsClientContext(SSL_CTX* ctx, const ClusterTlsConfig& config)
    : ctx_(ctx),
      server_name_(config.server_name),
      server_name_is_ip_(isIpLiteral(config.server_name)),
      verify_(config.verify) {}

TlsClientContext::~TlsClientContext() {
  SSL_CTX_free(ctx_);
}

std::shared_ptr<const TlsClientContext> TlsClientContext::create(const ClusterTlsConfig& config,
                                                                 Error* error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    *error = {"", lastError("cannot create a TLS context")};
    return nullptr;
  }
  // From here `context` owns ctx.
  std::shared_ptr<const TlsClientContext> context(new TlsClientContext(ctx, config));
  const int min = config.min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx, min);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // Idle pooled connections give their record buffers back; the output buffer may move
  // between a write that would block and its retry (it compacts).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (config.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    // Without ca_file: the system's CA bundle (SSL_CERT_FILE, else OpenSSL's default file,
    // Debian's ca-certificates.crt), read whole now. Not the hashed certificate directory
    // SSL_CTX_set_default_verify_paths adds: OpenSSL opens that lazily, during a handshake on
    // a worker, which the sandbox forbids (and a file read per handshake is not ours to do).
    const char* env = std::getenv(X509_get_default_cert_file_env());
    const std::string bundle = env != nullptr && *env != '\0' ? env : X509_get_default_cert_file();
    const std::string& from = config.ca_file.empty() ? bundle : config.ca_file;
    if (SSL_CTX_load_verify_locations(ctx, from.c_str(), nullptr) != 1) {
      *error = {config.ca_file.empty() ? "" : "ca_file",
                lastError(config.ca_file.empty()
                              ? "cannot load the system's CA bundle '" + bundle +
                                    "' (install ca-certificates, or give ca_file)"
                              : "no CA certificate could be read from '" + config.ca_file + "'")};
      return nullptr;
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!config.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, config.cert_file.c_str()) != 1) {
      *error = {"cert_file",
                lastError("no certificate chain could be read from '" + config.cert_file + "'")};
      return nullptr;
    }
    bool encrypted = false;  // never a passphrase prompt (attest/pem_key.h)
    SSL_CTX_set_default_passwd_cb(ctx, attest::refusePassphrase);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, &encrypted);
    const bool key_read =
        SSL_CTX_use_PrivateKey_file(ctx, config.key_file.c_str(), SSL_FILETYPE_PEM) == 1;
    SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
    if (!key_read) {
      *error = {"key_file", encrypted
                                ? attest::encryptedKeyProblem(config.key_file)
                                : lastError("no private key could be read from '" +
                                            config.key_file + "', or it does not match cert_file")};
      ERR_clear_error();
      return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      *error = {"key_file", lastError("'" + config.key_file + "' is not the key of cert_file")};
      return nullptr;
    }
  }
  if (SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn) != 0) {  // 0 is success here
    *error = {"", lastError("cannot set ALPN")};
    return nullptr;
  }
  // Sessions are kept by the workers (SessionSlot), never in the shared context: no lock.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, onNewSession);
  slotIndex();  // allocated now, at load, not on a worker's first connection
  return context;
}

SSL* TlsClientContext::newSsl(const SocketAddress& peer, SessionSlot* slot) const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return nullptr;
  SSL_set_connect_state(ssl);
  bool ok = true;
  const bool dns_name = !server_name_.empty() && !server_name_is_ip_;
  if (dns_name) ok = SSL_set_tlsext_host_name(ssl, server_name_.c_str()) == 1;
  if (ok && verify_) {
    if (dns_name) {
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = SSL_set1_host(ssl, server_name_.c_str()) == 1;
    } else {
      const std::string ip = server_name_.empty() ? peer.hostText() : server_name_;
      ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip.c_str()) == 1;
    }
  }
  if (ok && slot != nullptr) {
    ok = SSL_set_ex_data(ssl, slotIndex(), slot) == 1;
    // A session whose connection ended badly (freed without close_notify) is marked not
    // resumable by OpenSSL: offering it would only cost a full handshake's worth of bytes.
    if (slot->get() != nullptr && SSL_SESSION_is_resumable(slot->get()) == 0) slot->clear();
    if (ok && slot->get() != nullptr) ok = SSL_set_session(ssl, slot->get()) == 1;
  }
  if (!ok) {
    SSL_free(ssl);
    ERR_clear_error();
    return nullptr;
  }
  return ssl;
}

std::string_view TlsClientContext::verifyError(const SSL* ssl) {
  const long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return {};
  return X509_verify_cert_error_string(result);
}

}  // namespace dpuguard::proxy::tls
