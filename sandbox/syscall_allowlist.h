// The system calls each thread role of dpuguard may make once it runs (SECURITY.md, "The
// sandbox"). Everything else is off the list: logged in `sandbox: audit`, fatal to the whole
// process in `sandbox: enforce`. Roles differ where the work does:
//   control    the main thread: signals, reloads (reads config, rule, key files; opens the flow
//              log), the learned baseline (writes a file), thread start-up and drain
//   worker     the event loops: accepted and upstream sockets, TLS, host links (a memfd ring
//              passed over a unix socket), flow-log records handed to the writer
//   admin      the admin port's event loop: accept, read, answer
//   telemetry  the flow-log writer (a file or a unix datagram socket) and the health checker
//              (TCP probes)
// No role may execve, fork (clone without CLONE_THREAD), ptrace, map memory executable, load
// modules or change its credentials; only control creates threads and opens files for
// writing (workers open read-only: the host's ring through /proc/self/fd).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dpuguard::sandbox {

enum class Role { kControl, kWorker, kAdmin, kTelemetry };

inline constexpr Role kAllRoles[] = {Role::kControl, Role::kWorker, Role::kAdmin, Role::kTelemetry};

const char* roleName(Role r);

// One entry of an allowlist. `check` narrows an allowed call by one argument; a call that
// fails the check is off the list.
struct SyscallRule {
  enum class Check : uint8_t {
    kNone,
    kNoExecProt,    // arg `arg` (mmap/mprotect prot) without PROT_EXEC
    kThreadClone,   // clone flags include CLONE_THREAD: threads, never processes
    kEnosys,        // answered ENOSYS, not allowed (clone3: glibc falls back to clone)
    kReadOnlyOpen,  // openat flags without write, create, truncate or append
    kSocketFamily,  // socket(AF_INET | AF_INET6 | AF_UNIX, ...)
    kEquals,        // arg `arg` == value
    kNullArg,       // arg `arg` == 0 (prlimit64 reading, never setting, a limit)
  };
  const char* name;
  Check check = Check::kNone;
  uint8_t arg = 0;
  uint64_t value = 0;
};

const std::vector<SyscallRule>& allowlist(Role r);

// Distinct system calls a role may make (kEnosys entries are not counted).
size_t allowlistSize(Role r);

}  // namespace dpuguard::sandbox
