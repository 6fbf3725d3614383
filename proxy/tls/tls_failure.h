// Why a TLS handshake (or an established TLS connection) failed: the `reason` label of
// dpuguard_tls_handshake_failures_total. No OpenSSL here, so telemetry can name them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dpuguard::proxy::tls {

enum class Failure : uint8_t {
  kNone,
  kNotTls,          // the first bytes were not a TLS record (plain HTTP, garbage)
  kProtocol,        // a malformed or unacceptable handshake (version, cipher, size)
  kAlpn,            // no protocol we speak was offered (h2 only)
  kNoCertificate,   // client_auth require: the client sent none
  kBadCertificate,  // the peer's certificate failed verification (expired, unknown CA)
  kIdentity,        // the certificate's SPIFFE ID is missing, doubled, malformed or foreign
  kRenegotiation,   // the peer tried to renegotiate
  kTimeout,         // handshake_timeout_ms passed
  kPeerClosed,      // the peer closed or reset during the handshake
  kOverload,        // max_pending_handshakes were in progress: closed at once
  kInternal,        // anything else OpenSSL reported
};
inline constexpr size_t kFailureCount = static_cast<size_t>(Failure::kInternal) + 1;

constexpr std::string_view failureName(Failure f) {
  constexpr std::string_view kNames[kFailureCount] = {
      "none",     "not_tls",       "protocol", "alpn",        "no_certificate", "bad_certificate",
      "identity", "renegotiation", "timeout",  "peer_closed", "overload",       "internal"};
  static_assert(kNames[kFailureCount - 1] == "internal", "a name for every Failure");
  return kNames[static_cast<size_t>(f)];
}

}  // namespace dpuguard::proxy::tls
