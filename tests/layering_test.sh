#!/usr/bin/env bash
# Layer rule (ARCHITECTURE.md): parsers/ and shm/ never include proxy/, nor each other.
set -u
root=${1:-.}
fail=0
check() {  # dir forbidden-prefix
  hits=$(grep -rnE "#include\s*[<\"]$2/" "$root/$1" 2>/dev/null)
  if [ -n "$hits" ]; then echo "layering violation: $1/ includes $2/:"; echo "$hits"; fail=1; fi
}
check parsers proxy; check parsers shm; check shm proxy; check shm parsers
# The libraries must also not link upward.
if grep -nE 'dpuguard_proxy' "$root/parsers/CMakeLists.txt" "$root/shm/CMakeLists.txt"; then
  echo "layering violation: parsers/ or shm/ links dpuguard_proxy"; fail=1
fi
[ $fail -eq 0 ] && echo "layering ok"
exit $fail
