// EventLoop implementation over epoll(7) and eventfd(2).
#include "proxy/core/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <stdexcept>

namespace dpuguard::proxy {
namespace {
// A distinct non-null tag for the wake-up eventfd.
IoHandler* const kWakeTag = reinterpret_cast<IoHandler*>(1);
}  // namespace

EventLoop::EventLoop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) throw std::runtime_error("epoll_create1/eventfd failed");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = kWakeTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  refreshNow();
}

EventLoop::~EventLoop() {
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

bool EventLoop::add(int fd, uint32_t events, IoHandler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::modify(int fd, uint32_t events, IoHandler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::post(IoHandler* h, uint32_t events) {
  for (auto& [handler, ev] : posted_) {
    if (handler == h) {
      ev |= events;
      return;
    }
  }
  posted_.emplace_back(h, events);
}

void EventLoop::cancel(IoHandler* h) {
  for (auto* list : {&posted_, &dispatching_}) {
    for (auto& entry : *list) {
      if (entry.first == h) entry.first = nullptr;
    }
  }
}

void EventLoop::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void EventLoop::refreshNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now_ms_ = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void EventLoop::run(const std::function<void()>& before_wait) {
  while (!stopping_ && runOnce(before_wait, -1) >= 0) {
  }
}

int EventLoop::runOnce(const std::function<void()>& before_wait, int max_timeout_ms) {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  before_wait();
  if (stopping_) return -1;
  int timeout = max_timeout_ms;
  const int64_t next = timers_.next();
  if (next >= 0) {
    refreshNow();
    const int until_next =
        next <= now_ms_ ? 0 : static_cast<int>(std::min<int64_t>(next - now_ms_, 1000));
    timeout = timeout < 0 ? until_next : std::min(timeout, until_next);
  }
  if (!posted_.empty()) timeout = 0;
  const int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
  if (n < 0 && errno != EINTR) return -1;
  refreshNow();
  for (int i = 0; i < n; ++i) {
    if (events[i].data.ptr == kWakeTag) {
      uint64_t v;
      [[maybe_unused]] ssize_t r = read(wake_fd_, &v, sizeof v);
      continue;
    }
    static_cast<IoHandler*>(events[i].data.ptr)->onIo(events[i].events);
  }
  dispatching_.swap(posted_);
  for (size_t i = 0; i < dispatching_.size(); ++i) {  // (onIo may post for the next turn)
    if (dispatching_[i].first != nullptr) dispatching_[i].first->onIo(dispatching_[i].second);
  }
  dispatching_.clear();
  timers_.runDue(now_ms_);
  return n < 0 ? 0 : n;
}

}  // namespace dpuguard::proxy
