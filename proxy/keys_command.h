// `dpuguard keys ...`: the API-key file's command line (api_keys.file, ApiKeyTable).
//   dpuguard keys add IDENTITY --file FILE
//   dpuguard keys attestation-init --file FILE   the Ed25519 device key (attestation.key_file)
// prints a new random key once on stdout and appends only its SHA-256 digest to FILE (created
// 0600 when missing), under an exclusive lock; a FILE that does not parse is left untouched.
#pragma once

namespace dpuguard::proxy {

// argv[0] is the word after "keys". Returns the process's exit status: 0 added, 1 the file
// could not be read, parsed or written, 2 a usage error.
int keysCommand(int argc, char** argv);

}  // namespace dpuguard::proxy
