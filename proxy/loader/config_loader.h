// ConfigLoader: reads a YAML config file (CONFIG.md) and turns it into an immutable Config,
// or into the full list of errors, each with file, line and column. Unknown keys are errors
// with a "did you mean" hint. Runs at start-up and on reload, never on the request path.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/config/config_error.h"

namespace dpuguard::proxy {

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when errors is not empty
  std::vector<ConfigError> errors;
  bool ok() const { return config != nullptr; }
};

class ConfigLoader {
 public:
  // Loads and validates `path`.
  static LoadResult loadFile(const std::string& path);
  // Same, from text; `name` is what error lines call the file.
  static LoadResult loadString(const std::string& text, const std::string& name);
};

// Edit distance, for "did you mean" hints.
size_t editDistance(const std::string& a, const std::string& b);

}  // namespace dpuguard::proxy
