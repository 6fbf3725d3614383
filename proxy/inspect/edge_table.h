// EdgeTable: one worker's observed communication graph (identity -> route: counts, first and
// last seen, where the identity came from) and its verdict counts per rule. Written by the worker,
// read by the admin thread
// (/edges, /metrics) and the learn-mode baseline writer, under a mutex nobody else takes.
// An edge or rule allocates the first time it is seen, never again. Identities can come from
// the host at runtime, so edges are capped: past max_edges a new edge is counted as dropped
// (the request itself is unaffected, and its verdict is still counted per rule).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "proxy/config/inspect_config.h"
#include "proxy/inspect/edge_baseline.h"
#include "proxy/inspect/verdict.h"

namespace dpuguard::proxy::inspect {

struct EdgeStats {
  uint64_t allowed = 0;
  uint64_t blocked = 0;
  int64_t first_seen_ms = 0;  // Unix time
  int64_t last_seen_ms = 0;
  IdentitySources sources = 0;  // where the identity came from, each time it was seen
  void merge(const EdgeStats& o);
};

using EdgeMap = std::map<EdgeBaseline::Edge, EdgeStats, EdgeLess>;
using RuleVerdictMap =
    std::map<std::pair<std::string, std::string>, uint64_t, EdgeLess>;  // (rule, tag)

class EdgeTable {
 public:
  static constexpr size_t kDefaultMaxEdges = 16384;
  explicit EdgeTable(size_t max_edges = kDefaultMaxEdges) : max_edges_(max_edges) {}

  void record(std::string_view identity, IdentitySource source, std::string_view route,
              const Verdict& v, int64_t now_unix_ms);
  // Adds this table into the given maps and count (the admin thread merges every worker's).
  void mergeInto(EdgeMap& edges, RuleVerdictMap& rules, uint64_t& edges_dropped) const;

 private:
  const size_t max_edges_;
  mutable std::mutex mutex_;
  EdgeMap edges_;
  RuleVerdictMap rules_;
  uint64_t dropped_ = 0;  // requests on edges not recorded: the table was full
};

}  // namespace dpuguard::proxy::inspect
