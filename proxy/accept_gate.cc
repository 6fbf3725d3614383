// AcceptGate implementation.
#include "proxy/accept_gate.h"

#include <sys/epoll.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dpuguard::proxy {

AcceptGate::AcceptGate(EventLoop& loop, WorkerMetrics& metrics, std::vector<Listener> listeners,
                       std::string name)
    : loop_(loop), metrics_(metrics), listeners_(std::move(listeners)), name_(std::move(name)) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    const int limit = static_cast<int>(std::min<rlim_t>(rl.rlim_cur, 1 << 30));
    reserve_floor_ = limit - std::clamp(limit / 8, 16, 256);
  } else {
    reserve_floor_ = 1 << 30;
  }
}

AcceptGate::~AcceptGate() {
  loop_.timers().cancel(this);
  if (paused_) metrics_.accept_paused.fetch_sub(1, std::memory_order_relaxed);
}

bool AcceptGate::admit(size_t open) {
  if (max_connections_ == 0 || open < max_connections_) return true;
  if (!paused_) bump(metrics_.connections_limited);
  pause(Why::kFull);
  return false;
}

bool AcceptGate::failed(int err) {
  switch (err) {
    case EMFILE:
      note(AcceptError::kEmfile, err);
      break;
    case ENFILE:
      note(AcceptError::kEnfile, err);
      break;
    case ENOBUFS:
    case ENOMEM:
      note(AcceptError::kNoMemory, err);
      break;
    case EAGAIN:
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM:     // a firewall refused it
      return true;  // nothing to accept now, or one connection lost: the next event says
    default:
      note(AcceptError::kOther, err);
      return true;
  }
  pause(Why::kBackoff);
  return true;
}

bool AcceptGate::inReserve(int fd) {
  if (fd < reserve_floor_) return false;
  note(AcceptError::kFdReserve, EMFILE);
  pause(Why::kBackoff);
  return true;
}

void AcceptGate::closed(size_t open) {
  if (why_ == Why::kFull && (max_connections_ == 0 || open < max_connections_)) resume();
}

void AcceptGate::shut() {
  loop_.timers().cancel(this);
  if (paused_) metrics_.accept_paused.fetch_sub(1, std::memory_order_relaxed);
  paused_ = true;  // never resumed: the caller removes and closes the listeners
  why_ = Why::kNone;
  listeners_.clear();
}

void AcceptGate::onTimer() {
  if (why_ != Why::kBackoff) return;
  if (unlogged_ > 0 && loop_.now() - last_log_ms_ >= kLogIntervalMs) note(AcceptError::kOther, 0);
  resume();
}

void AcceptGate::pause(Why why) {
  if (why == Why::kBackoff) {
    why_ = Why::kBackoff;  // a backoff outlasts a full worker: the timer resumes it
    loop_.timers().schedule(this, loop_.now() + kBackoffMs);
  } else if (why_ != Why::kBackoff) {
    why_ = Why::kFull;
  }
  if (paused_) return;
  paused_ = true;
  metrics_.accept_paused.fetch_add(1, std::memory_order_relaxed);
  for (const Listener& l : listeners_) loop_.remove(l.fd);
}

void AcceptGate::resume() {
  if (!paused_ || listeners_.empty()) return;
  paused_ = false;
  why_ = Why::kNone;
  metrics_.accept_paused.fetch_sub(1, std::memory_order_relaxed);
  for (const Listener& l : listeners_) loop_.add(l.fd, EPOLLIN, l.handler);
}

// Counts one error (err 0: only flushes the pending log line) and logs at most once per
// kLogIntervalMs, saying how many there were since the last line.
void AcceptGate::note(AcceptError e, int err) {
  if (err != 0) {
    bump(metrics_.accept_errors[static_cast<size_t>(e)]);
    ++unlogged_;
    last_err_ = err;
    last_kind_ = e;
  }
  const int64_t now = loop_.now();
  if (unlogged_ == 0 || now - last_log_ms_ < kLogIntervalMs) return;
  const std::string since =
      last_log_ms_ < 0 ? "" : " in the last " + std::to_string(now - last_log_ms_) + " ms";
  // The reserve is reached before accept(2) itself fails: its counter is fd_reserve, not emfile.
  const char* why = last_kind_ == AcceptError::kFdReserve
                        ? "descriptors down to the reserve kept for upstreams and the admin port"
                        : std::strerror(last_err_);
  std::fprintf(stderr,
               "dpuguard: %s: accept failed %llu time(s)%s (%s): not accepting for %lld ms at a "
               "time, serving the connections already open\n",
               name_.c_str(), static_cast<unsigned long long>(unlogged_), since.c_str(), why,
               static_cast<long long>(kBackoffMs));
  unlogged_ = 0;
  last_log_ms_ = now;
}

}  // namespace dpuguard::proxy
