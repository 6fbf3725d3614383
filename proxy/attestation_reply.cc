// attestationReply: query checks, then sign.
#include "proxy/attestation_reply.h"

#include <ctime>
#include <string>

#include "attest/quote.h"

namespace dpuguard::proxy {

AdminReply attestationReply(std::string_view query, const attest::MeasurementLog& log,
                            const attest::DeviceKey* key, std::string_view context) {
  if (key == nullptr)
    return {404, "attestation is not configured: this config has no attestation.key_file\n"};
  std::string nonce;
  bool seen = false;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.rfind("nonce=", 0) != 0)
      return {400, "/attestation takes one parameter, nonce=HEX; not '" +
                       std::string(param.substr(0, 64)) + "'\n"};
    if (seen) return {400, "/attestation: nonce given twice\n"};
    seen = true;
    nonce = std::string(param.substr(6));
  }
  if (const std::string why = attest::nonceProblem(nonce); !why.empty())
    return {400, "/attestation: " + why + "\n"};
  for (char& c : nonce) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  attest::SignedQuote q;
  q.quote.context = std::string(context);
  q.quote.log = log;
  q.quote.nonce = nonce;
  q.quote.boot_id = attest::bootId();
  q.quote.time = static_cast<uint64_t>(std::time(nullptr));
  q.signature = key->sign(q.quote.signedBytes());
  if (q.signature.empty() || q.quote.boot_id.empty())
    return {500, "/attestation: the quote could not be signed\n"};
  return {200, attest::quoteJson(q)};
}

}  // namespace dpuguard::proxy
