// IdentityMap: a client's workload identity from its source address, by CIDR labels (longest
// prefix wins): one hash lookup per distinct prefix length in use, longest first, so thousands
// of host labels cost what a handful do. Immutable: the config's labels live as long as their snapshot, the host's
// (HostLabelTable) as long as a session holds them. mTLS identities (a later issue) will take
// precedence over these maps for TLS clients.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "proxy/config/inspect_config.h"

namespace dpuguard::proxy::inspect {

class IdentityMap {
 public:
  IdentityMap(std::vector<IdentityLabel> labels, std::string unknown);
  // Valid for the map's lifetime.
  std::string_view lookup(const IpAddress& a) const {
    const IdentityLabel* l = match(a);
    return l != nullptr ? std::string_view(l->identity) : std::string_view(unknown_);
  }
  // The most specific label covering `a`, or null.
  const IdentityLabel* match(const IpAddress& a) const;
  bool empty() const { return labels_.empty(); }
  size_t size() const { return labels_.size(); }

 private:
  struct Net {
    std::array<uint8_t, 16> bytes;
    bool operator==(const Net&) const = default;
  };
  struct NetHash {
    size_t operator()(const Net& n) const;
  };
  struct Level {  // the labels of one family and prefix length
    int family;
    uint8_t bits;
    std::unordered_map<Net, size_t, NetHash> nets;  // masked network -> index in labels_
  };
  static Net masked(const IpAddress& a, uint8_t bits);

  std::vector<IdentityLabel> labels_;
  std::vector<Level> levels_;  // longest prefix first
  std::string unknown_;
};

}  // namespace dpuguard::proxy::inspect
