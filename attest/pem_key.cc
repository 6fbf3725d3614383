// PEM private keys: read, never prompt.
#include "attest/pem_key.h"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace dpuguard::attest {

int refusePassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* asked) {
  if (asked != nullptr) *static_cast<bool*>(asked) = true;
  return -1;
}

std::string encryptedKeyProblem(const std::string& path) {
  return "'" + path +
         "' is an encrypted key: dpuguard reads unencrypted keys only (no passphrase prompt; "
         "protect the file with mode 0600 instead)";
}

EVP_PKEY* readPrivateKeyPem(FILE* f, const std::string& path, std::string* why) {
  bool asked = false;
  EVP_PKEY* key =
      f != nullptr ? PEM_read_PrivateKey(f, nullptr, refusePassphrase, &asked) : nullptr;
  ERR_clear_error();
  if (key == nullptr)
    *why = asked ? encryptedKeyProblem(path) : "'" + path + "' holds no PEM private key";
  return key;
}

}  // namespace dpuguard::attest
