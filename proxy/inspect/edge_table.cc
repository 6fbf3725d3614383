#include "proxy/inspect/edge_table.h"

#include <algorithm>

namespace dpuguard::proxy::inspect {

void EdgeStats::merge(const EdgeStats& o) {
  first_seen_ms =
      allowed + blocked == 0 ? o.first_seen_ms : std::min(first_seen_ms, o.first_seen_ms);
  last_seen_ms = std::max(last_seen_ms, o.last_seen_ms);
  allowed += o.allowed;
  blocked += o.blocked;
  sources |= o.sources;
}

void EdgeTable::record(std::string_view identity, IdentitySource source, std::string_view route,
                       const Verdict& v, int64_t now_unix_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::pair<std::string_view, std::string_view> edge_key(identity, route);
  auto e = edges_.find(edge_key);
  if (e == edges_.end() && edges_.size() < max_edges_) {
    e = edges_
            .emplace(EdgeBaseline::Edge(identity, route),
                     EdgeStats{0, 0, now_unix_ms, now_unix_ms, 0})
            .first;
  }
  if (e != edges_.end()) {
    (v.blocked() ? e->second.blocked : e->second.allowed) += 1;
    e->second.last_seen_ms = now_unix_ms;
    e->second.sources |= sourceBit(source);
  } else {
    ++dropped_;
  }
  if (v.rule.empty()) return;
  const std::pair<std::string_view, std::string_view> rule_key(v.rule, v.tag);
  auto r = rules_.find(rule_key);
  if (r == rules_.end())
    r = rules_.emplace(std::pair<std::string, std::string>(v.rule, v.tag), 0).first;
  ++r->second;
}

void EdgeTable::mergeInto(EdgeMap& edges, RuleVerdictMap& rules, uint64_t& edges_dropped) const {
  std::lock_guard<std::mutex> lock(mutex_);
  edges_dropped += dropped_;
  for (const auto& [k, s] : edges_) edges[k].merge(s);
  for (const auto& [k, n] : rules_) rules[k] += n;
}

}  // namespace dpuguard::proxy::inspect
