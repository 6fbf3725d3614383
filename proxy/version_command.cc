// versionCommand: prints one of two compiled-in strings.
#include "proxy/version_command.h"

#include <cstdio>
#include <cstring>

#include "proxy/sbom.h"

namespace dpuguard::proxy {

int versionCommand(int argc, char** argv) {
  if (argc == 0) {
    std::printf("dpuguard %s (llhttp 8.1.0 strict)\n", kVersion);
    return 0;
  }
  if (argc == 1 && std::strcmp(argv[0], "--sbom") == 0) {
    std::printf("%s\n", kSbomJson);
    return 0;
  }
  std::fprintf(stderr, "usage: dpuguard version [--sbom]\n");
  return 2;
}

}  // namespace dpuguard::proxy
