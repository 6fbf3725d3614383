#!/usr/bin/env bash
# Layer rule (ARCHITECTURE.md): a lower layer never includes a higher one.
#   parsers/ and shm/ never include proxy/, nor each other, nor link dpuguard_proxy.
#   proxy/ subfolders, low -> high (each may include its own folder and those before it):
#     core       event loop, buffers, addresses, transports, JSON escaping
#     config     the snapshot's plain aggregates (Config, Endpoint, EnumName tables), /config
#     tls        OpenSSL: the TLS transport, client and server contexts, session slots
#     telemetry  Outcome, flow records and the flow log, metrics
#     inspect    the inspection pipeline and the exchange inspector, compiled from config
#     router     routes and load balancing
#     host       the DPU end of the shm host channel
#     http       client and upstream sessions
#     admin      the admin server
#     loader     YAML -> Config; it compiles inspect/ objects, so it sits above them, and
#                nothing on the data path may include it (yaml-cpp, exceptions)
#     (root)     proxy/*.{h,cc}: worker, server, main -- the program; nothing includes it
#   A new subfolder (inline/) must be given its place here before it may exist.
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

proxy_order=(core config tls telemetry inspect router host http admin loader)
# FILE:INCLUDE pairs allowed to break the order, each with its reason; none today.
allowed=()
rank() {  # folder -> its index in proxy_order; the root ranks above all; -1 if unplaced
  [ "$1" = "(root)" ] && { echo ${#proxy_order[@]}; return; }
  for i in "${!proxy_order[@]}"; do [ "${proxy_order[$i]}" = "$1" ] && { echo "$i"; return; }; done
  echo -1
}
folder() {  # proxy/x/y.h -> x; proxy/y.h -> (root)
  local rest=${1#proxy/}
  case "$rest" in */*) echo "${rest%%/*}" ;; *) echo "(root)" ;; esac
}
shown() { [ "$1" = "(root)" ] && echo "proxy/ (the program)" || echo "proxy/$1/"; }
for d in "$root"/proxy/*/; do
  f=$(basename "$d")
  if [ "$(rank "$f")" -lt 0 ]; then
    echo "layering violation: proxy/$f/ has no place in the proxy/ layer order (tests/layering_test.sh)"; fail=1
  fi
done
while IFS= read -r hit; do
  file=${hit%%:*}
  file=${file#"$root"/}
  inc=$(printf '%s\n' "$hit" | sed -nE 's/.*#include[[:space:]]*[<"](proxy\/[^">]*)[">].*/\1/p')
  [ -n "$inc" ] || continue
  from=$(folder "$file"); to=$(folder "$inc")
  rf=$(rank "$from"); rt=$(rank "$to")
  [ "$rf" -lt 0 ] && continue  # reported above
  if [ "$rt" -lt 0 ] || [ "$rt" -gt "$rf" ] || { [ "$to" = "(root)" ] && [ "$from" != "(root)" ]; }; then
    ok=0
    for a in "${allowed[@]}"; do [ "$a" = "$file:$inc" ] && ok=1; done
    if [ $ok -eq 0 ]; then
      echo "layering violation: $(shown "$from") includes $(shown "$to") (a higher layer): ${hit#"$root"/}"; fail=1
    fi
  fi
done < <(grep -rnE '#include\s*[<"]proxy/' "$root/proxy" 2>/dev/null)

[ $fail -eq 0 ] && echo "layering ok"
exit $fail
