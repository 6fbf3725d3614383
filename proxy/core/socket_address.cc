// SocketAddress parsing and formatting (inet_pton / inet_ntop).
#include "proxy/core/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace dpuguard::proxy {

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view text, std::string* why) {
  auto fail = [&](const char* msg) -> std::optional<SocketAddress> {
    if (why) *why = msg;
    return std::nullopt;
  };
  std::string_view host;
  std::string_view port_text;
  bool v6 = false;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']' after IPv6 address");
    if (close + 1 >= text.size() || text[close + 1] != ':') return fail("expected ':PORT' after ']'");
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    v6 = true;
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected HOST:PORT");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail("IPv6 addresses must be written [ADDR]:PORT");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port_text.empty() || port > 65535) {
    return fail("port must be a number from 0 to 65535");
  }
  SocketAddress a;
  const std::string host_str(host);
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host_str.c_str(), &sin6->sin6_addr) != 1) return fail("not a numeric IPv6 address");
    a.length = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host_str.c_str(), &sin->sin_addr) != 1) {
      return fail("not a numeric IPv4 address (names are not resolved; write e.g. 127.0.0.1:8000)");
    }
    a.length = sizeof(sockaddr_in);
  }
  a.text = v6 ? "[" + host_str + "]:" + std::to_string(port) : host_str + ":" + std::to_string(port);
  return a;
}

SocketAddress SocketAddress::fromSockaddr(const sockaddr* sa, socklen_t len) {
  SocketAddress a;
  if (len > sizeof a.storage) len = sizeof a.storage;
  std::memcpy(&a.storage, sa, len);
  a.length = len;
  const std::string host = a.hostText();
  a.text = a.family() == AF_INET6 ? "[" + host + "]:" + std::to_string(a.port())
                                  : host + ":" + std::to_string(a.port());
  return a;
}

std::string SocketAddress::hostText() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

}  // namespace dpuguard::proxy
