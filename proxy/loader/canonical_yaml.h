// canonicalYaml: a config document written back in a fixed form, for the measurement log
// (ATTESTATION.md): comments, spacing, quoting style and key order do not change it; any
// change of a key or value does. Mappings sorted by key, sequences in order, every scalar a
// quoted string whose bytes outside ' '..'~' (and '"', '\') are written \xHH.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>

namespace dpuguard::proxy {

// Bounds: aliases let a few hundred bytes of YAML expand exponentially ("billion laughs") or
// refer to themselves, so the walk stops past these and the document is refused.
inline constexpr size_t kCanonicalMaxDepth = 64;
inline constexpr size_t kCanonicalMaxBytes = size_t{16} << 20;

// nullopt when the document nests deeper than kCanonicalMaxDepth or its canonical form would
// pass kCanonicalMaxBytes.
std::optional<std::string> canonicalYaml(const YAML::Node& node);

}  // namespace dpuguard::proxy
