// PolicyEngine: identity x route x method x normalized path -> allow or deny, first matching
// rule wins, then the default. A rule with identity_from trusts only identities from those
// sources: when it matches a request whose identity came from another source (an address
// label where [mtls, api_key] is asked for), the rule denies it, whatever its action (tag
// "untrusted_identity", the rule named). Shadow rules never decide: the first matching
// shadow deny (or shadow identity_from refusal) tags the verdict "shadow_deny" (logged and
// counted) while the real rules decide. In
// enforce mode an allowed edge (identity -> route) missing from the baseline is blocked or
// only tagged "unknown_edge", as configured. Immutable per snapshot; no I/O.
#pragma once

#include <memory>
#include <string_view>

#include "proxy/config/inspect_config.h"
#include "proxy/inspect/edge_baseline.h"
#include "proxy/inspect/verdict.h"

namespace dpuguard::proxy::inspect {

struct PolicyInput {
  std::string_view identity;
  std::string_view route;
  std::string_view method;
  std::string_view path;                             // normalized
  IdentitySource source = IdentitySource::kAddress;  // where `identity` came from
};

class PolicyEngine {
 public:
  // `baseline` is required in enforce mode (the loader loads it), ignored otherwise.
  PolicyEngine(const PolicyConfig& config, std::shared_ptr<const EdgeBaseline> baseline);

  Verdict decide(const PolicyInput& in) const;
  PolicyMode mode() const { return config_.mode; }

 private:
  static bool matches(const PolicyRule& r, const PolicyInput& in);
  // identity_from: whether `r` accepts an identity from `source`.
  static bool trusts(const PolicyRule& r, IdentitySource source);

  const PolicyConfig& config_;  // owned by the snapshot's Config
  std::shared_ptr<const EdgeBaseline> baseline_;
};

}  // namespace dpuguard::proxy::inspect
