// Reads the `inference` and `rate_limits` keys of a config file into Config::inspect.
#pragma once

#include "proxy/config/config.h"
#include "proxy/loader/map_reader.h"

namespace dpuguard::proxy {

// Needs c.routes and c.clusters read first: entries name them.
void readInferenceAndRates(Context& ctx, MapReader& top, Config& c);

// "10/s", "600/m", "5000/h" -> Rate; false (and `why`) otherwise.
bool parseRate(const std::string& text, Rate& out, std::string* why);

}  // namespace dpuguard::proxy
