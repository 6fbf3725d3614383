#include "proxy/inspect/pipeline.h"

namespace dpuguard::proxy::inspect {

Pipeline::Pipeline(const Config& config)
    : identities_(config.inspect.identities, config.inspect.unknown_identity),
      policy_(config.inspect.policy, config.inspect.policy.baseline),
      active_(!config.inspect.identities.empty() || config.inspect.policy.mode != PolicyMode::kOff) {}

Verdict Pipeline::onRequestHead(const RequestHeadFacts& f) const {
  return policy_.decide(PolicyInput{f.identity, f.route, f.method, f.path});
}

}  // namespace dpuguard::proxy::inspect
