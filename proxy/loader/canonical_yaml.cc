// canonicalYaml: a recursive walk with a depth and an output budget.
#include "proxy/loader/canonical_yaml.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace dpuguard::proxy {
namespace {

void appendScalar(std::string& out, const std::string& s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= ' ' && b <= '~' && b != '"' && b != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kDigits[b >> 4];
      out += kDigits[b & 15];
    }
  }
  out += '"';
}

// False once the budget is spent; `out` is then meaningless.
bool append(std::string& out, const YAML::Node& n, size_t depth) {
  if (depth > kCanonicalMaxDepth || out.size() > kCanonicalMaxBytes) return false;
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      appendScalar(out, n.Scalar());
      return out.size() <= kCanonicalMaxBytes;
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const YAML::Node& item : n) {
        if (!first) out += ',';
        first = false;
        if (!append(out, item, depth + 1)) return false;
      }
      out += ']';
      return true;
    }
    case YAML::NodeType::Map: {
      std::vector<std::pair<std::string, std::string>> pairs;
      size_t total = out.size();
      for (const auto& kv : n) {
        std::string key, value;
        if (!append(key, kv.first, depth + 1) || !append(value, kv.second, depth + 1)) return false;
        total += key.size() + value.size() + 2;
        if (total > kCanonicalMaxBytes) return false;
        pairs.emplace_back(std::move(key), std::move(value));
      }
      std::sort(pairs.begin(), pairs.end());
      out += '{';
      for (size_t i = 0; i < pairs.size(); ++i)
        out += (i ? "," : "") + pairs[i].first + ":" + pairs[i].second;
      out += '}';
      return out.size() <= kCanonicalMaxBytes;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out += "null";
      return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> canonicalYaml(const YAML::Node& node) {
  std::string out;
  if (!append(out, node, 0)) return std::nullopt;
  return out;
}

}  // namespace dpuguard::proxy
