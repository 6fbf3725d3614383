// Private keys from PEM files without a passphrase prompt. OpenSSL, given no callback, asks
// for an encrypted key's passphrase on the terminal: a daemon must not block on a prompt
// (nor make the ioctls the sandbox forbids). Every key dpuguard reads goes through these, and
// an encrypted one is refused, saying so.
#pragma once

#include <openssl/evp.h>

#include <cstdio>
#include <string>

namespace dpuguard::attest {

// OpenSSL's pem_password_cb: no passphrase; sets *(bool*)asked when there is one to give.
int refusePassphrase(char* buf, int size, int rwflag, void* asked);

// The private key in PEM file `f` (named `path`), or null with *why.
EVP_PKEY* readPrivateKeyPem(FILE* f, const std::string& path, std::string* why);

// "'PATH' is encrypted ..." : the error for a key that asked for a passphrase.
std::string encryptedKeyProblem(const std::string& path);

}  // namespace dpuguard::attest
