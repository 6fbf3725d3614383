#include "proxy/loader/map_reader.h"

#include "proxy/loader/config_loader.h"

namespace dpuguard::proxy {

std::string didYouMean(const std::string& word, const Keys& known) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const std::string& k : known) {
    const size_t d = editDistance(word, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  if (best.empty() || best_d > std::max<size_t>(2, word.size() / 3)) return "";
  return " (did you mean '" + best + "'?)";
}

std::string joinKeys(const Keys& keys) {
  std::string s;
  for (const std::string& k : keys) s += (s.empty() ? "" : ", ") + k;
  return s;
}

bool isToken(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

int readName(Context& ctx, const YAML::Node& n, const std::string& what,
             const std::vector<std::string_view>& names) {
  const std::string v = n.IsScalar() ? n.Scalar() : "";
  for (size_t i = 0; i < names.size(); ++i) {
    if (n.IsScalar() && names[i] == v) return static_cast<int>(i);
  }
  const Keys known(names.begin(), names.end());
  std::string accepted;  // "a", "a or b", "a, b or c"
  for (size_t i = 0; i < known.size(); ++i) {
    accepted += (i == 0 ? "" : i + 1 == known.size() ? " or " : ", ") + known[i];
  }
  const std::string got = n.IsScalar()     ? "'" + v + "'" + didYouMean(v, known)
                          : n.IsSequence() ? std::string("a list")
                          : n.IsMap()      ? std::string("a mapping")
                                           : std::string("nothing");
  ctx.error(n.Mark(), what + " must be " + accepted + ", got " + got);
  return -1;
}

// A list of strings; "*" alone means any (an empty list).
std::vector<std::string> readStringList(Context& ctx, const YAML::Node& n,
                                        const std::string& what) {
  std::vector<std::string> out;
  if (!n.IsDefined()) return out;
  if (n.IsScalar() && n.Scalar() == "*") return out;
  if (!n.IsSequence()) {
    ctx.error(n.Mark(), "'" + what + "' must be a list, or \"*\" for any");
    return out;
  }
  for (const YAML::Node& item : n) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      ctx.error(item.Mark(), "'" + what + "' entries must be non-empty strings");
      continue;
    }
    if (item.Scalar() == "*") return {};
    out.push_back(item.Scalar());
  }
  return out;
}

void checkNames(Context& ctx, const YAML::Node& n, const std::vector<std::string>& list,
                const Keys& known, const std::string& owner, const std::string& what) {
  for (size_t k = 0; k < list.size(); ++k) {
    if (std::find(known.begin(), known.end(), list[k]) != known.end()) continue;
    ctx.error(n.IsSequence() ? n[k].Mark() : n.Mark(),
              owner + ": unknown " + what + " '" + list[k] + "'" + didYouMean(list[k], known));
  }
}

void readRuleId(Context& ctx, MapReader& r, const std::string& what, std::string& id) {
  r.require("id");
  r.readString("id", id);
  if (!id.empty() && !isToken(id))
    ctx.error(r.get("id").Mark(), what + " id '" + id + "' must be letters, digits, '-' and '_'");
}

}  // namespace dpuguard::proxy
