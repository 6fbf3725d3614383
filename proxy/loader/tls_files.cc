// TLS file checks: open(2) and fstat(2) on each file, before OpenSSL reads it.
#include "proxy/loader/tls_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dpuguard::proxy {
namespace {

// Opens and stats `path`; false with `why` set when it is not a readable regular file.
bool statReadable(const std::string& path, struct stat* st, std::string* why) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    *why = std::strerror(errno);
    return false;
  }
  const bool ok = ::fstat(fd, st) == 0;
  if (!ok) *why = std::strerror(errno);
  ::close(fd);
  if (ok && !S_ISREG(st->st_mode)) {
    *why = "not a regular file";
    return false;
  }
  return ok;
}

}  // namespace

std::string resolveConfigPath(const Context& ctx, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const std::string& file = ctx.file();
  const size_t slash = file.rfind('/');
  return (slash == std::string::npos ? std::string(".") : file.substr(0, slash)) + "/" + path;
}

bool checkReadableFile(Context& ctx, const YAML::Node& at, const std::string& what,
                       const std::string& path) {
  struct stat st {};
  std::string why;
  if (statReadable(path, &st, &why)) return true;
  ctx.error(at.Mark(), what + ": cannot read '" + path + "': " + why);
  return false;
}

std::string privateKeyFileProblem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return "cannot read key_file '" + path + "': " + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return "key_file '" + path + "' is not a regular file";
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return "key_file '" + path + "' is accessible by group or others (mode " + mode +
           "); a private key must be readable by its owner only (chmod 600)";
  }
  return "";
}

std::string writableByOthersProblem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 022) == 0) return "";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return "'" + path + "' is writable by group or others (mode " + mode +
         "): whoever can write it decides who is trusted (chmod go-w)";
}

}  // namespace dpuguard::proxy
