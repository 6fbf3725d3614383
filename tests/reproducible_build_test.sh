#!/usr/bin/env bash
# Reproducible builds: the same commit built in another directory, at another time, gives
# bit-identical dpuguard and dpuguard-host, so the expected measurement (dpuguard measure) can
# be recomputed from the source by anyone. The sources (git ls-files) are copied to a fresh
# directory whose path differs from this tree's, configured like BUILD_DIR (same build type and
# compilers) and built; the programs are compared byte for byte with BUILD_DIR's, and no path
# of either tree may appear in them. On a difference diffoscope (Debian) says where.
# usage: reproducible_build_test.sh SOURCE_DIR BUILD_DIR
set -u
src=$(cd "$1" && pwd) build=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/dpuguard-repro-XXXXXX)
trap 'rm -rf "$work"' EXIT
other="$work/another-checkout-of-dpuguard"
mkdir -p "$other"
(cd "$src" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$other") || exit 1
cache="$build/CMakeCache.txt"
get() { sed -n "s/^$1:[A-Z]*=//p" "$cache"; }
gen=$(get CMAKE_GENERATOR)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || echo 0)}
rel=$(realpath --relative-to="$src" "$build")
sleep 1  # "at another time": anything that embeds a time would show
CC=$(get CMAKE_C_COMPILER) CXX=$(get CMAKE_CXX_COMPILER) cmake -S "$other" -B "$other/$rel" -G "$gen" \
  -DCMAKE_BUILD_TYPE="$(get CMAKE_BUILD_TYPE)" -DDPUGUARD_SANITIZE="$(get DPUGUARD_SANITIZE)" \
  -DDPUGUARD_BENCH=OFF -DDPUGUARD_INTEGRATION=OFF >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
nice cmake --build "$other/$rel" -j "$(nproc)" --target dpuguard dpuguard-host >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
fail=0
for prog in dpuguard dpuguard-host; do
  a="$build/$prog" b="$other/$rel/$prog"
  if cmp -s "$a" "$b"; then
    echo "ok $prog: bit-identical ($(stat -c %s "$a") bytes, sha256 $(sha256sum "$a" | cut -c1-16)) from $src and $other"
  else
    echo "FAIL $prog differs between $src and $other"
    command -v diffoscope >/dev/null && diffoscope --max-report-size 20000 "$a" "$b" | head -60
    fail=1
  fi
  for dir in "$src" "$build" "$other"; do
    if grep -qaF "$dir/" "$a" "$b"; then echo "FAIL $prog embeds the path $dir"; fail=1; fi
  done
done
exit $fail
