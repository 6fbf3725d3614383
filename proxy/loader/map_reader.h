// Config-loading helpers shared by the loader's files: positioned errors (Context), typed
// reads from a YAML mapping with unknown-key detection (MapReader), and "did you mean" hints.
// Start-up and reload only; yaml-cpp may throw, and the loader turns that into errors.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "attest/digest.h"
#include "attest/measurement_log.h"
#include "proxy/config/config_error.h"
#include "proxy/config/enum_names.h"
#include "proxy/core/socket_address.h"

namespace dpuguard::proxy {

using Keys = std::vector<std::string>;

// The longest timeout any `*_timeout_ms` key takes: a day.
inline constexpr uint64_t kMaxTimeoutMs = 24ull * 3600 * 1000;

class Context {
 public:
  explicit Context(std::string file) : file_(std::move(file)) {}
  void error(const YAML::Mark& m, const std::string& msg) {
    const int line = m.line >= 0 ? m.line + 1 : 0;
    const int col = m.column >= 0 ? m.column + 1 : 0;
    errors_.push_back(ConfigError{file_, line, col, msg});
  }
  std::vector<ConfigError>& errors() { return errors_; }
  const std::string& file() const { return file_; }
  // Records the digest of bytes the loader has just read and will use (measure before use):
  // the snapshot's measurement log lists them in this order (snapshot_measurer.h).
  void measured(std::string_view component, const std::string& path, std::string_view bytes) {
    measured_.push_back({std::string(component), attest::encodePath(attest::absolutePath(path)),
                         attest::sha256Hex(bytes)});
  }
  std::vector<attest::Measurement>& measurements() { return measured_; }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::vector<attest::Measurement> measured_;
};

// " (did you mean 'X'?)" for the nearest of `known`, or "".
std::string didYouMean(const std::string& word, const Keys& known);
std::string joinKeys(const Keys& keys);
// An HTTP token of letters, digits, '-' and '_'.
bool isToken(const std::string& s);

// A list of non-empty strings; "*" alone (or as an entry) means any: an empty list.
std::vector<std::string> readStringList(Context& ctx, const YAML::Node& n, const std::string& what);

// Every entry of `list` (read from node `n`) must be one of `known`: "OWNER: unknown WHAT 'x'
// (did you mean 'y'?)" at the entry otherwise.
void checkNames(Context& ctx, const YAML::Node& n, const std::vector<std::string>& list,
                const Keys& known, const std::string& owner, const std::string& what);

// The index of scalar `n` in `names`; otherwise -1 after an error at `n` that lists them:
// "WHAT must be A, B or C, got 'x' (did you mean 'y'?)". The core of readEnum.
int readName(Context& ctx, const YAML::Node& n, const std::string& what,
             const std::vector<std::string_view>& names);

// Reads scalar `n` as one of the names in `table` (a config enum's EnumName table): true with
// `out` set, else false with a positioned error listing the accepted names. `what` is the
// subject of that error: "'lb'", "'where' entries".
template <typename E>
bool readEnum(Context& ctx, const YAML::Node& n, const std::string& what, E& out,
              std::span<const EnumName<std::type_identity_t<E>>> table) {
  std::vector<std::string_view> names;
  for (const EnumName<E>& row : table) names.push_back(row.name);
  const int i = readName(ctx, n, what, names);
  if (i < 0) return false;
  out = table[static_cast<size_t>(i)].value;
  return true;
}

class MapReader;
// The required `id` of a rule-like entry, a token (letters, digits, '-', '_'); `what` names the
// kind in errors ("rule", "rate limit").
void readRuleId(Context& ctx, MapReader& r, const std::string& what, std::string& id);

// A YAML mapping with a fixed set of allowed keys; reports unknown and duplicate keys once,
// then reads typed values with range checks.
class MapReader {
 public:
  MapReader(Context& ctx, const YAML::Node& node, const std::string& what, Keys known)
      : ctx_(ctx), node_(node), what_(what), known_(std::move(known)) {
    if (!node.IsMap()) {
      ctx_.error(node.Mark(), what_ + " must be a mapping with keys: " + joinKeys(known_));
      valid_ = false;
      return;
    }
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
        ctx_.error(it->first.Mark(),
                   "unknown key '" + key + "' in " + what_ + didYouMean(key, known_));
      } else if (!seen.insert(key).second) {
        ctx_.error(it->first.Mark(), "duplicate key '" + key + "' in " + what_);
      }
    }
  }

  bool valid() const { return valid_; }
  YAML::Node get(const std::string& key) const {
    if (!valid_) return YAML::Node(YAML::NodeType::Undefined);
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.as<std::string>() == key) return it->second;
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }
  const YAML::Mark mark() const { return node_.Mark(); }

  bool require(const std::string& key) {
    if (!valid_ || get(key).IsDefined()) return valid_;
    ctx_.error(node_.Mark(), what_ + " is missing required key '" + key + "'");
    return false;
  }

  void readString(const std::string& key, std::string& out) {
    YAML::Node n = get(key);
    if (!n.IsDefined()) return;
    if (!n.IsScalar()) {
      ctx_.error(n.Mark(), "'" + key + "' must be a string");
      return;
    }
    out = n.Scalar();
  }

  // A listener's, cluster's or route's name: 1-128 letters, digits and . _ - : / @, since
  // start-up lines, metric labels and admin pages carry it (no control byte forges a line).
  void readName(const std::string& key, std::string& out) {
    readString(key, out);
    const bool ok =
        !out.empty() && out.size() <= 128 && std::all_of(out.begin(), out.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch)) != 0 ||
                 std::string_view("._-:/@").find(ch) != std::string_view::npos;
        });
    if (!ok && get(key).IsDefined() && get(key).IsScalar())
      ctx_.error(get(key).Mark(), "'" + key + "' must be 1-128 letters, digits and . _ - : / @");
  }

  void readBool(const std::string& key, bool& out) {
    YAML::Node n = get(key);
    if (!n.IsDefined()) return;
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    if (s == "true")
      out = true;
    else if (s == "false")
      out = false;
    else
      ctx_.error(n.Mark(), "'" + key + "' must be true or false, got '" + s + "'");
  }

  template <typename T>
  void readUint(const std::string& key, T& out, uint64_t min, uint64_t max) {
    YAML::Node n = get(key);
    if (!n.IsDefined()) return;
    uint64_t v = 0;
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!n.IsScalar() || s.empty() || ec != std::errc() || end != s.data() + s.size()) {
      ctx_.error(n.Mark(), "'" + key + "' must be a whole number, got '" + s + "'");
      return;
    }
    if (v < min || v > max) {
      ctx_.error(n.Mark(), "'" + key + "' must be between " + std::to_string(min) + " and " +
                               std::to_string(max) + ", got " + s);
      return;
    }
    out = static_cast<T>(v);
  }

  // `key`, if present, as one of the names in `table` (readEnum above).
  template <typename E>
  void readEnum(const std::string& key, E& out,
                std::span<const EnumName<std::type_identity_t<E>>> table) {
    if (YAML::Node n = get(key); n.IsDefined())
      proxy::readEnum(ctx_, n, "'" + key + "'", out, table);
  }

  void readAddress(const std::string& key, SocketAddress& out) {
    YAML::Node n = get(key);
    if (!n.IsDefined()) return;
    std::string why;
    auto a = n.IsScalar() ? SocketAddress::parse(n.Scalar(), &why) : std::nullopt;
    if (!a) {
      ctx_.error(n.Mark(), "'" + key + "': " +
                               (n.IsScalar() ? "'" + n.Scalar() + "' " + why : "must be a string"));
      return;
    }
    out = *a;
  }

 private:
  Context& ctx_;
  YAML::Node node_;
  std::string what_;
  Keys known_;
  bool valid_ = true;
};

// Sequence `key` of mappings; calls fn(node, index) for each.
template <typename Fn>
void forEachItem(Context& ctx, const YAML::Node& seq, const std::string& key, Fn fn) {
  if (!seq.IsDefined()) return;
  if (!seq.IsSequence()) {
    ctx.error(seq.Mark(), "'" + key + "' must be a list");
    return;
  }
  for (size_t i = 0; i < seq.size(); ++i) fn(seq[i], i);
}

}  // namespace dpuguard::proxy
