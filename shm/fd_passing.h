// fd passing over a Unix socket (SCM_RIGHTS): how a side hands its sealed region to the peer.
// The message that travels with the fd is small and fixed; receivers validate it like any
// other peer input and close every fd they did not ask for.
#pragma once

#include <cstddef>
#include <span>

namespace dpuguard::shm {

// Sends `message` with `fd` attached. Returns false on any socket error or a short send.
bool sendWithFd(int sock, int fd, std::span<const std::byte> message);

// Receives exactly message.size() bytes and one fd. Returns the fd, or -1 when the peer closed,
// sent another size, sent no fd or more than one (extra fds are closed). Blocks unless the
// socket is non-blocking.
int receiveWithFd(int sock, std::span<std::byte> message);

}  // namespace dpuguard::shm
