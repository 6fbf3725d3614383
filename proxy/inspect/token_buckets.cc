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

TokenBuckets::Bucket* TokenBuckets::refill(std::string_view key, BucketShape shape, int64_t now_ms) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_buckets_ && !makeRoom(now_ms)) {
      ++refused_full_;
      return nullptr;
    }
    it = buckets_.emplace(std::string(key), Bucket{shape.capacity, now_ms, shape}).first;
  }
  Bucket& b = it->second;
  if (now_ms > b.at_ms) {
    b.tokens = std::min(shape.capacity, b.tokens + static_cast<double>(now_ms - b.at_ms) * shape.per_ms);
    b.at_ms = now_ms;
  }
  b.tokens = std::min(b.tokens, shape.capacity);  // a reload may have shrunk the bucket
  b.shape = shape;
  return &b;
}

bool TokenBuckets::makeRoom(int64_t now_ms) {
  if (now_ms < next_sweep_ms_) return false;
  std::erase_if(buckets_, [now_ms](const auto& kv) {
    const Bucket& b = kv.second;
    const double elapsed = static_cast<double>(std::max<int64_t>(0, now_ms - b.at_ms));
    return b.tokens + elapsed * b.shape.per_ms >= b.shape.capacity;  // at rest: as a new one
  });
  if (buckets_.size() < max_buckets_) return true;
  next_sweep_ms_ = now_ms + kFullRetryMs;  // every bucket is in use: a sweep per second at most
  return false;
}

int64_t TokenBuckets::take(std::string_view key, BucketShape shape, double cost, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Bucket* b = refill(key, shape, now_ms);
  if (b == nullptr) return kFullRetryMs;
  if (b->tokens >= cost) {
    b->tokens -= cost;
    return 0;
  }
  return waitFor(cost - b->tokens, shape.per_ms);
}

double TokenBuckets::takeUpTo(std::string_view key, BucketShape shape, double least, double most, int64_t now_ms,
                              int64_t& wait_ms) {
  std::lock_guard lock(mu_);
  Bucket* b = refill(key, shape, now_ms);
  if (b == nullptr) {
    wait_ms = kFullRetryMs;
    return 0;
  }
  if (b->tokens < least) {
    wait_ms = waitFor(least - b->tokens, shape.per_ms);
    return 0;
  }
  const double taken = std::min(b->tokens, most);
  b->tokens -= taken;
  wait_ms = 0;
  return taken;
}

void TokenBuckets::give(std::string_view key, BucketShape shape, double amount, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (Bucket* b = refill(key, shape, now_ms)) b->tokens = std::min(shape.capacity, b->tokens + amount);
}

double TokenBuckets::level(std::string_view key, BucketShape shape, int64_t now_ms) {
  std::lock_guard lock(mu_);
  const Bucket* b = refill(key, shape, now_ms);
  return b != nullptr ? b->tokens : shape.capacity;
}

size_t TokenBuckets::size() {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

uint64_t TokenBuckets::refusedFull() {
  std::lock_guard lock(mu_);
  return refused_full_;
}

}  // namespace dpuguard::proxy::inspect
