// TokenBuckets: continuous refill, computed on access.
#include "proxy/inspect/token_buckets.h"

#include <algorithm>
#include <cmath>

namespace dpuguard::proxy::inspect {

namespace {
int64_t waitFor(double missing, double per_ms) {
  if (per_ms <= 0) return INT64_MAX / 4;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(missing / per_ms)));
}
}  // namespace

TokenBuckets::Bucket& TokenBuckets::refill(std::string_view key, BucketShape shape, int64_t now_ms) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) it = buckets_.emplace(std::string(key), Bucket{shape.capacity, now_ms}).first;
  Bucket& b = it->second;
  if (now_ms > b.at_ms) {
    b.tokens = std::min(shape.capacity, b.tokens + static_cast<double>(now_ms - b.at_ms) * shape.per_ms);
    b.at_ms = now_ms;
  }
  b.tokens = std::min(b.tokens, shape.capacity);  // a reload may have shrunk the bucket
  return b;
}

int64_t TokenBuckets::take(std::string_view key, BucketShape shape, double cost, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Bucket& b = refill(key, shape, now_ms);
  if (b.tokens >= cost) {
    b.tokens -= cost;
    return 0;
  }
  return waitFor(cost - b.tokens, shape.per_ms);
}

double TokenBuckets::takeUpTo(std::string_view key, BucketShape shape, double least, double most, int64_t now_ms,
                              int64_t& wait_ms) {
  std::lock_guard lock(mu_);
  Bucket& b = refill(key, shape, now_ms);
  if (b.tokens < least) {
    wait_ms = waitFor(least - b.tokens, shape.per_ms);
    return 0;
  }
  const double taken = std::min(b.tokens, most);
  b.tokens -= taken;
  wait_ms = 0;
  return taken;
}

void TokenBuckets::give(std::string_view key, BucketShape shape, double amount, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Bucket& b = refill(key, shape, now_ms);
  b.tokens = std::min(shape.capacity, b.tokens + amount);
}

double TokenBuckets::level(std::string_view key, BucketShape shape, int64_t now_ms) {
  std::lock_guard lock(mu_);
  return refill(key, shape, now_ms).tokens;
}

}  // namespace dpuguard::proxy::inspect
