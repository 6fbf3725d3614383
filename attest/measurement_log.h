// MeasurementLog: what dpuguard is running, in the shape of a TPM event log (ATTESTATION.md):
// an ordered list of (index, component, path, sha256), and a composite digest over its
// canonical encoding. Same inputs, same log, same composite: the expected value is computed
// offline with `dpuguard measure` and compared by `dpuguard-host verify`.
//
// Canonical encoding, one line per entry, index from 0:
//   "<index> <component> <sha256> <path>\n"
// where component is [a-z_]{1,32}, sha256 64 lower-case hex digits and path percent-encoded
// (every byte outside '!'..'~', and '%', '"', '\', as %XX), so a path of any bytes is one
// token, survives JSON unescaped, and no two logs encode alike. The composite is SHA-256 over
// the encoding; the measurement id, its first 16 hex digits, is what the flow log carries.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dpuguard::attest {

struct Measurement {
  std::string component;  // executable, config, rules, baseline, api_keys, tls_cert, ...
  std::string path;       // percent-encoded (encodePath)
  std::string sha256;     // 64 lower-case hex digits
  bool operator==(const Measurement&) const = default;
};

class MeasurementLog {
 public:
  static constexpr size_t kMaxEntries = 256;
  static constexpr size_t kMaxComponentLength = 32;
  static constexpr size_t kMaxPathLength = 4096;  // encoded
  static constexpr size_t kIdLength = 16;

  // Appends an entry; `raw_path` is made absolute (realpath(3), when the file exists, so the
  // log does not depend on the directory a command ran in) and encoded here. False (the log
  // unchanged) when the log is full, the component is not [a-z_]{1,32}, the digest is not hex or
  // the path too long.
  bool add(std::string_view component, std::string_view raw_path, std::string_view sha256);
  // Appends an entry whose path is already encoded (a parsed quote), with the same checks.
  bool addEncoded(std::string_view component, std::string_view path, std::string_view sha256);

  const std::vector<Measurement>& entries() const { return entries_; }
  std::string canonical() const;
  std::string composite() const;  // SHA-256 hex of canonical()
  std::string id() const;         // composite's first kIdLength hex digits
  // {"entries":[{"index":0,"component":..,"path":..,"sha256":..},..],"composite":..,"id":..}
  std::string json() const;
  // One line per entry, then the composite: what `dpuguard measure` prints.
  std::string text() const;

 private:
  std::vector<Measurement> entries_;
};

// Percent-encoding of a path for the log (see above).
std::string encodePath(std::string_view raw);
// `path` resolved by realpath(3), or unchanged when it cannot be.
std::string absolutePath(const std::string& path);
bool isEncodedPath(std::string_view path);

}  // namespace dpuguard::attest
