// UpstreamConnection implementation.
#include "proxy/http/upstream_connection.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "proxy/core/socket_ops.h"
#include "proxy/http/session_services.h"

namespace dpuguard::proxy {

UpstreamConnection::UpstreamConnection(SessionServices& worker, UpstreamHost& host,
                                       size_t buffer_bytes, const http1::Limits& limits)
    : in(buffer_bytes, http1::MessageParser::Kind::kResponse, limits),
      out(buffer_bytes),
      worker_(worker),
      host_(host) {}

UpstreamConnection::~UpstreamConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool UpstreamConnection::connect(int* err) {
  bool in_progress = false;
  const Endpoint& endpoint = host_.endpoint;
  switch (endpoint.kind) {
    case Endpoint::Kind::kHost:
      // A host-resident backend: our end of a stream over the shm channel (never "connecting").
      fd_ = worker_.hostLink(endpoint.backend)
                .openStream(worker_.runtime()->config->limits.parserLimits(), err);
      break;
    case Endpoint::Kind::kTcp:
      fd_ = connectSocket(endpoint.address, &in_progress, err);
      break;
  }
  if (fd_ < 0) return false;
  connecting_ = in_progress;
  interest_ = EPOLLOUT | EPOLLRDHUP;
  worker_.loop().add(fd_, interest_, this);
  bump(worker_.metrics().upstream_connections_opened);
  worker_.metrics().upstream_connections_active.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void UpstreamConnection::attach(UpstreamUser* user) {
  user_ = user;
  ++uses_;
  worker_.loop().timers().cancel(this);
  if (uses_ > 1) bump(worker_.metrics().upstream_connections_reused);
}

void UpstreamConnection::park(uint32_t max_idle) {
  user_ = nullptr;
  if (host_.idle.size() >= max_idle || !in.buffer().empty() || !out.empty()) {
    close();
    return;
  }
  in.releaseIdleStorage();
  out.releaseIfEmpty();
  setInterest(EPOLLIN | EPOLLRDHUP);
  host_.idle.push_back(this);
  worker_.loop().timers().schedule(this, worker_.loop().now() + kPoolIdleTimeoutMs);
}

void UpstreamConnection::close() {
  if (fd_ < 0) return;
  worker_.loop().remove(fd_);
  ::close(fd_);
  fd_ = -1;
  user_ = nullptr;
  worker_.loop().timers().cancel(this);
  auto& idle = host_.idle;
  idle.erase(std::remove(idle.begin(), idle.end(), this), idle.end());
  worker_.metrics().upstream_connections_active.fetch_sub(1, std::memory_order_relaxed);
  worker_.retire(this);
}

void UpstreamConnection::setInterest(uint32_t events) {
  if (fd_ < 0 || events == interest_) return;
  interest_ = events;
  worker_.loop().modify(fd_, events, this);
}

UpstreamConnection::Io UpstreamConnection::readSome() {
  Buffer& b = in.buffer();
  if (b.tailroom() == 0) b.compact();  // refused while a response head is in progress (pinned)
  if (b.tailroom() == 0) return Io::kAgain;
  const ssize_t n = ::read(fd_, b.tail(), b.tailroom());
  if (n > 0) {
    b.produced(static_cast<size_t>(n));
    return Io::kProgress;
  }
  if (n == 0) return Io::kEof;
  return (errno == EAGAIN || errno == EINTR) ? Io::kAgain : Io::kError;
}

UpstreamConnection::Io UpstreamConnection::writeSome() {
  if (out.empty() || connecting_) return Io::kAgain;
  const std::string_view data = out.readable();
  const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
  if (n > 0) {
    out.consume(static_cast<size_t>(n));
    return Io::kProgress;
  }
  return (n < 0 && (errno == EAGAIN || errno == EINTR)) ? Io::kAgain : Io::kError;
}

int UpstreamConnection::finishConnect() {
  const int err = socketError(fd_);
  if (err == 0) connecting_ = false;
  return err;
}

void UpstreamConnection::onIo(uint32_t events) {
  if (user_ != nullptr) {
    user_->onUpstreamIo(events);
    return;
  }
  // Parked: the server closed it, or sent bytes nobody asked for. Either way it is unusable.
  close();
}

void UpstreamConnection::onTimer() {
  if (user_ == nullptr) close();
}

}  // namespace dpuguard::proxy
