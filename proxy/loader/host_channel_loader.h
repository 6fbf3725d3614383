// Reads the `host_channel` key of a config file (SHM_DESIGN.md): where host://NAME backends
// are found, the ring geometry each worker opens, the events backend and runtime labels.
#pragma once

#include "proxy/config/config.h"
#include "proxy/loader/map_reader.h"

namespace dpuguard::proxy {

// `node` is the value of `host_channel`; every problem is a positioned error in `ctx`.
void readHostChannel(Context& ctx, const YAML::Node& node, HostChannelConfig& h);

}  // namespace dpuguard::proxy
