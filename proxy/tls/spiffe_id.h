// SPIFFE IDs (X.509-SVID): the workload identity an mTLS client certificate carries as its
// one URI subjectAltName, `spiffe://trust-domain/path`. Parsed strictly by the SPIFFE ID
// spec: lowercase scheme, a trust domain of [a-z0-9.-_], path segments of [a-zA-Z0-9.-_]
// that are neither empty nor "." or "..", no query, fragment, port or user info, at most
// 2048 bytes.
#pragma once

#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <vector>

namespace dpuguard::proxy::tls {

inline constexpr size_t kMaxSpiffeIdBytes = 2048;

// True if `uri` is a well-formed SPIFFE ID; its trust domain in *trust_domain.
bool parseSpiffeId(std::string_view uri, std::string_view* trust_domain);

enum class SpiffeCheck : uint8_t {
  kOk,
  kNone,           // no spiffe:// URI SAN
  kSeveral,        // more than one URI SAN (an SVID has exactly one)
  kMalformed,      // a spiffe:// URI that is not a valid SPIFFE ID
  kForeignDomain,  // a trust domain not in the allowed list
  kNotALeaf,       // X509-SVID §5.2: a CA (CA:TRUE, keyCertSign, cRLSign) or an ID with no path
};
std::string_view spiffeCheckName(SpiffeCheck c);

// The SPIFFE ID of the leaf certificate `cert` into *id, checked against `trust_domains`
// (empty: any) and against the leaf SVID rules (not a CA, a workload path).
SpiffeCheck spiffeIdOf(X509* cert, const std::vector<std::string>& trust_domains, std::string* id);

}  // namespace dpuguard::proxy::tls
