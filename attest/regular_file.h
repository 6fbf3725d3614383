// Regular files, opened without blocking. Every file dpuguard reads by name (config, rules,
// keys, baselines, certificates) is opened O_NONBLOCK and must be a regular file: a FIFO or a
// device given by mistake is refused at once, instead of an open(2) or read(2) that waits for
// a writer forever (and holds a reload, or a check-config, with it).
#pragma once

#include <string>

namespace dpuguard::attest {

// A read-only fd of the regular file `path` (blocking mode restored), or -1 with *why (the
// open's error, or "not a regular file").
int openRegularFile(const std::string& path, std::string* why);

// The whole of the regular file `path`; false with *why.
bool readRegularFile(const std::string& path, std::string* out, std::string* why);

}  // namespace dpuguard::attest
