// listeners[].tls: reads the section, checks the files (a private key readable by group or
// others is refused, as sshd refuses such keys) and builds the contexts once so a bad
// certificate, key, cipher list or CA bundle is a positioned config error, not a failed start.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "proxy/config/tls_config.h"
#include "proxy/loader/map_reader.h"

namespace dpuguard::proxy {

void readListenerTls(Context& ctx, const YAML::Node& node, const std::string& what,
                     ListenerTlsConfig& tls);

}  // namespace dpuguard::proxy
