// LoopbackProbe: whether anything is still in flight on one loopback TCP connection whose two
// ends are both in this process (the rig's upstream end and the Worker's). Loopback delivery
// is not synchronous: under load the kernel defers it to ksoftirqd, so a send(2) can return
// before the peer can read a byte, and a zero-timeout poll then calls the session quiet
// too early (the fuzz target saw a response piece the proxy only read after the rig's
// hang-up). The probe compares the two ends' TCP_INFO counters and states instead.
#pragma once

#include <cstdint>

namespace dpuguard::fuzz::session {

class LoopbackProbe {
 public:
  // `rig_fd` is a socket the rig accepted; the proxy's end is found among this process's fds
  // (not found: the proxy closed it already, before the rig accepted).
  explicit LoopbackProbe(int rig_fd);

  // Something the rig sent (`rig_sent` bytes in all, a FIN if `rig_shut`) has not reached
  // the proxy's socket, or something the proxy sent (bytes, FIN, reset) has not reached the
  // rig's. A proxy end that has been closed counts as arrived once its FIN or reset has.
  bool inFlight(uint64_t rig_sent, bool rig_shut) const;

 private:
  bool proxyEndOpen() const;

  int rig_fd_;
  int proxy_fd_ = -1;
  uint16_t proxy_port_ = 0;  // the proxy end's local port, to notice its fd number reused
};

}  // namespace dpuguard::fuzz::session
