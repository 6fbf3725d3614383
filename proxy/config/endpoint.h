// Endpoint: one entry of a cluster's `endpoints`, resolved once by the config loader into
// what the data path needs: a TCP address ("10.0.0.5:8000", "[::1]:8000"), or a backend on
// the host reached over the shm host channel ("host://NAME"). Nothing parses the text again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/socket_address.h"

namespace dpuguard::proxy {

struct Endpoint {
  enum class Kind : uint8_t {
    kTcp,   // connect(2) to `address`
    kHost,  // a stream over the host channel to the backend `backend` (proxy/host/)
  };

  Kind kind = Kind::kTcp;
  SocketAddress address;  // kTcp only
  std::string backend;    // kHost only: NAME, which names SOCKET_DIR/NAME.sock
  std::string text;       // canonical: address.text or "host://NAME"; the flow log's "endpoint"

  bool isHost() const { return kind == Kind::kHost; }
  // What names the endpoint in a Host header a request lacks: the address or the backend name.
  std::string_view authority() const {
    return isHost() ? std::string_view(backend) : std::string_view(address.text);
  }

  // Parses an endpoint as written in config; nullopt with `why` set when it is neither a
  // numeric HOST:PORT (SocketAddress::parse) nor host://NAME with a valid NAME.
  static std::optional<Endpoint> parse(std::string_view text, std::string* why = nullptr);
};

// The scheme that marks a host-resident backend.
inline constexpr std::string_view kHostScheme = "host://";

// A host backend name (host://NAME, host_channel.events, host_channel.labels.from): 1-64 of
// a-z, 0-9, '-' and '_', because it becomes a file name (SOCKET_DIR/NAME.sock).
bool isHostBackendName(std::string_view name);

}  // namespace dpuguard::proxy
