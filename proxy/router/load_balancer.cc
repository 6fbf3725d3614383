// LoadBalancer implementation.
#include "proxy/router/load_balancer.h"

namespace dpuguard::proxy {

bool LoadBalancer::healthy(size_t i, int64_t now_ms) {
  EndpointHealth& h = *endpoints_[i];
  if (h.ejected_until_ms == 0) return true;
  if (now_ms < h.ejected_until_ms) return false;
  // Ejection over: give it a fresh chance; one more failure ejects it again.
  h.ejected_until_ms = 0;
  h.consecutive_failures = eject_after_ > 0 ? eject_after_ - 1 : 0;
  return true;
}

int LoadBalancer::pick(int64_t now_ms, int exclude) {
  const size_t n = endpoints_.size();
  int best = -1;
  int fallback = -1;  // `exclude`, if it is the only healthy one
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (cursor_ + k) % n;
    if (!healthy(i, now_ms)) continue;
    if (static_cast<int>(i) == exclude) {
      fallback = static_cast<int>(i);
      continue;
    }
    if (best < 0) {
      best = static_cast<int>(i);
      if (policy_ == LbPolicy::kRoundRobin) break;
    } else if (endpoints_[i]->active < endpoints_[static_cast<size_t>(best)]->active) {
      best = static_cast<int>(i);
    }
  }
  if (best < 0) best = fallback;
  if (best >= 0) cursor_ = static_cast<size_t>(best) + 1;
  return best;
}

void LoadBalancer::onSuccess(size_t i) { endpoints_[i]->consecutive_failures = 0; }

void LoadBalancer::onFailure(size_t i, int64_t now_ms) {
  EndpointHealth& h = *endpoints_[i];
  ++h.consecutive_failures;
  if (eject_after_ > 0 && h.consecutive_failures >= eject_after_ && h.ejected_until_ms == 0) {
    h.ejected_until_ms = now_ms + eject_ms_;
    ++h.ejections;
  }
}

}  // namespace dpuguard::proxy
