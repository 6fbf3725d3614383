// fd passing over a Unix socket (SCM_RIGHTS): how a side hands its sealed region (and its
// wake-up eventfd) to the peer. The message that travels with the fds is small and fixed;
// receivers validate it like any other peer input and close every fd they did not ask for.
#pragma once

#include <cstddef>
#include <span>

namespace dpuguard::shm {

inline constexpr size_t kMaxPassedFds = 4;

// Sends `message` with `fds` attached (at most kMaxPassedFds). False on any socket error or a
// short send.
bool sendWithFds(int sock, std::span<const int> fds, std::span<const std::byte> message);

// Receives exactly message.size() bytes and exactly fds.size() fds into `fds`. Returns false
// when the peer closed, sent another size or another number of fds; every fd received is then
// closed. Blocks unless the socket is non-blocking or has a receive timeout.
bool receiveWithFds(int sock, std::span<int> fds, std::span<std::byte> message);

}  // namespace dpuguard::shm
