// readClusterTls: a cluster's `tls` mapping (clusters[].tls: ca_file, verify, server_name,
// cert_file, key_file, min_version) into its ClusterTlsConfig, with the files checked and the
// cluster's TLS client context built, so that check-config and a reload refuse what every
// connection would fail on. Start-up and reload only.
#pragma once

#include <yaml-cpp/yaml.h>

#include "proxy/config/config.h"
#include "proxy/loader/map_reader.h"

namespace dpuguard::proxy {

// Reads `node` (the value of cluster `cluster`'s `tls` key) into cluster.tls; errors go to ctx.
// `tls: {}` turns TLS on with every default: the system's trust store, verification on, the
// endpoint's address as the name checked.
void readClusterTls(Context& ctx, const YAML::Node& node, ClusterConfig& cluster);

// A DNS host name (RFC 1123 §2.1: labels of letters, digits and '-', not at a label's ends,
// 1-63 bytes each, 253 in all), as server_name takes besides an IP literal.
bool isDnsName(std::string_view s);

}  // namespace dpuguard::proxy
