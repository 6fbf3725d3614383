// fd passing: sendmsg/recvmsg with one SCM_RIGHTS control message.
#include "shm/fd_passing.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace dpuguard::shm {

bool sendWithFds(int sock, std::span<const int> fds, std::span<const std::byte> message) {
  if (fds.size() > kMaxPassedFds || fds.empty()) return false;
  iovec iov{const_cast<std::byte*>(message.data()), message.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  const ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  return n == static_cast<ssize_t>(message.size());
}

bool receiveWithFds(int sock, std::span<int> fds, std::span<std::byte> message) {
  iovec iov{message.data(), message.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  size_t got = 0;
  int received[kMaxPassedFds];
  for (cmsghdr* c = n >= 0 ? CMSG_FIRSTHDR(&msg) : nullptr; c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count && got < kMaxPassedFds; ++i) {
      std::memcpy(&received[got++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
  }
  const bool ok = n == static_cast<ssize_t>(message.size()) && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0 &&
                  got == fds.size();
  for (size_t i = 0; i < got; ++i) {
    if (ok) fds[i] = received[i];
    else close(received[i]);
  }
  return ok;
}

}  // namespace dpuguard::shm
