// SocketAddress: a numeric IPv4 or [IPv6] address with port, as written in config
// ("127.0.0.1:8080", "[::1]:8080"). Names are not resolved: what you write is what binds.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dpuguard::proxy {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // canonical "host:port" / "[v6]:port"

  const sockaddr* sockaddrPtr() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
  uint16_t port() const;

  // Parses "A.B.C.D:PORT" or "[V6]:PORT"; nullopt with `why` set when malformed.
  static std::optional<SocketAddress> parse(std::string_view text, std::string* why = nullptr);
  // The address a connected/accepted socket has (for the X-Forwarded-For and logs).
  static SocketAddress fromSockaddr(const sockaddr* sa, socklen_t len);
  // Numeric host without port ("10.0.0.1", "::1").
  std::string hostText() const;
};

}  // namespace dpuguard::proxy
