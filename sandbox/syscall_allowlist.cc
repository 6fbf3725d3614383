// The allowlists, built once: a base every thread needs (memory, time, futexes, its event
// loop), then each role's own calls.
#include "sandbox/syscall_allowlist.h"

#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <set>
#include <string>

namespace dpuguard::sandbox {
namespace {

using Check = SyscallRule::Check;

// Every role: the allocator, the clock, futexes, signals' return, epoll and eventfd, and the
// fd calls an event loop makes on descriptors it already holds.
const std::vector<SyscallRule> kBase = {
    {"read"},
    {"write"},
    {"readv"},
    {"writev"},
    {"close"},
    {"fstat"},
    {"newfstatat"},
    {"lseek"},
    {"fcntl"},
    {"mmap", Check::kNoExecProt, 2},
    {"mprotect", Check::kNoExecProt, 2},
    {"munmap"},
    {"mremap"},
    {"madvise"},
    {"brk"},
    {"futex"},
    {"set_robust_list"},
    {"rseq"},
    {"sched_yield"},
    {"sched_getaffinity"},
    {"getpid"},
    {"gettid"},
    {"clock_gettime"},
    {"clock_getres"},
    {"gettimeofday"},
    {"clock_nanosleep"},
    {"nanosleep"},
    {"rt_sigprocmask"},
    {"rt_sigreturn"},
    {"restart_syscall"},
    {"exit"},
    {"exit_group"},
    {"getrandom"},
    {"epoll_create1"},
    {"epoll_ctl"},
    {"epoll_wait"},
    {"epoll_pwait"},
    {"eventfd2"},
    {"poll"},
    {"ppoll"},
    {"getrusage"},
    {"tgkill"},  // abort() raises
    {"prctl", Check::kEquals, 0, PR_SET_NAME},
    {"prctl", Check::kEquals, 0, PR_GET_NAME},
    {"prlimit64", Check::kNullArg, 2},  // getrlimit(RLIMIT_NOFILE): the accept reserve
};

// TCP both ways, TLS, host links: a unix socket passing memfd rings and eventfds; the host's
// ring is reopened read-only through /proc/self/fd (shm/sealed_region.cc) and its wake fd
// checked with readlink (shm/channel_end.cc), hence read-only openat.
const std::vector<SyscallRule> kWorker = {
    {"accept"},
    {"accept4"},
    {"socket", Check::kSocketFamily},
    {"connect"},
    {"setsockopt"},
    {"getsockopt"},
    {"getsockname"},
    {"getpeername"},
    {"sendto"},
    {"recvfrom"},
    {"sendmsg"},
    {"recvmsg"},
    {"shutdown"},
    {"ioctl", Check::kEquals, 1, FIONREAD},
    {"memfd_create"},
    {"ftruncate"},
    {"openat", Check::kReadOnlyOpen},
    {"readlink"},
};

const std::vector<SyscallRule> kAdmin = {
    {"accept"},      {"accept4"}, {"setsockopt"}, {"getsockopt"}, {"getsockname"},
    {"getpeername"}, {"sendto"},  {"recvfrom"},   {"shutdown"},
};

// The flow-log writer (a file, stderr or a unix datagram socket) and health probes (TCP).
const std::vector<SyscallRule> kTelemetry = {
    {"socket", Check::kSocketFamily},
    {"connect"},
    {"setsockopt"},
    {"getsockopt"},
    {"getsockname"},
    {"getpeername"},
    {"sendto"},
    {"recvfrom"},
    {"shutdown"},
};

// Reloads read files and may open a new flow log; learn mode writes its baseline (a .tmp file
// renamed into place); drain starts a timer thread; SIGHUP/SIGTERM are taken synchronously.
const std::vector<SyscallRule> kControl = {
    {"openat"},
    {"readlink"},
    {"readlinkat"},
    {"getdents64"},
    {"statx"},
    {"access"},
    {"faccessat"},
    {"faccessat2"},
    {"rename"},
    {"renameat"},
    {"renameat2"},
    {"unlink"},
    {"unlinkat"},
    {"fsync"},
    {"fdatasync"},
    {"ftruncate"},
    {"clone", Check::kThreadClone},
    {"clone3", Check::kEnosys},
    {"rt_sigtimedwait"},
    {"rt_sigaction"},
    {"sigaltstack"},
    {"mlock"},
    {"munlock"},
    {"socket", Check::kSocketFamily},
    {"connect"},
    {"setsockopt"},
    {"getsockopt"},
    {"getsockname"},
    {"sendto"},
    {"shutdown"},
    {"dup"},
    {"pipe2"},
    {"sched_getparam"},
    {"sched_getscheduler"},
    {"uname"},
    {"sysinfo"},
    {"getcwd"},
};

#ifdef DPUGUARD_SANITIZER_RUNTIME
// ASan/UBSan/TSan builds only (never the shipped program): reports read /proc/self/maps and
// symbolize; LeakSanitizer stops the world at exit from the main thread with a ptrace-ing
// helper (clone without CLONE_THREAD), sanitizer threads set alternate signal stacks, and the
// runtime probes whether memory is readable through a pipe (pipe2: the only call the whole
// ASan integration suite made off the plain build's lists, in audit mode, per dmesg).
const std::vector<SyscallRule> kSanitizerEveryRole = {
    {"pipe2"},        {"openat", Check::kReadOnlyOpen},
    {"readlink"},     {"sigaltstack"},
    {"rt_sigaction"}, {"getppid"},
    {"getuid"},       {"geteuid"},
    {"prctl"},
};
const std::vector<SyscallRule> kSanitizerControl = {
    {"clone"}, {"ptrace"}, {"wait4"}, {"waitpid"}, {"kill"}, {"process_vm_readv"},
};
#endif

std::vector<SyscallRule> build(Role r) {
  std::vector<SyscallRule> out = kBase;
  const std::vector<SyscallRule>* own = r == Role::kWorker    ? &kWorker
                                        : r == Role::kAdmin   ? &kAdmin
                                        : r == Role::kControl ? &kControl
                                                              : &kTelemetry;
  out.insert(out.end(), own->begin(), own->end());
#ifdef DPUGUARD_SANITIZER_RUNTIME
  out.insert(out.end(), kSanitizerEveryRole.begin(), kSanitizerEveryRole.end());
  if (r == Role::kControl)
    out.insert(out.end(), kSanitizerControl.begin(), kSanitizerControl.end());
#endif
  return out;
}

}  // namespace

const char* roleName(Role r) {
  switch (r) {
    case Role::kControl:
      return "control";
    case Role::kWorker:
      return "worker";
    case Role::kAdmin:
      return "admin";
    case Role::kTelemetry:
      return "telemetry";
  }
  return "?";
}

const std::vector<SyscallRule>& allowlist(Role r) {
  static const std::vector<SyscallRule> lists[] = {build(Role::kControl), build(Role::kWorker),
                                                   build(Role::kAdmin), build(Role::kTelemetry)};
  return lists[static_cast<size_t>(r)];
}

size_t allowlistSize(Role r) {
  std::set<std::string> names;
  for (const SyscallRule& rule : allowlist(r))
    if (rule.check != Check::kEnosys) names.insert(rule.name);
  return names.size();
}

}  // namespace dpuguard::sandbox
