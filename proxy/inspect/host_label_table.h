// HostLabelTable: one worker's identity labels from the host (host_channel.labels), applied
// as IdentityLabel messages arrive and published as an immutable IdentityMap.
//
// The host is untrusted: it may only label networks inside `within` (a label for 0.0.0.0/0
// would rename every client), at most `max_labels` of them; anything else is refused and
// counted. Between the host's labels and the config's, the longest prefix wins and the host's
// wins a tie (Pipeline::identityOf). When the channel comes back after a loss the table starts
// empty and the host sends its whole set again; while the host is away its labels stay.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "proxy/config/config.h"
#include "proxy/inspect/identity_map.h"

namespace dpuguard::proxy::inspect {

class HostLabelTable {
 public:
  enum class Result : uint8_t {
    kApplied,     // added, relabelled or withdrawn
    kUnchanged,   // the same label again
    kOutside,     // not inside any `within` network
    kFull,        // max_labels reached
    kNotLabelled  // a withdrawal of a label the table does not hold
  };

  // A new config: labels now outside `within`, and any past max_labels, are dropped.
  void configure(const HostLabelsConfig& config);
  Result apply(const IpPrefix& network, std::string_view identity, bool withdraw);
  void clear();
  size_t size() const { return labels_.size(); }
  // The labels now, as a map; rebuilt on the first call after a change. Null when empty.
  const std::shared_ptr<const IdentityMap>& published();

 private:
  using Key = std::pair<int, std::pair<std::array<uint8_t, 16>, uint8_t>>;  // family, network, bits
  static Key keyOf(const IpPrefix& p) { return {p.network.family, {p.network.bytes, p.bits}}; }
  bool delegated(const IpPrefix& p) const;

  HostLabelsConfig config_;
  std::map<Key, IdentityLabel> labels_;
  bool dirty_ = false;
  std::shared_ptr<const IdentityMap> map_;
};

}  // namespace dpuguard::proxy::inspect
