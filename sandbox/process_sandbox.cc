// lockDownProcess and enterRole.
#include "sandbox/process_sandbox.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

namespace dpuguard::sandbox {
namespace {

std::atomic<Mode> g_mode{Mode::kOff};

std::string errnoText(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

bool lookUp(const SandboxSettings& s, uid_t* uid, gid_t* gid, std::string* why) {
  std::vector<char> buf(16384);
  if (!s.user.empty()) {
    passwd pw{}, *found = nullptr;
    if (getpwnam_r(s.user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
      *why = "sandbox: no user '" + s.user + "'";
      return false;
    }
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
  }
  if (!s.group.empty()) {
    group gr{}, *found = nullptr;
    if (getgrnam_r(s.group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found) {
      *why = "sandbox: no group '" + s.group + "'";
      return false;
    }
    *gid = gr.gr_gid;
  }
  return true;
}

bool dropCredentials(const SandboxSettings& s, std::string* why) {
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (!lookUp(s, &uid, &gid, why)) return false;
  if (s.user.empty() && s.group.empty()) return true;
  if (geteuid() != 0 && uid == geteuid() && gid == getegid()) return true;  // already them
  if (setgroups(1, &gid) != 0) return (*why = errnoText("sandbox: setgroups")), false;
  if (setresgid(gid, gid, gid) != 0) return (*why = errnoText("sandbox: setresgid")), false;
  if (setresuid(uid, uid, uid) != 0) return (*why = errnoText("sandbox: setresuid")), false;
  if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
    *why = "sandbox: uid 0 could be regained after dropping to '" + s.user + "'";
    return false;
  }
  return true;
}

}  // namespace

bool lockDownProcess(const SandboxSettings& s, std::string* why) {
  if (s.mode == Mode::kOff && s.user.empty() && s.group.empty()) return true;
  // glibc reads /etc/localtime at the first gmtime_r (the flow log's clock, OpenSSL's
  // certificate times): read it now, while files may still be opened, not in a worker.
  tzset();
  if (!dropCredentials(s, why)) return false;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return (*why = errnoText("sandbox: PR_SET_NO_NEW_PRIVS")), false;
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    return (*why = errnoText("sandbox: PR_SET_DUMPABLE")), false;
  const rlimit none{0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) return (*why = errnoText("sandbox: RLIMIT_CORE")), false;
  g_mode.store(s.mode);
  return true;
}

Mode processMode() {
  return g_mode.load();
}

void enterRole(Role role) {
  if (role != Role::kControl) {
    const std::string name = std::string("dpuguard-") + roleName(role);
    prctl(PR_SET_NAME, name.substr(0, 15).c_str(), 0, 0, 0);
  }
  std::string why;
  if (!installSeccompFilter(role, g_mode.load(), &why)) {
    std::fprintf(stderr, "dpuguard: sandbox: cannot confine the %s thread: %s\n", roleName(role),
                 why.c_str());
    std::fflush(stderr);
    _exit(70);
  }
}

}  // namespace dpuguard::sandbox
