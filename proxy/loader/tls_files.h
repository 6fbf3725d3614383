// Checks for the files a TLS or identity setting names (listeners[].tls, clusters[].tls, the
// API-key file): resolved against the config file's directory, present and readable now, a
// private key readable by its owner only (as sshd refuses such keys), and what decides who is
// trusted not writable by others. Start-up and reload only.
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

// "" when `path` is a private key file only its owner can read, else why not.
std::string privateKeyFileProblem(const std::string& path);
// "" unless `path` (a CA bundle, the API-key file: what decides who is trusted) is writable by
// group or others.
std::string writableByOthersProblem(const std::string& path);

}  // namespace dpuguard::proxy
