// StallWatchdog: notices a peer that stopped making progress (SHM_DESIGN.md "Liveness").
// It is fed the peer's heartbeat word and the current time by its caller (no clock inside), and
// says "stalled" once the word has not changed for a whole period. Wake-ups are only hints, so
// this is what turns a hung host into a fast 503 instead of a hung client.
#pragma once

#include <cstdint>

namespace dpuguard::shm {

class StallWatchdog {
 public:
  explicit StallWatchdog(uint64_t period_ms) : period_ms_(period_ms) {}

  // True when `progress` has not changed since a time at least period_ms before `now_ms`.
  bool stalled(uint64_t progress, uint64_t now_ms) {
    if (!started_ || progress != last_progress_) {
      started_ = true;
      last_progress_ = progress;
      last_change_ms_ = now_ms;
      return false;
    }
    return now_ms - last_change_ms_ >= period_ms_;
  }
  void reset() { started_ = false; }

 private:
  uint64_t period_ms_;
  uint64_t last_progress_ = 0;
  uint64_t last_change_ms_ = 0;
  bool started_ = false;
};

}  // namespace dpuguard::shm
