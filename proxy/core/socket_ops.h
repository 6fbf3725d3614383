// Thin, error-returning wrappers over the socket calls the proxy makes (non-blocking always).
#pragma once

#include <string>

#include "proxy/core/socket_address.h"

namespace dpuguard::proxy {

// A listening socket with SO_REUSEADDR and SO_REUSEPORT (one per worker), or -1 with `err`.
int listenSocket(const SocketAddress& addr, bool reuse_port, std::string* err);

// Starts a non-blocking connect. Returns the fd (connect may still be in progress), or -1.
// `in_progress` tells whether completion must be awaited with EPOLLOUT.
int connectSocket(const SocketAddress& addr, bool* in_progress, int* error);

// SO_ERROR of a socket whose non-blocking connect finished.
int socketError(int fd);

}  // namespace dpuguard::proxy
