// Fuzz target: the server side of a TLS handshake as a listener runs it (proxy/tls/): our
// ServerContext (three certificates chosen by SNI, ALPN http/1.1 only, client certificates
// optional under a CA, SPIFFE IDs, tickets) and a TlsTransport on one end of a socketpair,
// the input written to the other end as the client's bytes, in pieces, the way OpenSSL's own
// fuzz/server.c drives a server through memory BIOs. Invariants:
//   - the handshake ends (done, failed, or waiting for more input) without a crash or leak;
//   - a failure always has a reason, and an established connection has none;
//   - an established connection negotiated http/1.1 or no ALPN at all, and its peer
//     identity is empty or a well-formed SPIFFE ID of the allowed trust domain;
//   - the server never writes more than a bounded flight in answer (no amplification).
// Input: byte 0 picks the piece size (1..64; 0: all at once), the rest is the client's bytes.
// The certificates and keys are made at start-up (no key in the repository).
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/common/fuzz_target.h"
#include "proxy/tls/server_context.h"
#include "proxy/tls/spiffe_id.h"
#include "proxy/tls/tls_transport.h"

namespace {

using namespace dpuguard::proxy;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tls_handshake invariant broken: %s\n", what);
    std::abort();
  }
}

std::string writeTemp(const std::string& name, const std::string& pem) {
  std::string path = "/tmp/dpuguard-fuzz-tls-" + std::to_string(getpid()) + "-" + name;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0 && ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()),
        "write a temporary certificate");
  ::close(fd);
  return path;
}

std::string pemOf(X509* cert) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

std::string pemOf(EVP_PKEY* key) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

// A self-signed P-256 certificate for `dns` (the CA too: it signs nothing else here).
X509* makeCertificate(EVP_PKEY* key, const char* dns, bool ca) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(dns),
                             -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  const std::string san = std::string("DNS:") + dns;
  const char* constraints = ca ? "critical,CA:TRUE" : "CA:FALSE";
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san.c_str()},
                            std::pair{NID_basic_constraints, constraints}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  return x;
}

struct Fixture {
  std::shared_ptr<const tls::ServerContext> context;
  Fixture() {
    ListenerTlsConfig config;
    config.enabled = true;
    config.min_version = TlsVersion::kTls12;  // both versions' code reachable
    for (const char* dns : {"api.example.test", "other.example.test", "*.wild.example.test"}) {
      EVP_PKEY* key = EVP_EC_gen("P-256");
      X509* cert = makeCertificate(key, dns, false);
      const std::string stem = std::string(dns[0] == '*' ? "wild" : dns).substr(0, 5);
      config.certificates.push_back(
          {writeTemp(stem + ".crt", pemOf(cert)), writeTemp(stem + ".key", pemOf(key)), {}});
      X509_free(cert);
      EVP_PKEY_free(key);
    }
    EVP_PKEY* ca_key = EVP_EC_gen("P-256");
    X509* ca = makeCertificate(ca_key, "dpuguard fuzz ca", true);
    config.client_auth = {
        ClientAuthMode::kOptional, writeTemp("ca.crt", pemOf(ca)), {"prod.example"}, 4};
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    std::string error;
    context = tls::ServerContext::build(config, std::make_shared<tls::TicketKeys>(3600), &error);
    check(context != nullptr, error.c_str());
    for (const TlsCertificateConfig& c : config.certificates) {
      ::unlink(c.cert_file.c_str());
      ::unlink(c.key_file.c_str());
    }
    ::unlink(config.client_auth.ca_file.c_str());
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// Drains what the server wrote; returns how much.
size_t drain(int fd) {
  size_t total = 0;
  char buf[16384];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) total += static_cast<size_t>(n);
  return total;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t piece = data[0] % 65;
  const std::string_view input = dpuguard::fuzz::asText(data + 1, size - 1);
  int fds[2];
  check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0, "socketpair");
  tls::TlsTransport t(fds[0], fixture().context->newSsl());
  size_t answered = 0;
  Transport::Io io = Transport::Io::kWouldBlock;
  for (size_t at = 0; at < input.size() && io == Transport::Io::kWouldBlock;) {
    const size_t n = piece == 0 ? input.size() - at : std::min(piece, input.size() - at);
    const ssize_t w = ::write(fds[1], input.data() + at, n);
    if (w <= 0) {  // the server is not reading: its buffer is full of our bytes
      answered += drain(fds[1]);
      io = t.handshake();
      if (io == Transport::Io::kWouldBlock && ::write(fds[1], input.data() + at, n) <= 0) break;
      continue;
    }
    at += static_cast<size_t>(w);
    io = t.handshake();
    answered += drain(fds[1]);
  }
  if (io == Transport::Io::kWouldBlock) {
    ::shutdown(fds[1], SHUT_WR);  // the client is gone: the handshake must end now
    io = t.handshake();
    answered += drain(fds[1]);
    check(io != Transport::Io::kWouldBlock, "a handshake waits on a closed peer");
  }
  if (io == Transport::Io::kDone) {
    check(t.failure() == tls::Failure::kNone, "an established connection with a failure");
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(t.ssl(), &alpn, &alpn_len);
    check(alpn_len == 0 ||
              std::string_view(reinterpret_cast<const char*>(alpn), alpn_len) == "http/1.1",
          "a protocol other than http/1.1 was selected");
    std::string_view domain;
    check(t.peerIdentity().empty() ||
              (tls::parseSpiffeId(t.peerIdentity(), &domain) && domain == "prod.example"),
          "a peer identity that is not an allowed SPIFFE ID");
  } else {
    check(t.failure() != tls::Failure::kNone, "a failed handshake without a reason");
  }
  // A server flight is certificates plus a few records: far under this, whatever was sent.
  check(answered < 64 * 1024, "the server answered with more than a handshake flight");
  t.close();
  ::close(fds[1]);
  return 0;
}

namespace dpuguard::fuzz {

std::string describeInput(std::string_view input) {
  if (input.size() < 6) return "incomplete";
  const auto type = static_cast<uint8_t>(input[1]);
  if (type != 0x16) return "rejected:not_a_handshake_record";
  return "accepted:handshake_record piece=" + std::to_string(static_cast<uint8_t>(input[0]) % 65);
}

}  // namespace dpuguard::fuzz
