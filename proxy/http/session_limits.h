// The client session's fixed sizes and deadlines, and its two clocks, in one place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>

namespace dpuguard::proxy {

// Body bytes in flight per direction and connection (the backpressure window).
inline constexpr size_t kBodyWindow = 64 * 1024;
// Room a response head needs in the client buffer before we parse one.
inline constexpr size_t kHeadSlack = 1024;
// After a reply that ends the connection, the client's unread request bytes are read and
// dropped before closing (the lingering close) for limits.lingering_time_ms and
// lingering_bytes, or until nothing has arrived for this long (nginx's lingering_timeout).
inline constexpr int64_t kLingerIdleMs = 1000;

// Monotonic microseconds, for latencies.
inline int64_t nowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Wall-clock milliseconds for first/last-seen times operators read (coarse: a vDSO read).
inline int64_t unixMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace dpuguard::proxy
