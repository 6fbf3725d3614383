// What inspection observed, merged over every worker, rendered for operators:
//   /metrics  dpuguard_inspect_verdicts_total{rule,verdict}
//             dpuguard_inspect_edge_requests_total{identity,route,result}
//   /edges    the communication graph as JSON: identity -> route, counts, first/last seen,
//             identity_sources (where the identity came from: mtls, api_key, host_label,
//             address; more than one when it was seen from several)
// and the learn-mode baseline file (edges that were allowed).
#pragma once

#include <string>

#include "proxy/inspect/edge_table.h"

namespace dpuguard::proxy {

struct InspectReport {
  inspect::EdgeMap edges;
  inspect::RuleVerdictMap rules;
  uint64_t edges_dropped = 0;  // requests on edges a full table did not record
  size_t buckets = 0;          // rate-limit and token-budget buckets held
  uint64_t buckets_refused = 0;

  std::string prometheus() const;
  std::string edgesJson() const;
  // Allowed edges, added to `into`; returns how many were new.
  size_t addAllowedEdges(inspect::EdgeBaseline::EdgeSet& into) const;
};

}  // namespace dpuguard::proxy
