// DeviceKey: Ed25519 through EVP_DigestSign/Verify with a NULL digest (pure EdDSA).
#include "attest/device_key.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "attest/pem_key.h"
#include "attest/regular_file.h"

namespace dpuguard::attest {
namespace {

// Writes `text` to a new file of `mode`; false with *why (also when the file exists).
bool writeNewFile(const std::string& path, const std::string& text, mode_t mode, std::string* why) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    *why = "cannot create '" + path + "': " + std::strerror(errno);
    return false;
  }
  bool ok = ::fchmod(fd, mode) == 0;
  for (size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) *why = "cannot write '" + path + "': " + std::strerror(errno);
  return ok;
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

}  // namespace

std::unique_ptr<DeviceKey> DeviceKey::load(const std::string& path, std::string* why) {
  std::string err;
  const int fd = openRegularFile(path, &err);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    *why = "cannot read '" + path + "': " + (fd < 0 ? err : std::string(std::strerror(errno))) +
           " (dpuguard keys attestation-init --file FILE creates a key)";
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    *why = "'" + path + "' is a private key with mode " + mode +
           ": it must be readable by its owner only (chmod 600)";
    return nullptr;
  }
  FILE* f = ::fdopen(fd, "r");
  EVP_PKEY* key = readPrivateKeyPem(f, path, why);
  if (f != nullptr) std::fclose(f);
  if (key == nullptr) return nullptr;
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    *why = "'" + path + "' is not an Ed25519 key (dpuguard keys attestation-init creates one)";
    return nullptr;
  }
  return std::unique_ptr<DeviceKey>(new DeviceKey(key));
}

bool DeviceKey::create(const std::string& path, const std::string& public_path, std::string* why) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) {
    *why = "cannot generate an Ed25519 key";
    return false;
  }
  const DeviceKey owner(key);
  BIO* priv = BIO_new(BIO_s_secmem());
  const bool ok = priv != nullptr &&
                  PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::string text = ok ? bioText(priv) : std::string();
  BIO_free(priv);
  if (text.empty()) {
    *why = "cannot encode the key";
    return false;
  }
  const bool written = writeNewFile(path, text, 0600, why);
  OPENSSL_cleanse(text.data(), text.size());
  return written && writeNewFile(public_path, owner.publicPem(), 0644, why);
}

DeviceKey::~DeviceKey() {
  EVP_PKEY_free(key_);
}

std::string DeviceKey::sign(std::string_view bytes) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig(64, '\0');
  size_t len = sig.size();
  const bool ok =
      ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok && len == sig.size() ? sig : std::string();
}

std::string DeviceKey::publicPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  const std::string text =
      bio != nullptr && PEM_write_bio_PUBKEY(bio, key_) == 1 ? bioText(bio) : std::string();
  BIO_free(bio);
  return text;
}

namespace {

EVP_PKEY* readPublicKey(std::string_view public_pem) {
  BIO* bio = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  EVP_PKEY* key = bio != nullptr ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  ERR_clear_error();
  if (key != nullptr && EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return key;
}

}  // namespace

std::string publicKeyProblem(std::string_view public_pem) {
  EVP_PKEY* key = readPublicKey(public_pem);
  EVP_PKEY_free(key);
  return key != nullptr ? "" : "the public key is not a PEM Ed25519 public key";
}

bool verifyEd25519(std::string_view public_pem, std::string_view bytes, std::string_view signature,
                   std::string* why) {
  EVP_PKEY* key = readPublicKey(public_pem);
  if (key == nullptr) {
    *why = "the public key is not a PEM Ed25519 public key";
    return false;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                       bytes.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) *why = "the signature does not verify with the given public key";
  return ok;
}

}  // namespace dpuguard::attest
