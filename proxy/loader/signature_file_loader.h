// Reads a DPI rule file (config/rules/*.yaml):
//
//   rules:
//     - id: dpg-pt-001                 # letters, digits, '-', '_'; unique across all files
//       pattern: '(?:\.\.|%2e%2e)[/\\]' # Vectorscan (PCRE subset), matched case-insensitively
//       where: [path, query]           # path, query, header, body, prompt
//       action: block                  # block (403) or alert (logged, counted, passed)
//       severity: high                 # low, medium, high, critical
//       caseless: true                 # default true
//
// Every problem is a ConfigError at its file:line:col. Patterns are compiled later, all
// files together, by SignatureSet::compile.
#pragma once

#include <string>
#include <vector>

#include "proxy/config/config_error.h"
#include "proxy/inspect/signature_set.h"

namespace dpuguard::proxy {

std::vector<inspect::Signature> loadSignatureText(const std::string& text, const std::string& file,
                                                  std::vector<ConfigError>* errors);
// `text_read`, when given, receives the bytes parsed (for the measurement log).
std::vector<inspect::Signature> loadSignatureFile(const std::string& path,
                                                  std::vector<ConfigError>* errors,
                                                  std::string* text_read = nullptr);

}  // namespace dpuguard::proxy
