#!/usr/bin/env bash
# `dpuguard version --sbom`: valid CycloneDX JSON naming, at the installed version, the Debian
# package of every shared library the built ELF file needs (read back with readelf, resolved
# with ldconfig and dpkg-query independently of scripts/sbom), and llhttp's source package.
# usage: sbom_test.sh DPUGUARD
set -u
bin=$1
sbom=$("$bin" version --sbom) || { echo "FAIL: dpuguard version --sbom exited $?"; exit 1; }
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
cache=$(ldconfig -p)
expect=()
for so in $needed; do
  path=$(awk -v s="$so" '$1 == s && /x86-64/ {print $NF; exit}' <<<"$cache")
  pkg=$(dpkg-query -S "$path" 2>/dev/null || dpkg-query -S "$(readlink -f "$path")")
  expect+=("${pkg%%:*}=$so")
done
expect+=("$(dpkg-query -S /usr/share/llhttp | cut -d: -f1)=sources")
SBOM=$sbom python3 - "${expect[@]}" <<'PY'
import json, os, subprocess, sys
bom = json.loads(os.environ["SBOM"])
fail = 0
def check(ok, what):
    global fail
    print(("ok " if ok else "FAIL ") + what)
    fail |= not ok
check(bom.get("bomFormat") == "CycloneDX" and bom.get("specVersion") == "1.5", "CycloneDX 1.5")
check(bom["metadata"]["component"]["name"] == "dpuguard", "metadata names dpuguard")
comps = {c["name"]: c for c in bom["components"]}
for arg in sys.argv[1:]:
    pkg, what = arg.split("=", 1)
    c = comps.get(pkg)
    if c is None:
        check(False, f"{pkg} ({what}) is in the SBOM")
        continue
    installed = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True,
                               text=True).stdout
    provides = c["properties"][0]["value"].split()
    check(c["version"] == installed and what in provides and c["purl"].startswith(f"pkg:deb/debian/{pkg}@"),
          f"{pkg} {c['version']} provides {what}")
sys.exit(fail)
PY
