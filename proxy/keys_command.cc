// `dpuguard keys add`: a new key, shown once, its digest appended to the key file.
#include "proxy/keys_command.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "attest/device_key.h"
#include "proxy/inspect/api_key_table.h"

namespace dpuguard::proxy {
namespace {

using inspect::ApiKeyTable;

constexpr const char* kUsage =
    "usage: dpuguard keys add IDENTITY --file FILE\n"
    "  prints a new API key once and appends its SHA-256 digest with IDENTITY to FILE\n"
    "  (the config's api_keys.file; created 0600). Reload dpuguard (SIGHUP) to use it.\n"
    "       dpuguard keys attestation-init --file FILE\n"
    "  creates the Ed25519 device key that signs quotes (attestation.key_file; 0600, never\n"
    "  over an existing file) and its public half FILE.pub for the verifier\n";

constexpr std::string_view kHeader =
    "# dpuguard API keys (api_keys.file): one key per line, 'sha256:<hex digest> IDENTITY'.\n"
    "# Only digests are kept here: a key is shown once, by 'dpuguard keys add'. To revoke a\n"
    "# key, delete its line and reload (SIGHUP).\n";

int fail(const std::string& what) {
  std::fprintf(stderr, "dpuguard keys: %s\n", what.c_str());
  return 1;
}

bool readAll(int fd, std::string& out) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, static_cast<size_t>(n));
  }
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string utcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return when;
}

int keysAdd(const std::string& identity, const std::string& file) {
  if (!ApiKeyTable::validIdentity(identity)) {
    std::fprintf(stderr,
                 "dpuguard keys: an identity is 1-%zu printable ASCII bytes without "
                 "spaces or '#'\n",
                 ApiKeyTable::kMaxIdentityBytes);
    return 2;
  }
  const int fd = ::open(file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot open " + file + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::flock(fd, LOCK_EX) != 0) return fail("cannot lock " + file + ": " + std::strerror(errno));
  std::string text;
  if (!readAll(fd, text)) return fail("cannot read " + file + ": " + std::strerror(errno));
  std::vector<ConfigError> errors;
  const auto table = ApiKeyTable::parse(text, file, &errors);
  if (!errors.empty()) {
    for (const ConfigError& e : errors) std::fprintf(stderr, "%s\n", e.toString().c_str());
    return fail(file + " has errors: fix them first (nothing was added)");
  }
  std::string key;
  if (!ApiKeyTable::generateKey(key)) return fail("no random bytes from libcrypto");
  ApiKeyTable::Digest digest{};
  if (!ApiKeyTable::digest(key, digest)) return fail("libcrypto could not hash the key");
  std::string line;
  if (text.empty()) line.append(kHeader);
  if (!text.empty() && text.back() != '\n') line.push_back('\n');
  line.append(ApiKeyTable::digestText(digest))
      .append(" ")
      .append(identity)
      .append("  # added ")
      .append(utcNow())
      .append("\n");
  if (!writeAll(fd, line) || ::fsync(fd) != 0)
    return fail("cannot write " + file + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
    std::fprintf(stderr, "dpuguard keys: note: %s is readable or writable by others (mode %o)\n",
                 file.c_str(), st.st_mode & 0777);
  }
  std::printf("%s\n", key.c_str());
  std::fflush(stdout);
  OPENSSL_cleanse(key.data(), key.size());
  std::fprintf(
      stderr,
      "dpuguard keys: added a key for %s to %s (%zu in the file). It is shown only this once: "
      "the file keeps its digest. Reload dpuguard (SIGHUP) to use it.\n",
      identity.c_str(), file.c_str(), table->size() + 1);
  return 0;
}

}  // namespace

int attestationInit(const std::string& file) {
  std::string why;
  if (!attest::DeviceKey::create(file, file + ".pub", &why)) return fail(why);
  std::printf("device key %s (0600), public key %s: give the public key to the verifier\n",
              file.c_str(), (file + ".pub").c_str());
  return 0;
}

int keysCommand(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() == 3 && args[0] == "attestation-init" && args[1] == "--file")
    return attestationInit(args[2]);
  if (args.size() == 4 && args[0] == "add" && args[2] == "--file") return keysAdd(args[1], args[3]);
  if (args.size() == 4 && args[0] == "add" && args[1] == "--file") return keysAdd(args[3], args[2]);
  std::fputs(kUsage, stderr);
  return 2;
}

}  // namespace dpuguard::proxy
