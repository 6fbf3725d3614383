#include "proxy/inspect/edge_baseline.h"

namespace dpuguard::proxy::inspect {
namespace {

constexpr size_t kMaxFieldBytes = 512;

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// A printable, non-space field of bounded length (identities are URIs, routes are tokens).
bool validField(std::string_view f) {
  if (f.empty() || f.size() > kMaxFieldBytes) return false;
  for (char c : f) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F) return false;
  }
  return true;
}

}  // namespace

EdgeBaseline EdgeBaseline::parse(std::string_view text, const std::string& file, std::vector<ConfigError>* errors) {
  EdgeBaseline b;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    std::vector<std::pair<std::string_view, int>> fields;  // field, column
    for (size_t i = 0; i < line.size();) {
      if (isSpace(line[i])) {
        ++i;
        continue;
      }
      if (line[i] == '#') break;
      size_t j = i;
      while (j < line.size() && !isSpace(line[j]) && line[j] != '#') ++j;
      fields.emplace_back(line.substr(i, j - i), static_cast<int>(i) + 1);
      i = j;
    }
    if (fields.empty()) continue;
    if (fields.size() != 2) {
      errors->push_back({file, line_no, fields[0].second, "a baseline line is 'IDENTITY ROUTE', got " +
                                                              std::to_string(fields.size()) + " fields"});
      continue;
    }
    bool ok = true;
    for (const auto& [f, col] : fields) {
      if (!validField(f)) {
        errors->push_back({file, line_no, col, "fields are 1-512 printable characters without spaces"});
        ok = false;
      }
    }
    if (ok) b.edges_.emplace(std::string(fields[0].first), std::string(fields[1].first));
  }
  return b;
}

std::string EdgeBaseline::format(const EdgeSet& edges) {
  std::string out = "# dpuguard edge baseline: IDENTITY ROUTE, one observed edge per line (policy mode learn).\n"
                    "# Review it, then run with policy mode enforce: an edge missing here is new.\n";
  for (const Edge& e : edges) out += e.first + " " + e.second + "\n";
  return out;
}

bool EdgeBaseline::contains(std::string_view identity, std::string_view route) const {
  return edges_.find(std::pair<std::string_view, std::string_view>(identity, route)) != edges_.end();
}

}  // namespace dpuguard::proxy::inspect
