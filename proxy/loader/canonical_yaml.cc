// canonicalYaml: recursive, depth-bounded by the document yaml-cpp accepted.
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

void append(std::string& out, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      appendScalar(out, n.Scalar());
      return;
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const YAML::Node& item : n) {
        if (!first) out += ',';
        first = false;
        append(out, item);
      }
      out += ']';
      return;
    }
    case YAML::NodeType::Map: {
      std::vector<std::pair<std::string, std::string>> pairs;
      for (const auto& kv : n) {
        std::string key, value;
        append(key, kv.first);
        append(value, kv.second);
        pairs.emplace_back(std::move(key), std::move(value));
      }
      std::sort(pairs.begin(), pairs.end());
      out += '{';
      for (size_t i = 0; i < pairs.size(); ++i)
        out += (i ? "," : "") + pairs[i].first + ":" + pairs[i].second;
      out += '}';
      return;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out += "null";
      return;
  }
}

}  // namespace

std::string canonicalYaml(const YAML::Node& node) {
  std::string out;
  append(out, node);
  return out;
}

}  // namespace dpuguard::proxy
