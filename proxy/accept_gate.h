// AcceptGate: when a worker may accept(2). It stops polling the worker's listeners (removes
// them from epoll: level-triggered, a listener with a pending connection would fire at once
// again) when
//   - the process is out of file descriptors (EMFILE, ENFILE, ENOBUFS/ENOMEM): for kBackoffMs,
//     then it tries again; the connections already open go on being served;
//   - an accepted descriptor falls in the reserve kept for upstream connections, the admin
//     port and the flow log (the last max(16, min(256, limit/8)) below RLIMIT_NOFILE): that
//     connection is closed at once and the accepts pause the same way;
//   - the worker holds `max_connections` client connections: until one closes.
// Errors are counted (dpuguard_accept_errors_total{reason}) and logged at most once per
// kLogIntervalMs with how many there were, so a flood cannot flood the log.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/core/event_loop.h"
#include "proxy/telemetry/metrics.h"

namespace dpuguard::proxy {

class AcceptGate final : public Timer {
 public:
  static constexpr int64_t kBackoffMs = 250;
  static constexpr int64_t kLogIntervalMs = 1000;

  struct Listener {
    int fd;
    IoHandler* handler;
  };

  // `listeners` are registered for EPOLLIN by the caller; `name` prefixes log lines.
  AcceptGate(EventLoop& loop, WorkerMetrics& metrics, std::vector<Listener> listeners,
             std::string name);
  ~AcceptGate() override;

  void setMaxConnections(uint32_t n) { max_connections_ = n; }
  // Before accept(2), with the connections open now: false at max_connections (paused).
  bool admit(size_t open);
  // accept(2) failed with `err`: EAGAIN/EINTR/ECONNABORTED and the like are nothing;
  // descriptor and memory exhaustion pause. Returns whether the accept loop should stop.
  bool failed(int err);
  // An accepted descriptor `fd`: true if it is in the reserve (the caller closes it; the
  // gate has counted it and paused).
  bool inReserve(int fd);
  // A client connection closed; `open` are left: accepting resumes below max_connections.
  void closed(size_t open);
  // The listeners are gone (drain): never poll them again.
  void shut();
  bool paused() const { return paused_; }
  int reserveFloor() const { return reserve_floor_; }

  void onTimer() override;

 private:
  enum class Why : uint8_t { kNone, kBackoff, kFull };
  void pause(Why why);
  void resume();
  void note(AcceptError e, int err);

  EventLoop& loop_;
  WorkerMetrics& metrics_;
  std::vector<Listener> listeners_;
  std::string name_;
  uint32_t max_connections_ = 0;  // 0 = no limit
  int reserve_floor_ = 0;         // accepted fds at or above this are in the reserve
  bool paused_ = false;
  Why why_ = Why::kNone;
  uint64_t unlogged_ = 0;  // errors since the last log line
  int64_t last_log_ms_ = -kLogIntervalMs;
  int last_err_ = 0;
  AcceptError last_kind_ = AcceptError::kOther;
};

}  // namespace dpuguard::proxy
