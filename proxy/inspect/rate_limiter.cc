// RateLimiter: one token per matching rule.
#include "proxy/inspect/rate_limiter.h"

#include "proxy/inspect/name_list.h"

namespace dpuguard::proxy::inspect {
namespace {

BucketShape shapeOf(const RateLimitRule& r) {
  return {r.rate.perMs(), static_cast<double>(r.burst != 0 ? r.burst : r.rate.amount)};
}

// "rate\x1fRULE\x1fIDENTITY[\x1fROUTE]" in the caller's (reused) string.
std::string_view keyFor(const RateLimitRule& r, std::string_view identity, std::string_view route, std::string& key) {
  key.assign("rate\x1f").append(r.id).append("\x1f").append(identity);
  if (r.per_route) key.append("\x1f").append(route);
  return key;
}

}  // namespace

Verdict RateLimiter::admit(std::string_view identity, std::string_view route, int64_t now_ms, TokenBuckets& buckets,
                           const Verdict& head) const {
  thread_local std::string key;
  // First pass: would every matching bucket give a token? Second: take them.
  for (const RateLimitRule& r : rules_) {
    if (!anyOrContains(r.identities, identity) || !anyOrContains(r.routes, route)) continue;
    if (buckets.level(keyFor(r, identity, route, key), shapeOf(r), now_ms) >= 1.0) continue;
    const int64_t wait_ms = buckets.take(key, shapeOf(r), 1.0, now_ms);
    Verdict v = Verdict::refuse(429, r.id, "rate_limit_exceeded", "rate_limit_error", {},
                                "too many requests for this identity; retry after the time in Retry-After");
    v.tag = "rate_limited";
    v.retry_after_s = static_cast<uint32_t>((wait_ms + 999) / 1000);
    return v;
  }
  for (const RateLimitRule& r : rules_) {
    if (!anyOrContains(r.identities, identity) || !anyOrContains(r.routes, route)) continue;
    buckets.take(keyFor(r, identity, route, key), shapeOf(r), 1.0, now_ms);
  }
  return head;
}

}  // namespace dpuguard::proxy::inspect
