// IpPrefix: an IPv4 or IPv6 CIDR block ("10.0.0.0/8", "127.0.0.2/32", "fd00::/8", a bare
// address = a single host), and whether an address lies inside it. Host bits must be zero
// ("10.0.0.1/8" is refused: it is almost always a typo for something else).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/socket_address.h"

namespace dpuguard::proxy {

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

  static IpAddress of(const SocketAddress& a);
};

struct IpPrefix {
  IpAddress network;
  uint8_t bits = 0;

  static std::optional<IpPrefix> parse(std::string_view text, std::string* why);
  bool contains(const IpAddress& a) const;
};

}  // namespace dpuguard::proxy
