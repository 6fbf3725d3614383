// Quote: a measurement log with the verifier's nonce, the boot id and the time, signed with
// the device key (Ed25519). GET /attestation?nonce=HEX answers one as JSON:
//   {"version":1,"context":C,"nonce":HEX,"boot_id":UUID,"time":UNIX_S,"measurement_id":ID,
//    "composite":SHA256,"log":[{"index":0,"component":..,"path":..,"sha256":..},..],
//    "signature":HEX(64 bytes)}
// The signature covers signedBytes(), rebuilt by the verifier from the parsed fields (never
// the JSON text): a fixed header, then the log's canonical encoding (measurement_log.h).
// The context says whom it was signed for, so a quote asked for on one path cannot be replayed
// on the other: "admin" (GET /attestation, any client of the admin port) or "host_channel"
// (the host's challenge on the channel; dpuguard-host serve/events accept only these).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "attest/measurement_log.h"

namespace dpuguard::attest {

inline constexpr size_t kMinNonceBytes = 16;
inline constexpr size_t kMaxNonceBytes = 64;
inline constexpr size_t kMaxQuoteBytes = 2u << 20;
inline constexpr size_t kSignatureBytes = 64;  // Ed25519

inline constexpr std::string_view kContextAdmin = "admin";
inline constexpr std::string_view kContextHostChannel = "host_channel";

struct Quote {
  std::string context;  // kContextAdmin or kContextHostChannel
  MeasurementLog log;
  std::string nonce;    // lower-case hex, kMinNonceBytes..kMaxNonceBytes bytes
  std::string boot_id;  // /proc/sys/kernel/random/boot_id
  uint64_t time = 0;    // Unix seconds

  // "dpuguard-quote-v1\ncontext X\nnonce N\nboot_id B\ntime T\ncomposite C\n" + log.canonical()
  std::string signedBytes() const;
};

struct SignedQuote {
  Quote quote;
  std::string signature;  // kSignatureBytes raw bytes
};

std::string quoteJson(const SignedQuote& q);

// Parses a quote's JSON; false with *why naming the first thing wrong (size, syntax, a field
// missing or malformed, a log whose composite or measurement id does not match it).
bool parseQuote(std::string_view json, SignedQuote* out, std::string* why);

// Why `hex` is no acceptable nonce (kMinNonceBytes..kMaxNonceBytes bytes of hex), or "".
std::string nonceProblem(std::string_view hex);

// This boot's id (/proc/sys/kernel/random/boot_id, read at the first call), "" when
// unreadable.
std::string bootId();

}  // namespace dpuguard::attest
