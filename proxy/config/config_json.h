// Renders a Config as JSON for the admin /config endpoint, redacted: header-match values
// always, and the value of every key whose name matches admin.redact (by default anything
// named like a key, token, secret or password), so a secret put in the config never leaves
// through the admin port (SECURITY.md, "Secrets").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proxy/config/config.h"

namespace dpuguard::proxy {

inline constexpr std::string_view kRedacted = "[redacted]";

std::string configToJson(const Config& c);

// Whether config key `name` is redacted by `patterns`: a pattern (a case-insensitive glob,
// fnmatch(3)) matches the whole name or one of its words (split at '_', '-' and '.').
// "key" matches api_key and x-api-key, not keyboard; "*key" would match apikey (and monkey).
bool redactedKey(std::string_view name, const std::vector<std::string>& patterns);

}  // namespace dpuguard::proxy
