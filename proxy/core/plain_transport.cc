// PlainTransport: non-blocking socket calls, EINTR retried, EAGAIN as kWouldBlock.
#include "proxy/core/plain_transport.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace dpuguard::proxy {

Transport::Result PlainTransport::read(char* dst, size_t capacity) {
  for (;;) {
    const ssize_t n = ::read(fd_, dst, capacity);
    if (n > 0) return {Io::kDone, static_cast<size_t>(n)};
    if (n == 0) return {Io::kEof, 0};
    if (errno == EINTR) continue;
    return {errno == EAGAIN || errno == EWOULDBLOCK ? Io::kWouldBlock : Io::kError, 0};
  }
}

Transport::Result PlainTransport::write(std::string_view data) {
  for (;;) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) return {Io::kDone, static_cast<size_t>(n)};
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {Io::kWouldBlock, 0};
    return {Io::kError, 0};
  }
}

bool PlainTransport::shutdownWrite() {
  return ::shutdown(fd_, SHUT_WR) == 0;
}

bool PlainTransport::hasPendingInput() const {
  int queued = 0;
  return ::ioctl(fd_, FIONREAD, &queued) == 0 && queued > 0;
}

void PlainTransport::close() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
}

}  // namespace dpuguard::proxy
