// `dpuguard version [--sbom]` (and `dpuguard --version`): the program's version, or the
// CycloneDX JSON SBOM of the Debian packages it was built from (scripts/sbom, recorded when
// the build was configured).
#pragma once

namespace dpuguard::proxy {

// argv after "version"; returns the exit status.
int versionCommand(int argc, char** argv);

}  // namespace dpuguard::proxy
