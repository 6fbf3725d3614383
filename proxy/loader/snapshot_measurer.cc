// measureSnapshot: files digested in the order the header gives.
#include "proxy/loader/snapshot_measurer.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>

#include "attest/digest.h"
#include "attest/pem_key.h"
#include "attest/regular_file.h"

namespace dpuguard::proxy {
namespace {

class Measurer {
 public:
  Measurer(attest::MeasurementLog* log, std::string* why) : log_(log), why_(why) {}

  bool add(std::string_view component, const std::string& path, const std::string& digest) {
    if (log_->add(component, path, digest)) return true;
    *why_ = "the measurement log is full (" + std::to_string(attest::MeasurementLog::kMaxEntries) +
            " entries) or '" + path + "' is too long to measure";
    return false;
  }
  bool file(std::string_view component, const std::string& path) {
    if (path.empty()) return true;
    std::string digest;
    return attest::sha256File(path, &digest, why_) && add(component, path, digest);
  }
  // The SHA-256 of the DER SubjectPublicKeyInfo of the private key in `path`.
  bool publicHalf(std::string_view component, const std::string& path) {
    if (path.empty()) return true;
    std::string unreadable;
    const int fd = attest::openRegularFile(path, &unreadable);
    FILE* f = fd >= 0 ? ::fdopen(fd, "r") : nullptr;
    if (fd >= 0 && f == nullptr) ::close(fd);
    EVP_PKEY* key = attest::readPrivateKeyPem(f, path, &unreadable);
    if (f != nullptr) std::fclose(f);
    unsigned char* der = nullptr;
    const int n = key != nullptr ? i2d_PUBKEY(key, &der) : -1;
    EVP_PKEY_free(key);
    if (n <= 0) {
      *why_ = "cannot read the key in '" + path + "' to measure its public half";
      return false;
    }
    const std::string digest =
        attest::sha256Hex(std::string_view(reinterpret_cast<const char*>(der), n));
    OPENSSL_free(der);
    return add(component, path, digest);
  }
  bool text(std::string_view component, const std::string& path, std::string_view bytes) {
    return add(component, path, attest::sha256Hex(bytes));
  }

 private:
  attest::MeasurementLog* log_;
  std::string* why_;
};

std::string executablePath() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf);
  return n > 0 && static_cast<size_t>(n) < sizeof buf ? std::string(buf, static_cast<size_t>(n))
                                                      : std::string("/proc/self/exe");
}

// The running image, digested once per process: /proc/self/exe names the inode that was
// executed even after the file on disk is replaced, so a reload would digest the same tens of
// megabytes again and learn nothing (and a slow reload coalesces SIGHUPs).
struct Executable {
  bool ok = false;
  std::string path, digest, why;
};

const Executable& executable() {
  static const Executable exe = [] {
    Executable e;
    e.path = executablePath();
    e.ok = attest::sha256File("/proc/self/exe", &e.digest, &e.why);
    return e;
  }();
  return exe;
}

}  // namespace

bool measureSnapshot(const Config& c, attest::MeasurementLog* log, std::string* why) {
  Measurer m(log, why);
  const Executable& exe = executable();
  if (!exe.ok) {
    *why = exe.why;
    return false;
  }
  if (!m.add("executable", exe.path, exe.digest)) return false;
  for (const attest::Measurement& e : c.measured) {
    if (!log->addEncoded(e.component, e.path, e.sha256)) {
      *why = "the measurement log is full (" + std::to_string(attest::MeasurementLog::kMaxEntries) +
             " entries)";
      return false;
    }
  }
  for (const ListenerConfig& l : c.listeners) {
    if (!l.tls.enabled) continue;
    for (const TlsCertificateConfig& cert : l.tls.certificates) {
      if (!m.file("tls_cert", cert.cert_file) || !m.publicHalf("tls_public_key", cert.key_file))
        return false;
    }
    if (!m.file("tls_client_ca", l.tls.client_auth.ca_file)) return false;
  }
  for (const ClusterConfig& cl : c.clusters) {
    if (!cl.tls.enabled) continue;
    if (!m.file("upstream_ca", cl.tls.ca_file) || !m.file("upstream_cert", cl.tls.cert_file) ||
        !m.publicHalf("upstream_public_key", cl.tls.key_file)) {
      return false;
    }
  }
  if (c.attestation.key) {
    const std::string pem = c.attestation.key->publicPem();
    if (!m.text("attestation_public_key", c.attestation.key_file, pem)) return false;
  }
  return true;
}

}  // namespace dpuguard::proxy
