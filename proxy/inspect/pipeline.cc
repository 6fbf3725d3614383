#include "proxy/inspect/pipeline.h"

#include <algorithm>

namespace dpuguard::proxy::inspect {

Pipeline::Pipeline(const Config& config)
    : identities_(config.inspect.identities, config.inspect.unknown_identity),
      policy_(config.inspect.policy, config.inspect.policy.baseline),
      signatures_(config.inspect.signatures.set),
      rates_(config.inspect.rate_limits),
      inference_(config.inspect.inference),
      api_keys_(config.inspect.api_keys.table),
      key_modes_(keyModes(config)),
      active_(!config.inspect.identities.empty() || !config.host_channel.labels.from.empty() ||
              config.inspect.policy.mode != PolicyMode::kOff || signatures_ != nullptr ||
              rates_.active() || inference_.active() || api_keys_ != nullptr ||
              mtlsListener(config) ||
              std::any_of(key_modes_.begin(), key_modes_.end(),
                          [](ApiKeyMode m) { return m != ApiKeyMode::kOff; })) {}

std::vector<ApiKeyMode> Pipeline::keyModes(const Config& config) {
  std::vector<ApiKeyMode> modes;
  for (const RouteConfig& r : config.routes) modes.push_back(r.api_key);
  return modes;
}

bool Pipeline::mtlsListener(const Config& config) {
  // An mTLS identity is worth logging and graphing even with no policy.
  for (const ListenerConfig& l : config.listeners) {
    if (l.tls.enabled && l.tls.client_auth.mode != ClientAuthMode::kNone) return true;
  }
  return false;
}

std::string_view Pipeline::identityOf(const IpAddress& client, const IdentityMap* host,
                                      IdentitySource* source) const {
  if (source != nullptr) *source = IdentitySource::kAddress;
  if (host != nullptr) {
    const IdentityLabel* h = host->match(client);
    const IdentityLabel* c = h != nullptr ? identities_.match(client) : nullptr;
    if (h != nullptr && (c == nullptr || h->prefix.bits >= c->prefix.bits)) {
      if (source != nullptr) *source = IdentitySource::kHostLabel;
      return h->identity;
    }
  }
  return identities_.lookup(client);
}

Identity Pipeline::identify(std::string_view peer, std::string_view api_key,
                            const IpAddress& client, const IdentityMap* host) const {
  if (!peer.empty()) return {peer, IdentitySource::kMtls};
  if (!api_key.empty()) return {api_key, IdentitySource::kApiKey};
  Identity id;
  id.name = identityOf(client, host, &id.source);
  return id;
}

ApiKeyResult Pipeline::checkApiKey(std::string_view authorization, size_t count) const {
  static const ApiKeyTable kNoKeys;  // no key file: every key is unknown
  return (api_keys_ != nullptr ? *api_keys_ : kNoKeys).check(authorization, count);
}

Verdict Pipeline::refuseApiKey(ApiKeyStatus status) {
  // OpenAI's shape and code for every case (clients handle invalid_api_key); the tag tells
  // them apart in the flow log and the verdict counts. The key itself is never quoted.
  std::string_view tag = "api_key_unknown";
  std::string_view message = "Incorrect API key provided.";
  if (status == ApiKeyStatus::kMissing) {
    tag = "api_key_missing";
    message =
        "You didn't provide an API key. Provide it in the Authorization header as "
        "'Authorization: Bearer YOUR_KEY'.";
  } else if (status == ApiKeyStatus::kMalformed) {
    tag = "api_key_malformed";
    message = "The Authorization header must be exactly one 'Bearer YOUR_KEY'.";
  }
  Verdict v =
      Verdict::refuse(401, "api_key", "invalid_api_key", "invalid_request_error", {}, message);
  v.tag = tag;
  return v;
}

Verdict Pipeline::onRequestHead(const RequestHeadFacts& f, SignatureScratch& scratch,
                                Matches& m) const {
  const Verdict policy = policy_.decide(f.who);
  if (policy.blocked() || signatures_ == nullptr) return policy;
  hs_scratch* s = scratch.forSet(*signatures_);
  signatures_->scan(Where::kPath, f.who.path, s, m);
  signatures_->scan(Where::kQuery, f.query, s, m);
  signatures_->scan(Where::kQuery, f.decoded_query, s, m);
  signatures_->scan(Where::kHeader, f.headers, s, m);
  return signatureVerdict(m, policy);
}

void Pipeline::startBody(BodyScan& scan, SignatureScratch& scratch) const {
  scan.start(signatures_.get(), signatures_ ? scratch.forSet(*signatures_) : nullptr);
}

void Pipeline::scanPrompt(std::string_view strings, SignatureScratch& scratch, Matches& m) const {
  if (signatures_ != nullptr)
    signatures_->scan(Where::kPrompt, strings, scratch.forSet(*signatures_), m);
}

Verdict Pipeline::signatureVerdict(const Matches& m, const Verdict& head) const {
  if (m.block >= 0) {
    return Verdict::block(403, signatures_->signatures()[static_cast<size_t>(m.block)].id,
                          "dpi_block", "blocked by a content signature");
  }
  if (m.count > 0 && !head.blocked()) {
    return Verdict::allow(head.rule.empty() ? signatures_->signatures()[m.ids[0]].id : head.rule,
                          "dpi_alert");
  }
  return head;
}

}  // namespace dpuguard::proxy::inspect
