// TicketKeys: the keys that encrypt a listener's session tickets (stateless resumption),
// rotated every `rotate_s`: a new key encrypts, the previous one still decrypts (its tickets
// are renewed), older ones are gone, so a stolen key opens at most two periods of tickets.
// Random at start, never written anywhere, held in OpenSSL's secure heap when there is one.
// One per listener for the life of the process: reloads keep it, so tickets survive them.
// Thread-safe (a handshake of any worker may ask); a mutex, taken once per handshake.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <mutex>

namespace dpuguard::proxy::tls {

class TicketKeys {
 public:
  using Clock = int64_t (*)();  // seconds, monotonic
  static int64_t monotonicSeconds();
  explicit TicketKeys(uint32_t rotate_s, Clock clock = monotonicSeconds);
  ~TicketKeys();
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  void setRotation(uint32_t rotate_s);
  // SSL_CTX_set_tlsext_ticket_key_evp_cb's contract: 1 encrypt / decrypt with the current
  // key, 2 decrypted with the previous key (issue a new ticket), 0 unknown key (full
  // handshake), -1 error.
  int crypt(unsigned char name[16], unsigned char iv[16], EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
            int enc);
  uint64_t rotations() const;

 private:
  struct Key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
  };
  void rotateIfDue(int64_t now_s);
  static bool fill(Key& k);

  mutable std::mutex mutex_;
  Key* keys_ = nullptr;  // [0] current, [1] previous; in the secure heap
  bool have_previous_ = false;
  int64_t created_s_ = 0;
  uint32_t rotate_s_;
  Clock clock_;
  uint64_t rotations_ = 0;
};

}  // namespace dpuguard::proxy::tls
