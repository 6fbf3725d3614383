// TicketKeys: AES-256-CBC + HMAC-SHA256 ticket protection, the scheme OpenSSL's own default
// ticket keys use, with our rotation.
#include "proxy/tls/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>
#include <ctime>
#include <stdexcept>

namespace dpuguard::proxy::tls {
int64_t TicketKeys::monotonicSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec;
}

TicketKeys::TicketKeys(uint32_t rotate_s, Clock clock) : rotate_s_(rotate_s), clock_(clock) {
  keys_ = static_cast<Key*>(OPENSSL_secure_zalloc(2 * sizeof(Key)));
  if (keys_ == nullptr || !fill(keys_[0])) throw std::runtime_error("cannot make ticket keys");
  created_s_ = clock_();
}

TicketKeys::~TicketKeys() {
  OPENSSL_secure_clear_free(keys_, 2 * sizeof(Key));
}

bool TicketKeys::fill(Key& k) {
  return RAND_bytes(k.name, sizeof k.name) == 1 && RAND_priv_bytes(k.aes, sizeof k.aes) == 1 &&
         RAND_priv_bytes(k.hmac, sizeof k.hmac) == 1;
}

void TicketKeys::setRotation(uint32_t rotate_s) {
  std::lock_guard<std::mutex> lock(mutex_);
  rotate_s_ = rotate_s;
}

uint64_t TicketKeys::rotations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rotations_;
}

void TicketKeys::rotateIfDue(int64_t now_s) {
  if (rotate_s_ == 0 || now_s - created_s_ < rotate_s_) return;
  Key next;
  if (!fill(next)) return;  // keep the current key rather than fail handshakes
  keys_[1] = keys_[0];
  keys_[0] = next;
  OPENSSL_cleanse(&next, sizeof next);
  have_previous_ = true;
  created_s_ = now_s;
  ++rotations_;
}

int TicketKeys::crypt(unsigned char name[16], unsigned char iv[16], EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int enc) {
  std::lock_guard<std::mutex> lock(mutex_);
  rotateIfDue(clock_());
  const Key* key = nullptr;
  int found = 1;
  if (enc == 1) {
    key = &keys_[0];
    if (RAND_bytes(iv, 16) != 1) return -1;
    std::memcpy(name, key->name, 16);
  } else if (std::memcmp(name, keys_[0].name, 16) == 0) {
    key = &keys_[0];
  } else if (have_previous_ && std::memcmp(name, keys_[1].name, 16) == 0) {
    key = &keys_[1];
    found = 2;  // valid, but renew it under the current key
  } else {
    return 0;
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key->hmac),
                                        sizeof key->hmac),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  const int ok = enc == 1 ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv)
                          : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv);
  return ok == 1 ? found : -1;
}

}  // namespace dpuguard::proxy::tls
