// The sandbox's filters, installed through the library's own functions (lockDownProcess, then
// enterRole) in a forked child: a call off the role's list kills the process with SIGSYS in
// enforce mode, is only logged in audit mode, and the calls the role needs go through.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "sandbox/process_sandbox.h"

namespace dpuguard::sandbox {
namespace {

// In the death-test child: the process half, then the role's filter.
void confine(Role role, Mode mode) {
  SandboxSettings s;
  s.mode = mode;
  std::string why;
  if (!lockDownProcess(s, &why)) _exit(90);
  enterRole(role);
}

[[noreturn]] void execveIn(Role role, Mode mode, const char* path) {
  confine(role, mode);
  char* const argv[] = {const_cast<char*>(path), nullptr};
  const int rc = execve(path, argv, nullptr);
  _exit(rc == -1 && errno == ENOENT ? 0 : 4);
}

std::string scratchPath() {
  return ::testing::TempDir() + "sandbox-test-" + std::to_string(getpid()) + ".out";
}

using SeccompDeathTest = ::testing::Test;

TEST(SeccompDeathTest, WorkerDiesOnExecve) {
  EXPECT_EXIT(execveIn(Role::kWorker, Mode::kEnforce, "/bin/true"),
              ::testing::KilledBySignal(SIGSYS), "");
}

TEST(SeccompDeathTest, WorkerDiesOnPtrace) {
  EXPECT_EXIT(
      {
        confine(Role::kWorker, Mode::kEnforce);
        ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
        _exit(1);
      },
      ::testing::KilledBySignal(SIGSYS), "");
}

TEST(SeccompDeathTest, WorkerDiesOpeningANewFileForWriting) {
  const std::string path = scratchPath();
  EXPECT_EXIT(
      {
        confine(Role::kWorker, Mode::kEnforce);
        const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        _exit(fd >= 0 ? 1 : 2);
      },
      ::testing::KilledBySignal(SIGSYS), "");
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "the file was created";
}

TEST(SeccompDeathTest, NoRoleMapsMemoryExecutable) {
  for (const Role role : kAllRoles) {
    EXPECT_EXIT(
        {
          confine(role, Mode::kEnforce);
          mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          _exit(1);
        },
        ::testing::KilledBySignal(SIGSYS), "")
        << roleName(role);
  }
}

TEST(SeccompDeathTest, WorkerCannotForkOrOpenOtherSocketFamilies) {
  EXPECT_EXIT(
      {
        confine(Role::kWorker, Mode::kEnforce);
        syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);  // fork: no CLONE_THREAD
        _exit(1);
      },
      ::testing::KilledBySignal(SIGSYS), "");
  EXPECT_EXIT(
      {
        confine(Role::kWorker, Mode::kEnforce);
        socket(AF_NETLINK, SOCK_RAW, 0);
        _exit(1);
      },
      ::testing::KilledBySignal(SIGSYS), "");
}

TEST(SeccompDeathTest, AdminCannotConnectOut) {
  EXPECT_EXIT(
      {
        confine(Role::kAdmin, Mode::kEnforce);
        socket(AF_INET, SOCK_STREAM, 0);
        _exit(1);
      },
      ::testing::KilledBySignal(SIGSYS), "");
}

TEST(SeccompDeathTest, WorkerDoesItsWork) {
  EXPECT_EXIT(
      {
        confine(Role::kWorker, Mode::kEnforce);
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        void* p =
            mmap(nullptr, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        const bool ok = fd >= 0 && p != MAP_FAILED && close(fd) == 0 && munmap(p, 1 << 16) == 0;
        _exit(ok ? 0 : 3);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(SeccompDeathTest, AuditModeLogsButLetsTheCallThrough) {
  EXPECT_EXIT(execveIn(Role::kWorker, Mode::kAudit, "/nonexistent/dpuguard-sandbox-test"),
              ::testing::ExitedWithCode(0), "");
}

TEST(SandboxTest, LockDownSetsNoNewPrivsAndNotDumpable) {
  EXPECT_EXIT(
      {
        SandboxSettings s;
        s.mode = Mode::kAudit;
        std::string why;
        if (!lockDownProcess(s, &why)) _exit(90);
        const bool ok = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 &&
                        prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 && processMode() == Mode::kAudit;
        _exit(ok ? 0 : 5);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(SandboxTest, UnknownUserIsRefused) {
  SandboxSettings s;
  s.user = "dpuguard-no-such-user-x";
  std::string why;
  EXPECT_FALSE(lockDownProcess(s, &why));
  EXPECT_NE(why.find("no user 'dpuguard-no-such-user-x'"), std::string::npos) << why;
}

TEST(SandboxTest, AllowlistsAreSmallAndDiffer) {
  for (const Role role : kAllRoles) {
    EXPECT_GT(allowlistSize(role), 30u) << roleName(role);
    EXPECT_LT(allowlistSize(role), 120u) << roleName(role);
  }
  EXPECT_LT(allowlistSize(Role::kAdmin), allowlistSize(Role::kWorker));
}

}  // namespace
}  // namespace dpuguard::sandbox
