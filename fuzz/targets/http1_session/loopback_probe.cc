// LoopbackProbe implementation: TCP_INFO (the kernel's tcp_info, newer than glibc's) on both ends.
#include "fuzz/targets/http1_session/loopback_probe.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace dpuguard::fuzz::session {
namespace {

// include/net/tcp_states.h
constexpr uint8_t kEstablished = 1;
constexpr uint8_t kFinWait1 = 4;
constexpr uint8_t kFinWait2 = 5;
constexpr int kMaxFd = 1024;  // the rig's process holds a few dozen

uint16_t localPort(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sin_family != AF_INET)
    return 0;
  return ntohs(a.sin_port);
}

uint16_t peerPort(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sin_family != AF_INET)
    return 0;
  return ntohs(a.sin_port);
}

bool info(int fd, tcp_info& out) {
  socklen_t len = sizeof out;
  out = {};
  return ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &out, &len) == 0;
}

}  // namespace

LoopbackProbe::LoopbackProbe(int rig_fd) : rig_fd_(rig_fd) {
  proxy_port_ = peerPort(rig_fd);
  const uint16_t rig_port = localPort(rig_fd);
  for (int fd = 0; fd < kMaxFd && proxy_port_ != 0; ++fd) {
    if (fd != rig_fd && localPort(fd) == proxy_port_ && peerPort(fd) == rig_port) {
      proxy_fd_ = fd;
      break;
    }
  }
}

bool LoopbackProbe::proxyEndOpen() const {
  return proxy_fd_ >= 0 && localPort(proxy_fd_) == proxy_port_;
}

bool LoopbackProbe::inFlight(uint64_t rig_sent, bool rig_shut) const {
  tcp_info rig{};
  if (!info(rig_fd_, rig)) return false;
  tcp_info proxy{};
  if (proxyEndOpen() && info(proxy_fd_, proxy)) {
    if (proxy.tcpi_bytes_received < rig_sent) return true;          // rig -> proxy bytes
    if (rig_shut && proxy.tcpi_state == kEstablished) return true;  // rig -> proxy FIN
    int unsent = 0;
    if (::ioctl(proxy_fd_, SIOCOUTQNSD, &unsent) == 0 && unsent > 0) return true;
    return proxy.tcpi_bytes_sent - proxy.tcpi_bytes_retrans >
           rig.tcpi_bytes_received;  // proxy -> rig bytes
  }
  // The proxy closed its end: in flight until its FIN (or reset) has reached ours.
  return rig.tcpi_state == kEstablished || rig.tcpi_state == kFinWait1 ||
         rig.tcpi_state == kFinWait2;
}

}  // namespace dpuguard::fuzz::session
