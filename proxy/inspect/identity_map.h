// IdentityMap: a client's workload identity from its source address, by the config's CIDR
// labels (longest prefix wins), or the configured `unknown` identity. Immutable per snapshot.
// mTLS identities (a later issue) will take precedence over this map for TLS clients.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proxy/config/inspect_config.h"

namespace dpuguard::proxy::inspect {

class IdentityMap {
 public:
  IdentityMap(const std::vector<IdentityLabel>& labels, std::string unknown);
  // Valid for the map's lifetime (the snapshot's).
  std::string_view lookup(const IpAddress& a) const;
  bool empty() const { return labels_.empty(); }

 private:
  std::vector<IdentityLabel> labels_;  // most specific first
  std::string unknown_;
};

}  // namespace dpuguard::proxy::inspect
