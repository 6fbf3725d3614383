#include "proxy/inspect/pipeline.h"

namespace dpuguard::proxy::inspect {

Pipeline::Pipeline(const Config& config)
    : identities_(config.inspect.identities, config.inspect.unknown_identity),
      policy_(config.inspect.policy, config.inspect.policy.baseline),
      signatures_(config.inspect.signatures.set),
      rates_(config.inspect.rate_limits),
      inference_(config.inspect.inference),
      active_(!config.inspect.identities.empty() || !config.host_channel.labels.from.empty() ||
              config.inspect.policy.mode != PolicyMode::kOff || signatures_ != nullptr ||
              rates_.active() || inference_.active()) {}

std::string_view Pipeline::identityOf(const IpAddress& client, const IdentityMap* host) const {
  if (host != nullptr) {
    const IdentityLabel* h = host->match(client);
    const IdentityLabel* c = h != nullptr ? identities_.match(client) : nullptr;
    if (h != nullptr && (c == nullptr || h->prefix.bits >= c->prefix.bits)) return h->identity;
  }
  return identities_.lookup(client);
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
