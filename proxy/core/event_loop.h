// EventLoop: one epoll instance, a timer heap and a wake-up eventfd; one per worker thread.
// Level-triggered: handlers say what they want (read/write) and the loop reports readiness.
// A handler with no fd of its own (a stream over the host channel) is told by post() instead.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "proxy/core/timer_heap.h"

namespace dpuguard::proxy {

class IoHandler {
 public:
  virtual ~IoHandler() = default;
  // `events` is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP).
  virtual void onIo(uint32_t events) = 0;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool add(int fd, uint32_t events, IoHandler* h);
  bool modify(int fd, uint32_t events, IoHandler* h);
  void remove(int fd);
  // Readiness without an fd: `h`->onIo(events) runs on the loop's next turn, never inside
  // post(); posting again before then adds events. cancel() drops what is posted for `h` (its
  // owner calls it before `h` goes away).
  void post(IoHandler* h, uint32_t events);
  void cancel(IoHandler* h);

  // Runs until stop(). `before_wait` runs once per iteration before blocking (flush logs,
  // pick up config, reap closed connections).
  void run(const std::function<void()>& before_wait);
  // One iteration of run(): before_wait, a wait of at most `max_timeout_ms` (-1: until an
  // event or the next timer; 0: poll), the ready handlers, the due timers. Returns how many
  // events it handled, or -1 once stopped or when epoll fails. For callers that drive the
  // loop themselves (fuzz/targets/http1_session: no thread, no sleep).
  int runOnce(const std::function<void()>& before_wait, int max_timeout_ms);
  void stop() { stopping_ = true; }
  // Thread-safe: interrupts epoll_wait.
  void wake();

  // Monotonic milliseconds, refreshed once per loop iteration.
  int64_t now() const { return now_ms_; }
  void refreshNow();
  TimerHeap& timers() { return timers_; }

 private:
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool stopping_ = false;
  int64_t now_ms_ = 0;
  TimerHeap timers_;
  std::vector<std::pair<IoHandler*, uint32_t>> posted_;
  std::vector<std::pair<IoHandler*, uint32_t>> dispatching_;  // posted_ of this turn
};

}  // namespace dpuguard::proxy
