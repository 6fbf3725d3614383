// ConfigError: one problem in a config file, printed as FILE:LINE:COL: message
// (1-based line and column) so editors and CI annotate the exact spot.
#pragma once

#include <string>

namespace dpuguard::proxy {

struct ConfigError {
  std::string file;
  int line = 0;  // 1-based; 0 = whole file
  int column = 0;
  std::string message;

  std::string toString() const {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  }
};

}  // namespace dpuguard::proxy
