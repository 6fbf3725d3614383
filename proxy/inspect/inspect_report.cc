#include "proxy/inspect/inspect_report.h"

#include "proxy/core/json_escape.h"

namespace dpuguard::proxy {
namespace {

// A Prometheus label value: backslash, quote and newline escaped.
void appendLabel(std::string& out, const char* name, std::string_view value, bool first = false) {
  out += first ? "" : ",";
  out += name;
  out += "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}

}  // namespace

std::string InspectReport::prometheus() const {
  std::string out =
      "# HELP dpuguard_inspect_verdicts_total Inspection verdicts by the rule that decided.\n"
      "# TYPE dpuguard_inspect_verdicts_total counter\n";
  for (const auto& [key, n] : rules) {
    out += "dpuguard_inspect_verdicts_total{";
    appendLabel(out, "rule", key.first, true);
    appendLabel(out, "verdict", key.second);
    out += "} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP dpuguard_inspect_edge_requests_total Requests per identity -> route edge.\n"
      "# TYPE dpuguard_inspect_edge_requests_total counter\n";
  for (const auto& [edge, s] : edges) {
    for (const auto& [result, n] :
         {std::pair<const char*, uint64_t>{"allowed", s.allowed}, {"blocked", s.blocked}}) {
      out += "dpuguard_inspect_edge_requests_total{";
      appendLabel(out, "identity", edge.first, true);
      appendLabel(out, "route", edge.second);
      appendLabel(out, "result", result);
      out += "} " + std::to_string(n) + "\n";
    }
  }
  out +=
      "# HELP dpuguard_inspect_edges_dropped_total Requests on edges not recorded: the edge table "
      "was full.\n"
      "# TYPE dpuguard_inspect_edges_dropped_total counter\n"
      "dpuguard_inspect_edges_dropped_total " +
      std::to_string(edges_dropped) +
      "\n"
      "# HELP dpuguard_inspect_buckets Rate-limit and token-budget buckets held.\n"
      "# TYPE dpuguard_inspect_buckets gauge\n"
      "dpuguard_inspect_buckets " +
      std::to_string(buckets) +
      "\n"
      "# HELP dpuguard_inspect_buckets_refused_total New keys refused: every bucket was in use.\n"
      "# TYPE dpuguard_inspect_buckets_refused_total counter\n"
      "dpuguard_inspect_buckets_refused_total " +
      std::to_string(buckets_refused) + "\n";
  return out;
}

std::string InspectReport::edgesJson() const {
  std::string out = "{\"edges\":[";
  bool first = true;
  for (const auto& [edge, s] : edges) {
    out += first ? "\n" : ",\n";
    first = false;
    out += "{\"identity\":\"";
    appendJsonEscaped(out, edge.first);
    out += "\",\"route\":\"";
    appendJsonEscaped(out, edge.second);
    out += "\",\"allowed\":" + std::to_string(s.allowed) +
           ",\"blocked\":" + std::to_string(s.blocked) +
           ",\"first_seen_ms\":" + std::to_string(s.first_seen_ms) +
           ",\"last_seen_ms\":" + std::to_string(s.last_seen_ms) + ",\"identity_sources\":[";
    bool first_source = true;
    for (const EnumName<IdentitySource>& row : kIdentitySourceNames) {
      if ((s.sources & sourceBit(row.value)) == 0) continue;
      out.append(first_source ? "\"" : ",\"").append(row.name).append("\"");
      first_source = false;
    }
    out += "]}";
  }
  out += "\n],\"edges_dropped\":" + std::to_string(edges_dropped) + "}\n";
  return out;
}

size_t InspectReport::addAllowedEdges(inspect::EdgeBaseline::EdgeSet& into) const {
  size_t added = 0;
  for (const auto& [edge, s] : edges) {
    if (s.allowed > 0 && into.insert(edge).second) ++added;
  }
  return added;
}

}  // namespace dpuguard::proxy
