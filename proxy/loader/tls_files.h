// Checks for the files a TLS setting names (clusters[].tls): resolved against the config
// file's directory, and present and readable now (a private key's mode is checked by
// privateKeyFileProblem, listener_tls_loader.h). Positioned errors; start-up and reload only.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "proxy/loader/map_reader.h"

namespace dpuguard::proxy {

// `path` as the loader uses it: unchanged when absolute, else relative to the directory of the
// config file `ctx` reads (as signatures.files are).
std::string resolveConfigPath(const Context& ctx, const std::string& path);

// True when `path` is a regular file this process can read; else an error at `at`:
// "WHAT: cannot read 'PATH': REASON".
bool checkReadableFile(Context& ctx, const YAML::Node& at, const std::string& what,
                       const std::string& path);

}  // namespace dpuguard::proxy
