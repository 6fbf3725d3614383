// fd passing: sendmsg/recvmsg with one SCM_RIGHTS control message.
#include "shm/fd_passing.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace dpuguard::shm {
namespace {
constexpr size_t kMaxFds = 4;  // room to notice (and close) a peer that sends several
}

bool sendWithFd(int sock, int fd, std::span<const std::byte> message) {
  iovec iov{const_cast<std::byte*>(message.data()), message.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  const ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  return n == static_cast<ssize_t>(message.size());
}

int receiveWithFd(int sock, std::span<std::byte> message) {
  iovec iov{message.data(), message.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  int fd = -1;
  bool extra = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int got;
      std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
      if (fd < 0) {
        fd = got;
      } else {
        close(got);
        extra = true;
      }
    }
  }
  if (n != static_cast<ssize_t>(message.size()) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || extra) {
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

}  // namespace dpuguard::shm
