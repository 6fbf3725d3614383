// TlsClientContext: real handshakes over a socket pair with an OpenSSL server in the test.
// The name checked and sent (SNI for a DNS name, the IP SAN for an address), refusals with
// OpenSSL's verify reason, ALPN http/1.1, the client certificate, and the SessionSlot:
// filled by the server's tickets (also when one arrives on an idle connection), offered by
// the next connection, dropped when its connection failed (a corrupt record, a fatal alert).
#include "proxy/tls/tls_client_context.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <csignal>
#include <memory>
#include <string>

#include "proxy/tls/tls_transport.h"
#include "tests/proxy/tls/test_pki.h"

namespace dpuguard::proxy::tls {
namespace {

using testing::TestCert;
using testing::TestPki;

// ALPN on the server: http/1.1 if offered.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

class TlsClientContextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // As in dpuguard (server.cc): OpenSSL writes with write(2), and a close_notify sent to a
    // peer that already went would otherwise end the process.
    std::signal(SIGPIPE, SIG_IGN);
    pki_ = new TestPki(::testing::TempDir() + "tls-client-context-pki");
    ca_ = &pki_->ca("ca");
    other_ca_ = &pki_->ca("other-ca");
    server_ = &pki_->leaf("server", *ca_, "DNS:api.test,IP:127.0.0.1");
    client_ = &pki_->leaf("client", *ca_, "DNS:dpuguard.test");
  }
  static void TearDownTestSuite() { delete pki_; }

  void TearDown() override {
    SSL_free(server_ssl_);
    if (server_fd_ >= 0) ::close(server_fd_);
    SSL_CTX_free(server_ctx_);
  }

  // The server side: TLS 1.2 or 1.3 only, optionally requiring a client certificate.
  void serve(int version, bool require_client_cert = false) {
    server_ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(server_ctx_, version);
    SSL_CTX_set_max_proto_version(server_ctx_, version);
    ASSERT_EQ(
        SSL_CTX_use_certificate_file(server_ctx_, server_->cert_file.c_str(), SSL_FILETYPE_PEM), 1);
    ASSERT_EQ(SSL_CTX_use_PrivateKey_file(server_ctx_, server_->key_file.c_str(), SSL_FILETYPE_PEM),
              1);
    SSL_CTX_set_alpn_select_cb(server_ctx_, selectAlpn, nullptr);
    SSL_CTX_set_session_id_context(server_ctx_, reinterpret_cast<const unsigned char*>("t"), 1);
    if (require_client_cert) {
      SSL_CTX_load_verify_locations(server_ctx_, ca_->cert_file.c_str(), nullptr);
      SSL_CTX_set_verify(server_ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
  }

  // A client connection under `context`, the server's end accepted; both non-blocking.
  std::unique_ptr<TlsTransport> connect(const TlsClientContext& context, SessionSlot* slot,
                                        const char* peer = "127.0.0.1:8443") {
    SSL_free(server_ssl_);
    if (server_fd_ >= 0) ::close(server_fd_);
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    server_fd_ = fds[1];
    server_ssl_ = SSL_new(server_ctx_);
    SSL_set_fd(server_ssl_, server_fd_);
    SSL_set_accept_state(server_ssl_);
    SSL* ssl = context.newSsl(*SocketAddress::parse(peer), slot);
    EXPECT_NE(ssl, nullptr);
    return std::make_unique<TlsTransport>(fds[0], ssl);
  }

  // Both sides' handshakes until the client is done or failed; the client's last result.
  Transport::Io handshake(TlsTransport& client) {
    Transport::Io io = Transport::Io::kWouldBlock;
    for (int i = 0; i < 20 && io == Transport::Io::kWouldBlock; ++i) {
      io = client.handshake();
      SSL_do_handshake(server_ssl_);
      ERR_clear_error();
    }
    return io;
  }

  // One request and answer, so that the client reads what the server sent after the
  // handshake (TLS 1.3 tickets).
  void exchange(TlsTransport& client) {
    ASSERT_EQ(client.write("ping").io, Transport::Io::kDone);
    char buf[16];
    size_t n = 0;
    ASSERT_EQ(SSL_read_ex(server_ssl_, buf, sizeof buf, &n), 1);
    ASSERT_EQ(SSL_write_ex(server_ssl_, "pong", 4, &n), 1);
    const Transport::Result r = client.read(buf, sizeof buf);
    ASSERT_EQ(r.io, Transport::Io::kDone);
    EXPECT_EQ(std::string(buf, r.bytes), "pong");
  }

  static std::shared_ptr<const TlsClientContext> context(ClusterTlsConfig c) {
    c.enabled = true;
    TlsClientContext::Error error;
    auto ctx = TlsClientContext::create(c, &error);
    EXPECT_NE(ctx, nullptr) << error.key << ": " << error.message;
    return ctx;
  }
  ClusterTlsConfig verified(const std::string& name = "api.test") const {
    ClusterTlsConfig c;
    c.ca_file = ca_->cert_file;
    c.server_name = name;
    return c;
  }
  std::string serverSni() const {
    const char* sni = SSL_get_servername(server_ssl_, TLSEXT_NAMETYPE_host_name);
    return sni != nullptr ? sni : "";
  }

  static TestPki* pki_;
  static const TestCert* ca_;
  static const TestCert* other_ca_;
  static const TestCert* server_;
  static const TestCert* client_;
  SSL_CTX* server_ctx_ = nullptr;
  SSL* server_ssl_ = nullptr;
  int server_fd_ = -1;
};
TestPki* TlsClientContextTest::pki_ = nullptr;
const TestCert* TlsClientContextTest::ca_ = nullptr;
const TestCert* TlsClientContextTest::other_ca_ = nullptr;
const TestCert* TlsClientContextTest::server_ = nullptr;
const TestCert* TlsClientContextTest::client_ = nullptr;

TEST_F(TlsClientContextTest, ADnsNameIsSentAsSniAndChecked) {
  serve(TLS1_3_VERSION);
  auto ctx = context(verified());
  auto client = connect(*ctx, nullptr);
  ASSERT_EQ(handshake(*client), Transport::Io::kDone);
  EXPECT_EQ(serverSni(), "api.test");
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(client->ssl(), &alpn, &alpn_len);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(alpn), alpn_len), "http/1.1");
  EXPECT_EQ(TlsClientContext::verifyError(client->ssl()), "");
}

TEST_F(TlsClientContextTest, AnotherNameIsRefused) {
  serve(TLS1_3_VERSION);
  auto ctx = context(verified("other.test"));
  auto client = connect(*ctx, nullptr);
  ASSERT_EQ(handshake(*client), Transport::Io::kError);
  EXPECT_EQ(client->failure(), Failure::kBadCertificate);
  EXPECT_EQ(TlsClientContext::verifyError(client->ssl()), "hostname mismatch");
}

TEST_F(TlsClientContextTest, AnotherCaIsRefused) {
  serve(TLS1_2_VERSION);
  ClusterTlsConfig c = verified();
  c.ca_file = other_ca_->cert_file;
  auto client = connect(*context(c), nullptr);
  ASSERT_EQ(handshake(*client), Transport::Io::kError);
  EXPECT_EQ(client->failure(), Failure::kBadCertificate);
  EXPECT_EQ(TlsClientContext::verifyError(client->ssl()), "unable to get local issuer certificate");
}

TEST_F(TlsClientContextTest, WithoutServerNameThePeersAddressIsCheckedAndNoSniSent) {
  serve(TLS1_3_VERSION);
  auto ctx = context(verified(""));
  auto client = connect(*ctx, nullptr, "127.0.0.1:8443");
  ASSERT_EQ(handshake(*client), Transport::Io::kDone);
  EXPECT_EQ(serverSni(), "");
  auto elsewhere = connect(*ctx, nullptr, "127.0.0.2:8443");  // not in the certificate
  ASSERT_EQ(handshake(*elsewhere), Transport::Io::kError);
  EXPECT_EQ(TlsClientContext::verifyError(elsewhere->ssl()), "IP address mismatch");
}

TEST_F(TlsClientContextTest, AnIpServerNameIsCheckedButNeverSent) {
  serve(TLS1_3_VERSION);
  auto client = connect(*context(verified("127.0.0.1")), nullptr, "10.9.9.9:443");
  ASSERT_EQ(handshake(*client), Transport::Io::kDone);
  EXPECT_EQ(serverSni(), "");
}

TEST_F(TlsClientContextTest, VerifyOffTakesAnyCertificate) {
  serve(TLS1_3_VERSION);
  ClusterTlsConfig c;
  c.verify = false;
  c.server_name = "other.test";
  auto client = connect(*context(c), nullptr);
  ASSERT_EQ(handshake(*client), Transport::Io::kDone);
  EXPECT_EQ(serverSni(), "other.test");
}

TEST_F(TlsClientContextTest, TheClientCertificateIsPresented) {
  serve(TLS1_3_VERSION, true);
  ClusterTlsConfig c = verified();
  c.cert_file = client_->cert_file;
  c.key_file = client_->key_file;
  auto client = connect(*context(c), nullptr);
  ASSERT_EQ(handshake(*client), Transport::Io::kDone);
  exchange(*client);
  X509* peer = SSL_get1_peer_certificate(server_ssl_);
  ASSERT_NE(peer, nullptr);
  X509_free(peer);
  // Without one the server refuses (TLS 1.3: after the client's handshake, on its first read).
  auto anonymous = connect(*context(verified()), nullptr);
  handshake(*anonymous);
  anonymous->write("ping");
  char buf[8];
  size_t n = 0;
  EXPECT_NE(SSL_read_ex(server_ssl_, buf, sizeof buf, &n), 1);
  ERR_clear_error();
}

// The next connection resumes the session the last one got, for both versions.
class ResumptionTest : public TlsClientContextTest, public ::testing::WithParamInterface<int> {};

TEST_P(ResumptionTest, TheSlotsSessionIsResumed) {
  serve(GetParam());
  auto ctx = context(verified());
  SessionSlot slot;
  auto first = connect(*ctx, &slot);
  ASSERT_EQ(handshake(*first), Transport::Io::kDone);
  exchange(*first);
  EXPECT_FALSE(first->tls()->resumed);
  ASSERT_NE(slot.get(), nullptr);
  first->shutdownWrite();  // close_notify: the session stays resumable
  first.reset();
  auto second = connect(*ctx, &slot);
  ASSERT_EQ(handshake(*second), Transport::Io::kDone);
  EXPECT_TRUE(second->tls()->resumed);
  EXPECT_EQ(SSL_session_reused(server_ssl_), 1);
}

TEST_P(ResumptionTest, ASessionWhoseConnectionEndedBadlyIsNotOffered) {
  serve(GetParam());
  auto ctx = context(verified());
  SessionSlot slot;
  auto first = connect(*ctx, &slot);
  ASSERT_EQ(handshake(*first), Transport::Io::kDone);
  exchange(*first);
  // A record that fails its integrity check: the client sends a fatal alert, and OpenSSL
  // marks the session not resumable (RFC 5246 §7.2.2).
  const char corrupt[] = {0x17, 0x03, 0x03, 0x00, 0x20, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
                          'x',  'x',  'x',  'x',  'x',  'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
                          'x',  'x',  'x',  'x',  'x',  'x', 'x', 'x', 'x', 'x', 'x'};
  ASSERT_EQ(::write(server_fd_, corrupt, sizeof corrupt), static_cast<ssize_t>(sizeof corrupt));
  char buf[16];
  EXPECT_EQ(first->read(buf, sizeof buf).io, Transport::Io::kError);
  first.reset();
  auto second = connect(*ctx, &slot);
  ASSERT_EQ(handshake(*second), Transport::Io::kDone);
  EXPECT_FALSE(second->tls()->resumed);
}

INSTANTIATE_TEST_SUITE_P(Versions, ResumptionTest,
                         ::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION));

TEST_F(TlsClientContextTest, ATicketOnAnIdleConnectionIsAbsorbedIntoTheSlot) {
  serve(TLS1_3_VERSION);
  auto ctx = context(verified());
  SessionSlot slot;
  auto client = connect(*ctx, &slot);
  ASSERT_EQ(handshake(*client), Transport::Io::kDone);
  exchange(*client);
  const SSL_SESSION* before = slot.get();
  ASSERT_NE(before, nullptr);
  // The server sends one more ticket while the connection sits idle (in the pool).
  ASSERT_EQ(SSL_new_session_ticket(server_ssl_), 1);
  ASSERT_EQ(SSL_do_handshake(server_ssl_), 1);
  char probe;
  EXPECT_EQ(client->read(&probe, 1).io, Transport::Io::kWouldBlock);  // no data: still usable
  EXPECT_NE(slot.get(), before);
  EXPECT_NE(slot.get(), nullptr);
  // And it still carries the next exchange.
  exchange(*client);
}

}  // namespace
}  // namespace dpuguard::proxy::tls
