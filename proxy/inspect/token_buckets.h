// TokenBuckets: the mutable state behind rate limits and token budgets, shared by every
// worker and kept across config reloads (a reload must not hand everyone a fresh burst).
// Buckets are created full on first use, refill continuously, and may go into debt when a
// settlement takes more than was reserved. The caller passes the time: nothing here reads a
// clock. Keys are bounded by the config (rule x identity x route), so the map is too.
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
  // Takes `cost` from `key` if the bucket holds that much: returns 0. Otherwise takes
  // nothing and returns the milliseconds until it would hold `cost` (at least 1).
  int64_t take(std::string_view key, BucketShape shape, double cost, int64_t now_ms);
  // Takes whatever the bucket holds, up to `most`, if it holds at least `least`: returns the
  // amount taken (>= least), or 0 and sets `wait_ms` to the time until `least` is there.
  double takeUpTo(std::string_view key, BucketShape shape, double least, double most, int64_t now_ms, int64_t& wait_ms);
  // Gives `amount` back (a refund), or takes it when negative (a debt); never above capacity.
  void give(std::string_view key, BucketShape shape, double amount, int64_t now_ms);
  double level(std::string_view key, BucketShape shape, int64_t now_ms);

 private:
  struct Bucket {
    double tokens = 0;
    int64_t at_ms = 0;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Bucket& refill(std::string_view key, BucketShape shape, int64_t now_ms);  // mu_ held

  std::mutex mu_;
  std::unordered_map<std::string, Bucket, Hash, std::equal_to<>> buckets_;
};

}  // namespace dpuguard::proxy::inspect
