// LoadBalancer implementation.
#include "proxy/router/load_balancer.h"

namespace dpuguard::proxy {

bool LoadBalancer::ejected(size_t i, int64_t now_ms) {
  EndpointHealth& h = *endpoints_[i];
  const int64_t until = h.ejected_until_ms.load(std::memory_order_relaxed);
  if (until == 0) return false;
  if (now_ms < until) return true;
  // Ejection over: give it a fresh chance; one more failure ejects it again.
  h.ejected_until_ms.store(0, std::memory_order_relaxed);
  h.consecutive_failures = eject_after_ > 0 ? eject_after_ - 1 : 0;
  return false;
}

int LoadBalancer::choose(int64_t now_ms, int exclude, bool ignore_checks) {
  const size_t n = endpoints_.size();
  int best = -1;
  int fallback = -1;  // `exclude`, if it is the only usable one
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (cursor_ + k) % n;
    if (ejected(i, now_ms) ||
        (!ignore_checks && (failingChecks(i) || now_ms < endpoints_[i]->retry_after_until_ms)))
      continue;
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
  return best >= 0 ? best : fallback;
}

int LoadBalancer::pick(int64_t now_ms, int exclude) {
  int best = choose(now_ms, exclude, false);
  if (best < 0) {
    best = choose(now_ms, exclude, true);  // panic: no endpoint passes its checks
    if (best >= 0 && panics_ != nullptr) bump(*panics_);
  }
  if (best >= 0) cursor_ = static_cast<size_t>(best) + 1;
  return best;
}

size_t LoadBalancer::available(int64_t now_ms) {
  size_t n = 0;
  for (size_t i = 0; i < endpoints_.size(); ++i) n += !ejected(i, now_ms) && !failingChecks(i);
  return n;
}

bool LoadBalancer::resting(int64_t now_ms) {
  bool any = false;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (ejected(i, now_ms) || failingChecks(i)) continue;
    if (now_ms >= endpoints_[i]->retry_after_until_ms) return false;
    any = true;
  }
  return any;
}

void LoadBalancer::onSuccess(size_t i, int64_t now_ms) {
  endpoints_[i]->consecutive_failures = 0;
  if (now_ms >= 0) endpoints_[i]->last_success_ms = now_ms;
}

void LoadBalancer::onFailure(size_t i, int64_t now_ms) {
  EndpointHealth& h = *endpoints_[i];
  ++h.consecutive_failures;
  if (eject_after_ == 0 || h.consecutive_failures < eject_after_ || ejected(i, now_ms)) return;
  const size_t n = endpoints_.size();
  size_t out = 0;
  for (size_t k = 0; k < n; ++k) out += ejected(k, now_ms);
  // The share of the cluster that may be out at once; never the last one below 100%.
  const size_t allowed =
      max_ejection_percent_ >= 100 ? n : std::min(n - 1, n * max_ejection_percent_ / 100);
  if (out + 1 > allowed) {
    if (refused_ != nullptr) bump(*refused_);
    return;
  }
  h.ejected_until_ms.store(now_ms + eject_ms_, std::memory_order_relaxed);
  h.ejections.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace dpuguard::proxy
