// installSeccompFilter: the calling thread's seccomp-bpf filter for its role
// (syscall_allowlist.h), through libseccomp. Off-list calls: SECCOMP_RET_LOG in audit mode
// (the kernel logs "audit: type=1326 ... comm=<thread> syscall=N" and the call proceeds),
// SECCOMP_RET_KILL_PROCESS in enforce mode (the whole process dies of SIGSYS, logged the same
// way where the kernel logs kill_process, /proc/sys/kernel/seccomp/actions_logged). The filter
// binds the calling thread and the threads it creates afterwards; filters only ever add up.
// Requires no_new_privs (process_sandbox.h sets it) or CAP_SYS_ADMIN.
#pragma once

#include <string>

#include "sandbox/syscall_allowlist.h"

namespace dpuguard::sandbox {

enum class Mode { kOff, kAudit, kEnforce };

const char* modeName(Mode m);

// False with *why when libseccomp or the kernel refuses; kOff installs nothing.
bool installSeccompFilter(Role role, Mode mode, std::string* why);

}  // namespace dpuguard::sandbox
