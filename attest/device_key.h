// DeviceKey: the Ed25519 key quotes are signed with (attestation.key_file). Here it is a PEM
// file readable by its owner only; on a DPU it would be sealed by the device's root of trust
// (SECURITY.md, "Attestation"). The private key lives in OpenSSL's secure heap when the
// process set one up (locked in memory, left out of core dumps).
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace dpuguard::attest {

class DeviceKey {
 public:
  // Reads a PEM Ed25519 private key; refused when the file is readable or writable by group or
  // others, or holds another kind of key.
  static std::unique_ptr<DeviceKey> load(const std::string& path, std::string* why);
  // Creates a new key at `path` (mode 0600, never over an existing file) and writes its public
  // half to `public_path` (PEM, 0644).
  static bool create(const std::string& path, const std::string& public_path, std::string* why);

  ~DeviceKey();
  DeviceKey(const DeviceKey&) = delete;
  DeviceKey& operator=(const DeviceKey&) = delete;

  // The 64-byte signature of `bytes`, "" on failure.
  std::string sign(std::string_view bytes) const;
  std::string publicPem() const;

 private:
  explicit DeviceKey(EVP_PKEY* key) : key_(key) {}
  EVP_PKEY* key_;
};

// Why `public_pem` is not a PEM Ed25519 public key, or "" (a verifier checks its anchor at
// start, not at the first quote).
std::string publicKeyProblem(std::string_view public_pem);

// Whether `signature` is `bytes` signed by the Ed25519 public key in `public_pem`; false with
// *why (an unreadable key, another kind of key, a bad signature).
bool verifyEd25519(std::string_view public_pem, std::string_view bytes, std::string_view signature,
                   std::string* why);

}  // namespace dpuguard::attest
