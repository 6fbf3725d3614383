// Expectation: the allowlist a verifier holds (EXPECTED.json), several accepted digests per
// component so a rolling upgrade can accept the old and the new binary or rules at once:
//   {"expect":[{"component":"executable","sha256":["<old>","<new>"]},
//              {"component":"config","path":"/etc/dpuguard/dpuguard.yaml","sha256":["..."]}]}
// An entry without "path" matches its component at any path. `dpuguard measure --expect`
// writes one from a config, with every path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "attest/measurement_log.h"
#include "attest/quote.h"

namespace dpuguard::attest {

class Expectation {
 public:
  static constexpr size_t kMaxBytes = 1u << 20;
  static constexpr size_t kMaxValues = 64;  // per entry

  // False with *why naming the first thing wrong.
  static bool parse(std::string_view json, Expectation* out, std::string* why);
  // The expectation that accepts exactly `log`.
  static std::string fromLog(const MeasurementLog& log);

  // "" when every entry of `log` is expected with its digest and every expected entry is in
  // the log; else one line naming the component that differs.
  std::string check(const MeasurementLog& log) const;

 private:
  struct Entry {
    std::string component;
    std::string path;  // encoded; empty = any path
    bool any_path = true;
    std::vector<std::string> sha256;
  };
  std::vector<Entry> entries_;
};

// The whole check of a quote a verifier asked for with `nonce`: the signature with
// `public_pem`, then the nonce, then every digest. "" when it verifies, else one line.
std::string verifyQuote(const SignedQuote& q, std::string_view nonce, std::string_view public_pem,
                        const Expectation& expect);

}  // namespace dpuguard::attest
