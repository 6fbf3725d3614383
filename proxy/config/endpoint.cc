// Endpoint parsing.
#include "proxy/config/endpoint.h"

#include <algorithm>

namespace dpuguard::proxy {

bool isHostBackendName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
  });
}

std::optional<Endpoint> Endpoint::parse(std::string_view text, std::string* why) {
  Endpoint e;
  if (text.starts_with(kHostScheme)) {
    const std::string_view name = text.substr(kHostScheme.size());
    if (!isHostBackendName(name)) {
      if (why) *why = "a host backend name is 1-64 of a-z, 0-9, '-' and '_'";
      return std::nullopt;
    }
    e.kind = Kind::kHost;
    e.backend = name;
    e.text = text;
    return e;
  }
  if (text.find("://") != std::string_view::npos) {  // http://, tcp://: not ours to guess
    if (why) *why = "host:// is the only scheme; a TCP endpoint is written HOST:PORT";
    return std::nullopt;
  }
  std::optional<SocketAddress> a = SocketAddress::parse(text, why);
  if (!a) return std::nullopt;
  e.address = std::move(*a);
  e.text = e.address.text;
  return e;
}

}  // namespace dpuguard::proxy
