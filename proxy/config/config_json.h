// Renders a Config as JSON for the admin /config endpoint. Nothing secret is in the config
// today; any future secret field must be redacted here (SECURITY.md).
#pragma once

#include <string>

#include "proxy/config/config.h"

namespace dpuguard::proxy {

std::string configToJson(const Config& c);

}  // namespace dpuguard::proxy
