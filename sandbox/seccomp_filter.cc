// installSeccompFilter: one libseccomp rule per allowlist entry; names this architecture does
// not have (open, poll on aarch64) are skipped.
#include "sandbox/seccomp_filter.h"

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace dpuguard::sandbox {
namespace {

using Check = SyscallRule::Check;

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

int addRule(scmp_filter_ctx ctx, const SyscallRule& rule, int nr) {
  const unsigned arg = rule.arg;
  switch (rule.check) {
    case Check::kNone:
      return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    case Check::kNoExecProt:
      return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                              SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    case Check::kThreadClone:
      return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    case Check::kEnosys:
      return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    case Check::kReadOnlyOpen: {
      constexpr uint64_t kWriting = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE;
      return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, kWriting, 0));
    }
    case Check::kSocketFamily:
      for (const int family : {AF_INET, AF_INET6, AF_UNIX}) {
        const int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                        SCMP_A0(SCMP_CMP_EQ, static_cast<uint64_t>(family)));
        if (rc != 0 && rc != -EEXIST) return rc;
      }
      return 0;
    case Check::kEquals:
      return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_CMP(arg, SCMP_CMP_EQ, rule.value));
    case Check::kNullArg:
      return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_CMP(arg, SCMP_CMP_EQ, 0));
  }
  return -EINVAL;
}

}  // namespace

const char* modeName(Mode m) {
  switch (m) {
    case Mode::kOff:
      return "off";
    case Mode::kAudit:
      return "audit";
    case Mode::kEnforce:
      return "enforce";
  }
  return "?";
}

bool installSeccompFilter(Role role, Mode mode, std::string* why) {
  if (mode == Mode::kOff) return true;
  const uint32_t off_list = mode == Mode::kEnforce ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_LOG;
  std::unique_ptr<void, ContextDeleter> ctx(seccomp_init(off_list));
  if (!ctx) {
    *why = "seccomp_init failed";
    return false;
  }
  for (const SyscallRule& rule : allowlist(role)) {
    const int nr = seccomp_syscall_resolve_name(rule.name);
    if (nr == __NR_SCMP_ERROR || nr < 0) continue;  // not a call on this architecture
    const int rc = addRule(ctx.get(), rule, nr);
    if (rc != 0 && rc != -EEXIST) {
      *why = std::string("seccomp rule for ") + rule.name + ": " + std::strerror(-rc);
      return false;
    }
  }
  const int rc = seccomp_load(ctx.get());
  if (rc != 0) {
    *why = std::string("seccomp_load (") + roleName(role) + "): " + std::strerror(-rc);
    return false;
  }
  return true;
}

}  // namespace dpuguard::sandbox
