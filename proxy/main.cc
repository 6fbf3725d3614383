// dpuguard — HTTP/1.1 inspection proxy for DPUs, in front of inference APIs.
//   dpuguard --config FILE          run
//   dpuguard check-config FILE      validate only: FILE:LINE:COL: message per error, exit 1
//   dpuguard keys add IDENTITY --file FILE   a new API key, printed once (keys_command.h)
//   dpuguard measure --config FILE [--json|--expect]   the measurement log, without starting
//   dpuguard version [--sbom]       the version, or the CycloneDX SBOM (version_command.h)
#include <cstdio>
#include <cstring>
#include <string>

#include "attest/expectation.h"
#include "proxy/keys_command.h"
#include "proxy/loader/config_loader.h"
#include "proxy/loader/snapshot_measurer.h"
#include "proxy/server.h"
#include "proxy/version_command.h"

namespace {

constexpr const char* kUsage =
    "usage: dpuguard --config FILE        run the proxy\n"
    "       dpuguard check-config FILE    validate a config file and exit (0 ok, 1 errors)\n"
    "       dpuguard keys add IDENTITY --file FILE\n"
    "                                     print a new API key once, append its digest to FILE\n"
    "       dpuguard keys attestation-init --file FILE\n"
    "                                     create the device key that signs quotes\n"
    "       dpuguard measure --config FILE [--json | --expect]\n"
    "                                     print the measurement log the running process would\n"
    "                                     have (--expect: as an expectation for dpuguard-host)\n"
    "       dpuguard version [--sbom]   the version, or the CycloneDX SBOM of the Debian\n"
    "                                     packages it was built from\n"
    "signals: SIGHUP reloads the config (a bad file keeps the running one), SIGTERM drains and "
    "exits\n";

int checkConfig(const std::string& path) {
  const dpuguard::proxy::LoadResult r = dpuguard::proxy::ConfigLoader::loadFile(path);
  for (const auto& e : r.errors) std::printf("%s\n", e.toString().c_str());
  if (r.ok()) std::printf("%s: ok\n", path.c_str());
  return r.ok() ? 0 : 1;
}

// `dpuguard measure`: the same log the process builds at start-up (snapshot_measurer.h).
int measure(const std::string& path, const std::string& format) {
  const dpuguard::proxy::LoadResult r = dpuguard::proxy::ConfigLoader::loadFile(path);
  for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.toString().c_str());
  if (!r.ok()) return 1;
  dpuguard::attest::MeasurementLog log;
  std::string why;
  if (!dpuguard::proxy::measureSnapshot(*r.config, &log, &why)) {
    std::fprintf(stderr, "dpuguard measure: %s\n", why.c_str());
    return 1;
  }
  const std::string out = format == "--json"     ? log.json() + "\n"
                          : format == "--expect" ? dpuguard::attest::Expectation::fromLog(log)
                                                 : log.text();
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "check-config") == 0) return checkConfig(argv[2]);
  if (argc >= 2 && std::strcmp(argv[1], "keys") == 0)
    return dpuguard::proxy::keysCommand(argc - 2, argv + 2);
  if (argc >= 4 && argc <= 5 && std::strcmp(argv[1], "measure") == 0 &&
      std::strcmp(argv[2], "--config") == 0) {
    const std::string format = argc == 5 ? argv[4] : "";
    if (format.empty() || format == "--json" || format == "--expect")
      return measure(argv[3], format);
  }
  if (argc == 3 && std::strcmp(argv[1], "--config") == 0) {
    dpuguard::proxy::Server server(argv[2]);
    return server.run();
  }
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0)
    return dpuguard::proxy::versionCommand(0, argv + 2);
  if (argc >= 2 && std::strcmp(argv[1], "version") == 0)
    return dpuguard::proxy::versionCommand(argc - 2, argv + 2);
  std::fputs(kUsage, argc == 2 && std::strcmp(argv[1], "--help") == 0 ? stdout : stderr);
  return argc == 2 && std::strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
