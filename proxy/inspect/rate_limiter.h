// RateLimiter: the `rate_limits` rules of a snapshot over the shared TokenBuckets. Every
// rule that matches a request's identity and route takes one token from its bucket (one per
// identity, or per identity and route); the first empty one refuses with 429 and the time
// until it refills (Retry-After). Rules are checked before any take, so a refused request
// costs no other bucket a token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/config/inference_config.h"
#include "proxy/inspect/token_buckets.h"
#include "proxy/inspect/verdict.h"

namespace dpuguard::proxy::inspect {

class RateLimiter {
 public:
  explicit RateLimiter(const std::vector<RateLimitRule>& rules) : rules_(rules) {}

  bool active() const { return !rules_.empty(); }
  // kContinue (untouched `head` verdict) or a 429 block naming the rule.
  Verdict admit(std::string_view identity, std::string_view route, int64_t now_ms, TokenBuckets& buckets,
                const Verdict& head) const;

 private:
  const std::vector<RateLimitRule>& rules_;  // owned by the snapshot's Config
};

}  // namespace dpuguard::proxy::inspect
