// canonicalYaml: a config document written back in a fixed form, for the measurement log
// (ATTESTATION.md): comments, spacing, quoting style and key order do not change it; any
// change of a key or value does. Mappings sorted by key, sequences in order, every scalar a
// quoted string whose bytes outside ' '..'~' (and '"', '\') are written \xHH.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace dpuguard::proxy {

std::string canonicalYaml(const YAML::Node& node);

}  // namespace dpuguard::proxy
