#include "proxy/inspect/host_label_table.h"

#include <vector>

namespace dpuguard::proxy::inspect {

void HostLabelTable::configure(const HostLabelsConfig& config) {
  config_ = config;
  for (auto it = labels_.begin(); it != labels_.end();) {
    if (delegated(it->second.prefix) && labels_.size() <= config_.max_labels) {
      ++it;
    } else {
      it = labels_.erase(it);
      dirty_ = true;
    }
  }
}

HostLabelTable::Result HostLabelTable::apply(const IpPrefix& network, std::string_view identity, bool withdraw) {
  if (!delegated(network)) return Result::kOutside;
  const Key key = keyOf(network);
  const auto it = labels_.find(key);
  if (withdraw) {
    if (it == labels_.end() || it->second.identity != identity) return Result::kNotLabelled;
    labels_.erase(it);
  } else if (it != labels_.end()) {
    if (it->second.identity == identity) return Result::kUnchanged;
    it->second.identity = identity;
  } else {
    if (labels_.size() >= config_.max_labels) return Result::kFull;
    labels_.emplace(key, IdentityLabel{"", network, std::string(identity)});
  }
  dirty_ = true;
  return Result::kApplied;
}

void HostLabelTable::clear() {
  dirty_ = dirty_ || !labels_.empty();
  labels_.clear();
}

const std::shared_ptr<const IdentityMap>& HostLabelTable::published() {
  if (dirty_) {
    dirty_ = false;
    std::vector<IdentityLabel> all;
    all.reserve(labels_.size());
    for (const auto& [key, label] : labels_) all.push_back(label);
    map_ = all.empty() ? nullptr : std::make_shared<const IdentityMap>(std::move(all), "");
  }
  return map_;
}

bool HostLabelTable::delegated(const IpPrefix& p) const {
  for (const IpPrefix& w : config_.within) {
    if (w.bits <= p.bits && w.contains(p.network)) return true;
  }
  return false;
}

}  // namespace dpuguard::proxy::inspect
