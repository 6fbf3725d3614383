// TestPki: EC P-256 certificates made in the test process with OpenSSL's API (no private key
// is committed): a root CA, certificates it signs for DNS and IP names, PEM files in a
// temporary directory with keys at 0600, removed with the TestPki. For the TLS unit tests:
// ctest runs each test as a process of its own, in parallel, so the directory is the process's.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <string>

namespace dpuguard::proxy::tls::testing {

struct TestCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  std::string cert_file;
  std::string key_file;
};

class TestPki {
 public:
  // Makes DIR-PID (mode 0700).
  explicit TestPki(const std::string& dir) : dir_(dir + "-" + std::to_string(::getpid())) {
    ::mkdir(dir_.c_str(), 0700);
  }
  ~TestPki() {
    for (TestCert& c : certs_) {
      EVP_PKEY_free(c.key);
      X509_free(c.cert);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // A self-signed CA certificate named `name` (files NAME.crt, NAME.key).
  const TestCert& ca(const std::string& name) { return make(name, nullptr, "", true); }
  // A leaf certificate signed by `issuer`, with subjectAltName `san` ("DNS:a.test,IP:127.0.0.1").
  const TestCert& leaf(const std::string& name, const TestCert& issuer, const std::string& san) {
    return make(name, &issuer, san, false);
  }
  const std::string& dir() const { return dir_; }

 private:
  const TestCert& make(const std::string& name, const TestCert* issuer, const std::string& san,
                       bool is_ca) {
    TestCert c;
    c.key = EVP_EC_gen("P-256");
    c.cert = X509_new();
    X509_set_version(c.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c.cert), static_cast<long>(++serial_));
    X509_gmtime_adj(X509_getm_notBefore(c.cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c.cert), 86400);
    X509_NAME* subject = X509_get_subject_name(c.cert);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
    X509_set_issuer_name(c.cert, issuer ? X509_get_subject_name(issuer->cert) : subject);
    X509_set_pubkey(c.cert, c.key);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer ? issuer->cert : c.cert, c.cert, nullptr, nullptr, 0);
    addExt(&v3, c.cert, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
    addExt(&v3, c.cert, NID_key_usage,
           is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    if (!is_ca) addExt(&v3, c.cert, NID_ext_key_usage, "serverAuth,clientAuth");
    addExt(&v3, c.cert, NID_subject_key_identifier, "hash");
    if (!san.empty()) addExt(&v3, c.cert, NID_subject_alt_name, san.c_str());
    X509_sign(c.cert, issuer ? issuer->key : c.key, EVP_sha256());
    c.cert_file = dir_ + "/" + name + ".crt";
    c.key_file = dir_ + "/" + name + ".key";
    FILE* f = std::fopen(c.cert_file.c_str(), "w");
    PEM_write_X509(f, c.cert);
    std::fclose(f);
    f = std::fopen(c.key_file.c_str(), "w");
    PEM_write_PrivateKey(f, c.key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    ::chmod(c.key_file.c_str(), 0600);
    certs_.push_back(c);
    return certs_.back();
  }

  static void addExt(X509V3_CTX* v3, X509* cert, int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, v3, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }

  std::string dir_;
  std::deque<TestCert> certs_;  // a deque: references handed out stay valid
  long serial_ = 0;
};

}  // namespace dpuguard::proxy::tls::testing
