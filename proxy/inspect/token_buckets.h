// TokenBuckets: the mutable state behind rate limits and token budgets, shared by every
// worker and kept across config reloads (a reload must not hand everyone a fresh burst).
// Buckets are created full on first use, refill continuously, and may go into debt when a
// settlement takes more than was reserved. The caller passes the time: nothing here reads a
// clock. Keys are rule x identity x route, and identities may come from the host at runtime,
// so the map is capped (max_buckets): when it is full, buckets at rest (refilled to their
// burst, which is what a new bucket holds) are dropped, losing nothing; if every bucket is
// in use, a new key is refused (fail closed: a flood of fresh identities waits) and the next
// sweep is a second later.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dpuguard::proxy::inspect {

struct BucketShape {
  double per_ms = 0;    // refill
  double capacity = 0;  // burst
};

class TokenBuckets {
 public:
  static constexpr size_t kDefaultMaxBuckets = 1 << 16;
  static constexpr int64_t kFullRetryMs = 1000;  // the wait a refused new key is told
  explicit TokenBuckets(size_t max_buckets = kDefaultMaxBuckets) : max_buckets_(max_buckets) {}

  // Takes `cost` from `key` if the bucket holds that much: returns 0. Otherwise takes
  // nothing and returns the milliseconds until it would hold `cost` (at least 1).
  int64_t take(std::string_view key, BucketShape shape, double cost, int64_t now_ms);
  // Takes whatever the bucket holds, up to `most`, if it holds at least `least`: returns the
  // amount taken (>= least), or 0 and sets `wait_ms` to the time until `least` is there.
  double takeUpTo(std::string_view key, BucketShape shape, double least, double most, int64_t now_ms, int64_t& wait_ms);
  // Gives `amount` back (a refund), or takes it when negative (a debt); never above capacity.
  // With the map full of live buckets, a bucket dropped at rest takes no debt (rare: it was
  // idle for a whole refill).
  void give(std::string_view key, BucketShape shape, double amount, int64_t now_ms);
  double level(std::string_view key, BucketShape shape, int64_t now_ms);
  size_t size();
  uint64_t refusedFull();  // new keys refused because every bucket was in use

 private:
  struct Bucket {
    double tokens = 0;
    int64_t at_ms = 0;
    BucketShape shape;  // as last used: whether the bucket is at rest
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // The refilled bucket for `key`, created full; null if the map is full of live buckets.
  Bucket* refill(std::string_view key, BucketShape shape, int64_t now_ms);  // mu_ held
  bool makeRoom(int64_t now_ms);                                           // mu_ held

  const size_t max_buckets_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket, Hash, std::equal_to<>> buckets_;
  int64_t next_sweep_ms_ = 0;
  uint64_t refused_full_ = 0;
};

}  // namespace dpuguard::proxy::inspect
