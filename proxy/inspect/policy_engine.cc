#include "proxy/inspect/policy_engine.h"

#include "proxy/inspect/name_list.h"

namespace dpuguard::proxy::inspect {

PolicyEngine::PolicyEngine(const PolicyConfig& config, std::shared_ptr<const EdgeBaseline> baseline)
    : config_(config), baseline_(std::move(baseline)) {}

bool PolicyEngine::matches(const PolicyRule& r, const PolicyInput& in) {
  return anyOrContains(r.identities, in.identity) && anyOrContains(r.routes, in.route) &&
         anyOrContains(r.methods, in.method) &&
         (r.path_prefix.empty() || in.path.substr(0, r.path_prefix.size()) == r.path_prefix);
}

bool PolicyEngine::trusts(const PolicyRule& r, IdentitySource source) {
  return r.identity_from == 0 || (r.identity_from & sourceBit(source)) != 0;
}

Verdict PolicyEngine::decide(const PolicyInput& in) const {
  if (config_.mode == PolicyMode::kOff) return Verdict::allow({}, {});
  const PolicyRule* decided = nullptr;
  const PolicyRule* shadow = nullptr;
  for (const PolicyRule& r : config_.rules) {
    if (!matches(r, in)) continue;
    if (r.shadow) {
      if (shadow == nullptr && (r.action == RuleAction::kDeny || !trusts(r, in.source)))
        shadow = &r;
      continue;
    }
    decided = &r;
    break;
  }
  const RuleAction action = decided != nullptr ? decided->action : config_.default_action;
  const std::string_view rule =
      decided != nullptr ? std::string_view(decided->id) : std::string_view("default");
  if (decided != nullptr && !trusts(*decided, in.source)) {
    return Verdict::block(
        403, rule, "untrusted_identity",
        "denied by policy: the client's identity does not come from a source this rule accepts");
  }
  if (action == RuleAction::kDeny) {
    return Verdict::block(403, rule, "deny", "denied by policy");
  }
  if (config_.mode == PolicyMode::kEnforce && baseline_ &&
      !baseline_->contains(in.identity, in.route)) {
    if (config_.unknown_edge_block)
      return Verdict::block(403, "baseline", "unknown_edge", "edge not in the policy baseline");
    return Verdict::allow("baseline", "unknown_edge");
  }
  if (shadow != nullptr) return Verdict::allow(shadow->id, "shadow_deny");
  return Verdict::allow(rule, "allow");
}

}  // namespace dpuguard::proxy::inspect
