// ApiKeyTable: key file parsing, the Bearer token and the digest lookup.
#include "proxy/inspect/api_key_table.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

namespace dpuguard::proxy::inspect {
namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// token68 (RFC 9110 §11.2): 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool isToken68(std::string_view t) {
  size_t i = 0;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  if (i == 0) return false;
  for (; i < t.size(); ++i) {
    if (t[i] != '=') return false;
  }
  return true;
}

// SHA-256, fetched once: an implicit fetch on every digest would cost a lookup and more
// allocations (EVP_Digest still allocates its context; see the report on hot-path memory).
const EVP_MD* sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// One field of a key file line: its text and 1-based column.
struct Field {
  std::string_view text;
  int column = 0;
};

}  // namespace

bool ApiKeyTable::digest(std::string_view key, Digest& out) {
  unsigned int len = 0;
  const EVP_MD* md = sha256();
  return md != nullptr && EVP_Digest(key.data(), key.size(), out.data(), &len, md, nullptr) == 1 &&
         len == out.size();
}

bool ApiKeyTable::generateKey(std::string& out) {
  static constexpr char kB64Url[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";  // RFC 4648 §5
  std::array<uint8_t, 33> raw{};  // 32 random bytes; the 33rd, zero, completes the last group
  if (RAND_bytes(raw.data(), 32) != 1) return false;
  out.assign(kKeyPrefix);
  for (size_t i = 0; i < 33; i += 3) {
    const uint32_t v = uint32_t{raw[i]} << 16 | uint32_t{raw[i + 1]} << 8 | raw[i + 2];
    for (int k = 18; k >= 0; k -= 6) out.push_back(kB64Url[(v >> k) & 0x3F]);
  }
  out.resize(kKeyPrefix.size() + 43);  // 256 bits: 43 characters, no padding
  OPENSSL_cleanse(raw.data(), raw.size());
  return true;
}

std::string ApiKeyTable::digestText(const Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(kDigestPrefix);
  for (uint8_t b : d) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

bool ApiKeyTable::validIdentity(std::string_view identity) {
  if (identity.empty() || identity.size() > kMaxIdentityBytes) return false;
  for (char c : identity) {
    if (c <= 0x20 || c >= 0x7f || c == '#') return false;
  }
  return true;
}

std::string_view ApiKeyTable::bearerToken(std::string_view v) {
  while (!v.empty() && isSpace(v.front())) v.remove_prefix(1);
  while (!v.empty() && isSpace(v.back())) v.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer";
  if (v.size() <= kScheme.size() || v[kScheme.size()] != ' ') return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {  // auth-scheme is case-insensitive (§11.1)
    if ((v[i] | 0x20) != kScheme[i]) return {};
  }
  v.remove_prefix(kScheme.size());
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (v.size() > kMaxKeyBytes || !isToken68(v)) return {};
  return v;
}

ApiKeyResult ApiKeyTable::check(std::string_view authorization, size_t count) const {
  if (count == 0) return {ApiKeyStatus::kMissing, {}};
  const std::string_view key = count == 1 ? bearerToken(authorization) : std::string_view();
  if (key.empty()) return {ApiKeyStatus::kMalformed, {}};
  const std::string_view identity = lookup(key);
  return {identity.empty() ? ApiKeyStatus::kUnknown : ApiKeyStatus::kKnown, identity};
}

// Why a lookup keyed by the digest leaks nothing about the keys: which bucket is searched and
// how many digests are compared depend only on the digest of the key the client sent, which
// the client can compute itself, and on the stored digests. At most, timing could tell an
// attacker that a stored digest shares a bucket (a few bits of a hash of its bytes) with a
// digest of their choosing; getting from there, or even from a whole stored digest, to a key
// would take a SHA-256 preimage of a random 256-bit key. Comparing the keys themselves with
// an early-exit memcmp would instead reveal how many leading bytes of a guess are right and
// let a key be found byte by byte. The digests are still compared with CRYPTO_memcmp, so not
// even a stored digest's bytes are revealed by where a comparison stops.
std::string_view ApiKeyTable::lookup(std::string_view key) const {
  Digest d{};
  if (keys_.empty() || !digest(key, d)) return {};
  const auto it = keys_.find(d);
  return it != keys_.end() ? std::string_view(it->second.identity) : std::string_view();
}

size_t ApiKeyTable::DigestHash::operator()(const Digest& d) const {
  uint64_t h = 0;
  std::memcpy(&h, d.data(), sizeof h);  // a digest is uniformly distributed already
  return static_cast<size_t>(h);
}

bool ApiKeyTable::DigestEqual::operator()(const Digest& a, const Digest& b) const {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::shared_ptr<const ApiKeyTable> ApiKeyTable::parse(std::string_view text,
                                                      const std::string& file,
                                                      std::vector<ConfigError>* errors) {
  auto table = std::make_shared<ApiKeyTable>();
  auto fail = [&](int line, int column, std::string message) {
    if (errors != nullptr) errors->push_back({file, line, column, std::move(message)});
  };
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (const size_t hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<Field> fields;
    for (size_t i = 0; i < line.size();) {
      if (isSpace(line[i])) {
        ++i;
        continue;
      }
      size_t end = i;
      while (end < line.size() && !isSpace(line[end])) ++end;
      fields.push_back({line.substr(i, end - i), static_cast<int>(i) + 1});
      i = end;
    }
    if (fields.empty()) continue;
    const Field& d = fields[0];
    if (d.text.substr(0, kDigestPrefix.size()) != kDigestPrefix) {
      fail(line_no, d.column, "expected 'sha256:<64 hex digits> IDENTITY' (the key's digest)");
      continue;
    }
    const std::string_view hex = d.text.substr(kDigestPrefix.size());
    Digest digest{};
    bool hex_ok = hex.size() == 2 * digest.size();
    for (size_t i = 0; hex_ok && i < digest.size(); ++i) {
      const int hi = hexValue(hex[2 * i]), lo = hexValue(hex[2 * i + 1]);
      hex_ok = hi >= 0 && lo >= 0;
      digest[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    if (!hex_ok) {
      fail(line_no, d.column + static_cast<int>(kDigestPrefix.size()),
           "a SHA-256 digest is 64 hex digits (a key itself never goes in this file; "
           "'dpuguard keys add' writes its digest)");
      continue;
    }
    if (fields.size() < 2) {
      fail(line_no, d.column + static_cast<int>(d.text.size()),
           "missing the identity after the digest");
      continue;
    }
    if (!validIdentity(fields[1].text)) {
      fail(line_no, fields[1].column,
           "an identity is 1-" + std::to_string(kMaxIdentityBytes) +
               " printable ASCII bytes without spaces or '#'");
      continue;
    }
    if (fields.size() > 2) {
      fail(line_no, fields[2].column,
           "unexpected text after the identity (a comment starts with '#')");
      continue;
    }
    auto [it, added] = table->keys_.emplace(digest, Entry{std::string(fields[1].text), line_no});
    if (!added) {
      fail(line_no, d.column,
           "this digest is already listed on line " + std::to_string(it->second.line));
    }
  }
  return table;
}

}  // namespace dpuguard::proxy::inspect
