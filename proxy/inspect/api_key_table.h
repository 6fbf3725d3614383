// ApiKeyTable: the identities of API keys (`Authorization: Bearer KEY`), from a key file that
// holds only SHA-256 digests of the keys (api_keys.file; `dpuguard keys add` appends to it).
// Built by the loader once per snapshot, then shared read-only by every worker.
//
// The key file, one key per line ('#' starts a comment, to the end of the line; blank lines
// are ignored):
//   sha256:<64 hex digits> <identity>
// where the digest is SHA-256 over the key's bytes exactly as the client sends them after
// "Bearer ", and the identity is what policy, rate limits, budgets and the graph see
// (1..kMaxIdentityBytes printable ASCII bytes, no space). A digest listed twice is an error.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxy/config/config_error.h"

namespace dpuguard::proxy::inspect {

// What a request's Authorization fields say on a route that reads API keys.
enum class ApiKeyStatus : uint8_t {
  kKnown,      // one `Bearer KEY` field with a key of the table: `identity` is set
  kMissing,    // no Authorization field
  kMalformed,  // not exactly one field of the form `Bearer <token68>` (RFC 9110 §11.4)
  kUnknown,    // well formed, but no such key
};

struct ApiKeyResult {
  ApiKeyStatus status = ApiKeyStatus::kMissing;
  std::string_view identity;  // kKnown: owned by the table
};

class ApiKeyTable {
 public:
  using Digest = std::array<uint8_t, 32>;
  static constexpr size_t kMaxKeyBytes = 512;  // longer tokens are malformed, never hashed
  static constexpr size_t kMaxIdentityBytes = 255;
  static constexpr std::string_view kDigestPrefix = "sha256:";

  // Parses a key file's text; each error names `file`:line:col. The table holds the lines
  // that parsed (the loader refuses the snapshot when there are errors).
  static std::shared_ptr<const ApiKeyTable> parse(std::string_view text, const std::string& file,
                                                  std::vector<ConfigError>* errors);
  // SHA-256 of `key` (OpenSSL's libcrypto) into `out`; false if libcrypto failed.
  static bool digest(std::string_view key, Digest& out);
  // "sha256:<64 lowercase hex digits>", the key file's form of `d`.
  static std::string digestText(const Digest& d);
  // A new random key: "dpg_" + 43 base64url characters (32 bytes from RAND_bytes, the
  // operating system's CSPRNG). False if libcrypto could not give random bytes.
  static bool generateKey(std::string& out);
  static constexpr std::string_view kKeyPrefix = "dpg_";
  // Whether `identity` can be written on a key file line.
  static bool validIdentity(std::string_view identity);
  // The token of an Authorization value `Bearer <token68>` (scheme case-insensitive, one or
  // more spaces); empty if the value is not of that form or the token is over kMaxKeyBytes.
  static std::string_view bearerToken(std::string_view authorization);

  // The request's `count` Authorization fields, the first one's value `authorization`.
  ApiKeyResult check(std::string_view authorization, size_t count) const;
  // The identity of `key`, or empty if the table has no such key.
  std::string_view lookup(std::string_view key) const;
  size_t size() const { return keys_.size(); }

 private:
  struct DigestHash {
    size_t operator()(const Digest& d) const;
  };
  struct DigestEqual {  // constant time: CRYPTO_memcmp
    bool operator()(const Digest& a, const Digest& b) const;
  };
  struct Entry {
    std::string identity;
    int line = 0;  // for "listed twice" errors
  };
  std::unordered_map<Digest, Entry, DigestHash, DigestEqual> keys_;
};

}  // namespace dpuguard::proxy::inspect
