// The process-wide half of the sandbox (the per-thread half is seccomp_filter.h). Start-up
// calls lockDownProcess once, after binding every socket and before starting any thread:
//   - drops to `user` and `group` (supplementary groups cleared; setresgid then setresuid, and
//     checked: regaining uid 0 must fail);
//   - PR_SET_NO_NEW_PRIVS (no execve can gain privileges; lets unprivileged threads install
//     filters), PR_SET_DUMPABLE 0 (no core, no ptrace attach by same-uid processes, /proc/PID
//     files owned by root), RLIMIT_CORE 0.
// Key material is locked in memory separately (OpenSSL's secure heap, proxy/server.cc).
// Then each thread calls enterRole at its start, the main thread last.
#pragma once

#include <string>

#include "sandbox/seccomp_filter.h"

namespace dpuguard::sandbox {

struct SandboxSettings {
  Mode mode = Mode::kOff;
  std::string user;   // empty: keep the current one
  std::string group;  // empty: the user's primary group (or keep, without a user)
  bool operator==(const SandboxSettings&) const = default;
};

// False with *why (the process must not start). With mode off and no user: does nothing.
bool lockDownProcess(const SandboxSettings& s, std::string* why);

// The mode lockDownProcess was given (kOff before it ran).
Mode processMode();

// Names the thread (dpuguard-<role>, except control, which keeps the process name) and
// installs its role's filter under processMode(). A filter the kernel refuses ends the process
// (exit status 70, one line on stderr): a sandbox that was asked for never silently fails open.
void enterRole(Role role);

}  // namespace dpuguard::sandbox
