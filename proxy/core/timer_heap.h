// TimerHeap: a binary min-heap of intrusive Timer entries (deadline in ms on the loop's
// monotonic clock). O(log n) schedule/cancel, no allocation once the vector has grown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dpuguard::proxy {

class Timer {
 public:
  virtual ~Timer() = default;
  virtual void onTimer() = 0;

  bool scheduled() const { return index_ != kNotScheduled; }
  int64_t deadline() const { return deadline_; }

 private:
  friend class TimerHeap;
  static constexpr size_t kNotScheduled = static_cast<size_t>(-1);
  int64_t deadline_ = 0;
  size_t index_ = kNotScheduled;
};

class TimerHeap {
 public:
  // Schedules (or moves) `t` to fire at `deadline_ms`.
  void schedule(Timer* t, int64_t deadline_ms);
  void cancel(Timer* t);
  // Earliest deadline, or -1 if empty.
  int64_t next() const { return heap_.empty() ? -1 : heap_.front()->deadline_; }
  // Fires every timer due at `now_ms` (each is unscheduled before its callback runs).
  void runDue(int64_t now_ms);
  size_t size() const { return heap_.size(); }

 private:
  void siftUp(size_t i);
  void siftDown(size_t i);
  void place(size_t i, Timer* t) {
    heap_[i] = t;
    t->index_ = i;
  }
  std::vector<Timer*> heap_;
};

}  // namespace dpuguard::proxy
