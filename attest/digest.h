// SHA-256 digests as lower-case hex, through OpenSSL's EVP interface (libcrypto).
#pragma once

#include <string>
#include <string_view>

namespace dpuguard::attest {

inline constexpr size_t kSha256HexLength = 64;

// The SHA-256 of `bytes` as 64 lower-case hex digits.
std::string sha256Hex(std::string_view bytes);

// The SHA-256 of a file's contents; false with *why when it cannot be read.
bool sha256File(const std::string& path, std::string* hex, std::string* why);

// Lower-case hex of `bytes`; and back (false on odd length or a non-hex digit).
std::string toHex(std::string_view bytes);
bool fromHex(std::string_view hex, std::string* bytes);

// 64 lower-case hex digits.
bool isSha256Hex(std::string_view s);

}  // namespace dpuguard::attest
