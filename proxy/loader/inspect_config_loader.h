// Reads the inspection keys of a config file (identities, api_keys, policy, signatures) into
// Config::inspect.
#pragma once

#include "proxy/config/config.h"
#include "proxy/loader/map_reader.h"

namespace dpuguard::proxy {

// Needs c.routes read first: policy rules name routes.
void readInspection(Context& ctx, MapReader& top, Config& c);

}  // namespace dpuguard::proxy
