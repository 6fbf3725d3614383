// measureSnapshot: the measurement log (attest/measurement_log.h) of a loaded config, in a
// fixed order, the same from `dpuguard measure` and from the running process:
//   executable              /proc/self/exe (its resolved path)
//   config                  the config's canonical form (canonical_yaml.h), then the files the
//   api_keys baseline rules loader parsed, in the order it read them (Config::measured)
//   tls_cert tls_public_key per listener with TLS: each certificate file, the public half of
//   tls_client_ca           each private key (never the key), the client-certificate CA bundle
//   upstream_ca upstream_cert upstream_public_key   the same per cluster with TLS
//   attestation_public_key  the public half of the device key that signs the quotes
// Start-up and reload only: the TLS files are read here at each call, the executable once per
// process.
#pragma once

#include <string>

#include "attest/measurement_log.h"
#include "proxy/config/config.h"

namespace dpuguard::proxy {

// False with *why when a file cannot be read (or the log is full).
bool measureSnapshot(const Config& c, attest::MeasurementLog* log, std::string* why);

}  // namespace dpuguard::proxy
