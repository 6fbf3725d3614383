#include "proxy/inspect/identity_map.h"

#include <algorithm>

namespace dpuguard::proxy::inspect {

IdentityMap::IdentityMap(const std::vector<IdentityLabel>& labels, std::string unknown)
    : labels_(labels), unknown_(std::move(unknown)) {
  std::stable_sort(labels_.begin(), labels_.end(),
                   [](const IdentityLabel& a, const IdentityLabel& b) { return a.prefix.bits > b.prefix.bits; });
}

std::string_view IdentityMap::lookup(const IpAddress& a) const {
  for (const IdentityLabel& l : labels_) {
    if (l.prefix.contains(a)) return l.identity;
  }
  return unknown_;
}

}  // namespace dpuguard::proxy::inspect
