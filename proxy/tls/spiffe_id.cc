// SPIFFE ID parsing and the URI SAN of a certificate.
#include "proxy/tls/spiffe_id.h"

#include <openssl/x509v3.h>

#include <algorithm>

namespace dpuguard::proxy::tls {
namespace {

constexpr std::string_view kScheme = "spiffe://";

bool trustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool pathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

}  // namespace

bool parseSpiffeId(std::string_view uri, std::string_view* trust_domain) {
  if (uri.size() > kMaxSpiffeIdBytes || !uri.starts_with(kScheme)) return false;
  const std::string_view rest = uri.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string_view domain = rest.substr(0, slash);
  if (domain.empty() || !std::all_of(domain.begin(), domain.end(), trustDomainChar)) return false;
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);  // "/seg/seg"
    while (!path.empty()) {
      path.remove_prefix(1);
      const size_t next = path.find('/');
      const std::string_view seg = path.substr(0, next);
      if (seg.empty() || seg == "." || seg == ".." ||
          !std::all_of(seg.begin(), seg.end(), pathChar))
        return false;
      path = next == std::string_view::npos ? std::string_view() : path.substr(next);
    }
  }
  if (trust_domain != nullptr) *trust_domain = domain;
  return true;
}

std::string_view spiffeCheckName(SpiffeCheck c) {
  switch (c) {
    case SpiffeCheck::kOk:
      return "ok";
    case SpiffeCheck::kNone:
      return "no SPIFFE ID";
    case SpiffeCheck::kSeveral:
      return "more than one URI SAN";
    case SpiffeCheck::kMalformed:
      return "malformed SPIFFE ID";
    case SpiffeCheck::kForeignDomain:
      return "trust domain not allowed";
    case SpiffeCheck::kNotALeaf:
      return "not a leaf SVID";
  }
  return "?";
}

SpiffeCheck spiffeIdOf(X509* cert, const std::vector<std::string>& trust_domains, std::string* id) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return SpiffeCheck::kNone;
  int uris = 0;
  std::string_view found;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI) continue;
    ++uris;
    const ASN1_IA5STRING* s = n->d.uniformResourceIdentifier;
    found = std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                             static_cast<size_t>(ASN1_STRING_length(s)));
  }
  SpiffeCheck result = SpiffeCheck::kOk;
  std::string_view domain;
  if (uris == 0) {
    result = SpiffeCheck::kNone;
  } else if (uris > 1) {
    result = SpiffeCheck::kSeveral;
  } else if (!parseSpiffeId(found, &domain)) {
    result = found.starts_with(kScheme) ? SpiffeCheck::kMalformed : SpiffeCheck::kNone;
  } else if (found.size() == kScheme.size() + domain.size() || X509_check_ca(cert) != 0 ||
             (X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0 &&
                 (X509_get_key_usage(cert) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) != 0) {
    result = SpiffeCheck::kNotALeaf;  // a CA could mint any workload's identity
  } else if (!trust_domains.empty() &&
             std::find(trust_domains.begin(), trust_domains.end(), domain) == trust_domains.end()) {
    result = SpiffeCheck::kForeignDomain;
  } else {
    id->assign(found);
  }
  GENERAL_NAMES_free(names);
  return result;
}

}  // namespace dpuguard::proxy::tls
