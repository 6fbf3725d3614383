// TicketKeys: the current key encrypts, the previous one still decrypts (and asks for a
// renewal), older tickets are unknown (a full handshake), with the clock injected.
#include "proxy/tls/ticket_keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>

namespace dpuguard::proxy::tls {
namespace {

int64_t fake_now = 1000;
int64_t fakeClock() {
  return fake_now;
}

struct Crypt {
  EVP_CIPHER_CTX* cipher = EVP_CIPHER_CTX_new();
  EVP_MAC* mac_alg = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* mac = EVP_MAC_CTX_new(mac_alg);
  ~Crypt() {
    EVP_CIPHER_CTX_free(cipher);
    EVP_MAC_CTX_free(mac);
    EVP_MAC_free(mac_alg);
  }
};

// Encrypts a ticket; returns its key name.
std::array<unsigned char, 16> encrypt(TicketKeys& keys) {
  Crypt c;
  std::array<unsigned char, 16> name{};
  unsigned char iv[16];
  EXPECT_EQ(keys.crypt(name.data(), iv, c.cipher, c.mac, 1), 1);
  return name;
}

int decrypt(TicketKeys& keys, std::array<unsigned char, 16> name) {
  Crypt c;
  unsigned char iv[16] = {};
  return keys.crypt(name.data(), iv, c.cipher, c.mac, 0);
}

TEST(TicketKeysTest, RotationKeepsThePreviousKeyForOnePeriod) {
  fake_now = 1000;
  TicketKeys keys(3600, fakeClock);
  const auto first = encrypt(keys);
  EXPECT_EQ(encrypt(keys), first);  // the same key within a period
  EXPECT_EQ(decrypt(keys, first), 1);
  fake_now += 3600;
  const auto second = encrypt(keys);
  EXPECT_NE(second, first);
  EXPECT_EQ(keys.rotations(), 1u);
  EXPECT_EQ(decrypt(keys, second), 1);
  EXPECT_EQ(decrypt(keys, first), 2);  // still valid, renewed under the current key
  fake_now += 3600;
  encrypt(keys);
  EXPECT_EQ(decrypt(keys, first), 0);  // two periods old: a full handshake
  EXPECT_EQ(decrypt(keys, second), 2);
  std::array<unsigned char, 16> stranger{};
  stranger.fill(0x5a);
  EXPECT_EQ(decrypt(keys, stranger), 0);
}

TEST(TicketKeysTest, TwoListenersNeverShareKeys) {
  TicketKeys a(3600), b(3600);
  EXPECT_NE(encrypt(a), encrypt(b));
  EXPECT_EQ(decrypt(b, encrypt(a)), 0);
}

}  // namespace
}  // namespace dpuguard::proxy::tls
