// EdgeBaseline: the identity -> route edges a `learn` run observed, as a file operators can
// read, review and edit: one edge per line, "IDENTITY ROUTE" separated by whitespace, '#'
// comments and blank lines ignored. `enforce` mode loads it; an edge missing from it is new.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/config/config_error.h"

namespace dpuguard::proxy::inspect {

// Orders edges by (identity, route), across string and string_view pairs (lookups do not copy).
struct EdgeLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    const std::string_view ai(a.first), bi(b.first);
    return ai != bi ? ai < bi : std::string_view(a.second) < std::string_view(b.second);
  }
};

class EdgeBaseline {
 public:
  using Edge = std::pair<std::string, std::string>;  // identity, route
  using EdgeSet = std::set<Edge, EdgeLess>;

  // Parses the text of a baseline file; errors name `file`:line:col.
  static EdgeBaseline parse(std::string_view text, const std::string& file, std::vector<ConfigError>* errors);
  // The file form of `edges`, sorted, with a header comment.
  static std::string format(const EdgeSet& edges);

  bool contains(std::string_view identity, std::string_view route) const;
  const EdgeSet& edges() const { return edges_; }

 private:
  EdgeSet edges_;
};

}  // namespace dpuguard::proxy::inspect
