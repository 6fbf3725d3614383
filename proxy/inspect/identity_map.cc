#include "proxy/inspect/identity_map.h"

#include <algorithm>
#include <cstring>

namespace dpuguard::proxy::inspect {

IdentityMap::IdentityMap(std::vector<IdentityLabel> labels, std::string unknown)
    : labels_(std::move(labels)), unknown_(std::move(unknown)) {
  for (size_t i = 0; i < labels_.size(); ++i) {
    const IpPrefix& p = labels_[i].prefix;
    auto level = std::find_if(levels_.begin(), levels_.end(), [&](const Level& l) {
      return l.family == p.network.family && l.bits == p.bits;
    });
    if (level == levels_.end()) level = levels_.insert(levels_.end(), Level{p.network.family, p.bits, {}});
    level->nets.emplace(masked(p.network, p.bits), i);  // the first of two equal networks wins
  }
  std::stable_sort(levels_.begin(), levels_.end(), [](const Level& a, const Level& b) { return a.bits > b.bits; });
}

const IdentityLabel* IdentityMap::match(const IpAddress& a) const {
  for (const Level& l : levels_) {
    if (l.family != a.family) continue;
    if (auto it = l.nets.find(masked(a, l.bits)); it != l.nets.end()) return &labels_[it->second];
  }
  return nullptr;
}

IdentityMap::Net IdentityMap::masked(const IpAddress& a, uint8_t bits) {
  Net n{};
  const unsigned full = std::min<unsigned>(bits / 8, 16);
  std::memcpy(n.bytes.data(), a.bytes.data(), full);
  if (const unsigned rest = bits % 8; rest != 0 && full < 16) {
    n.bytes[full] = static_cast<uint8_t>(a.bytes[full] & (0xFF << (8 - rest)));
  }
  return n;
}

size_t IdentityMap::NetHash::operator()(const Net& n) const {
  uint64_t lo = 0, hi = 0;
  std::memcpy(&lo, n.bytes.data(), 8);
  std::memcpy(&hi, n.bytes.data() + 8, 8);
  return std::hash<uint64_t>{}(lo * 0x9E3779B97F4A7C15ull ^ hi);
}

}  // namespace dpuguard::proxy::inspect
