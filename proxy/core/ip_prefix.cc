#include "proxy/core/ip_prefix.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace dpuguard::proxy {

IpAddress IpAddress::of(const SocketAddress& a) {
  IpAddress ip;
  ip.family = a.family();
  if (ip.family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a.storage);
    std::memcpy(ip.bytes.data(), &in->sin_addr, 4);
  } else if (ip.family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.storage);
    std::memcpy(ip.bytes.data(), &in6->sin6_addr, 16);
  }
  return ip;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text, std::string* why) {
  const size_t slash = text.find('/');
  const std::string host(text.substr(0, slash));
  IpPrefix p;
  if (inet_pton(AF_INET, host.c_str(), p.network.bytes.data()) == 1) {
    p.network.family = AF_INET;
  } else if (inet_pton(AF_INET6, host.c_str(), p.network.bytes.data()) == 1) {
    p.network.family = AF_INET6;
  } else {
    *why = "'" + host + "' is not a numeric IPv4 or IPv6 address";
    return std::nullopt;
  }
  const unsigned max_bits = p.network.family == AF_INET ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view b = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    if (b.empty() || ec != std::errc() || end != b.data() + b.size() || bits > max_bits) {
      *why = "prefix length must be 0-" + std::to_string(max_bits) + ", got '" + std::string(b) + "'";
      return std::nullopt;
    }
  }
  p.bits = static_cast<uint8_t>(bits);
  for (unsigned i = bits; i < max_bits; ++i) {
    if ((p.network.bytes[i / 8] >> (7 - i % 8)) & 1) {
      *why = "'" + std::string(text) + "' has host bits set after /" + std::to_string(bits);
      return std::nullopt;
    }
  }
  return p;
}

bool IpPrefix::contains(const IpAddress& a) const {
  if (a.family != network.family) return false;
  const unsigned full = bits / 8;
  if (std::memcmp(a.bytes.data(), network.bytes.data(), full) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a.bytes[full] & mask) == (network.bytes[full] & mask);
}

}  // namespace dpuguard::proxy
