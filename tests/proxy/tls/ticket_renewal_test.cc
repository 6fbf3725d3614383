// ServerContext's session tickets under TLS 1.3: every resumption hands the client a new
// ticket, so a client that uses each ticket once (OpenSSL's, browsers') resumes every time
// rather than every other time. Handshakes run in memory (BIO pairs), with a self-signed
// ECDSA P-256 certificate made in the test's temporary directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "proxy/tls/server_context.h"

namespace dpuguard::proxy::tls {
namespace {

// Writes a self-signed P-256 certificate and its key (mode 0600) into `dir`.
bool writeCertificate(const std::string& dir, std::string* cert, std::string* key) {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* x = X509_new();
  if (pkey == nullptr || x == nullptr) return false;
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tickets.test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  bool ok = X509_sign(x, pkey, EVP_sha256()) > 0;
  *cert = dir + "/cert.pem";
  *key = dir + "/key.pem";
  FILE* c = std::fopen(cert->c_str(), "w");
  const int kfd = ::open(key->c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  FILE* k = kfd >= 0 ? ::fdopen(kfd, "w") : nullptr;
  ok = ok && c != nullptr && k != nullptr && PEM_write_X509(c, x) == 1 &&
       PEM_write_PrivateKey(k, pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (c != nullptr) std::fclose(c);
  if (k != nullptr) std::fclose(k);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return ok;
}

SSL_SESSION* g_latest = nullptr;  // the newest ticket the client received
int g_tickets = 0;

int onNewSession(SSL*, SSL_SESSION* session) {
  ++g_tickets;
  if (g_latest != nullptr) SSL_SESSION_free(g_latest);
  g_latest = session;
  return 1;
}

class TicketRenewalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dpuguard-tickets-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ListenerTlsConfig config;
    config.enabled = true;
    config.certificates.push_back({});
    ASSERT_TRUE(writeCertificate(dir_, &config.certificates[0].cert_file,
                                 &config.certificates[0].key_file));
    std::string error;
    server_ = ServerContext::build(config, std::make_shared<TicketKeys>(3600), &error);
    ASSERT_NE(server_, nullptr) << error;
    client_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(client_, TLS1_3_VERSION);
    static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(client_, kAlpn, sizeof kAlpn);
    SSL_CTX_set_session_cache_mode(client_,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(client_, onNewSession);
  }
  void TearDown() override {
    if (g_latest != nullptr) SSL_SESSION_free(g_latest);
    g_latest = nullptr;
    g_tickets = 0;
    SSL_CTX_free(client_);
    std::filesystem::remove_all(dir_);
  }

  // One connection in memory, offering `session` (or none): true if the handshake completed
  // and the client has read what followed it (the tickets). *resumed: both sides agree.
  bool connect(SSL_SESSION* session, bool* resumed) {
    SSL* c = SSL_new(client_);
    SSL* s = server_->newSsl();
    BIO* c_bio = nullptr;
    BIO* s_bio = nullptr;
    BIO_new_bio_pair(&c_bio, 0, &s_bio, 0);
    SSL_set_bio(c, c_bio, c_bio);
    SSL_set_bio(s, s_bio, s_bio);
    SSL_set_connect_state(c);
    if (session != nullptr) SSL_set_session(c, session);
    bool done = false;
    for (int i = 0; i < 16 && !done; ++i) {
      const int cr = SSL_do_handshake(c);
      const int sr = SSL_do_handshake(s);
      done = cr == 1 && sr == 1;
    }
    char buf[64];
    size_t n = 0;
    SSL_read_ex(c, buf, sizeof buf, &n);  // processes the NewSessionTicket messages
    *resumed = done && SSL_session_reused(c) == 1 && SSL_session_reused(s) == 1;
    SSL_shutdown(c);  // else SSL_free marks the client's session not resumable
    ERR_clear_error();
    SSL_free(c);
    SSL_free(s);
    return done;
  }

  std::string dir_;
  std::shared_ptr<const ServerContext> server_;
  SSL_CTX* client_ = nullptr;
};

TEST_F(TicketRenewalTest, EveryResumptionIssuesTheNextTicket) {
  bool resumed = true;
  ASSERT_TRUE(connect(nullptr, &resumed));
  EXPECT_FALSE(resumed);
  ASSERT_EQ(g_tickets, 1);  // SSL_CTX_set_num_tickets(1) after a full handshake
  for (int i = 0; i < 3; ++i) {
    SSL_SESSION* ticket = g_latest;
    SSL_SESSION_up_ref(ticket);
    ASSERT_TRUE(connect(ticket, &resumed)) << "connection " << i + 2;
    EXPECT_TRUE(resumed) << "connection " << i + 2;
    // The client will not offer a ticket it has resumed with again: the next one must come.
    EXPECT_EQ(g_tickets, i + 2) << "no new ticket after resumption " << i + 1;
    EXPECT_NE(g_latest, ticket);
    SSL_SESSION_free(ticket);
  }
}

}  // namespace
}  // namespace dpuguard::proxy::tls
