#!/usr/bin/env bash
# The shipped programs are built hardened (CMakeLists.txt): read back from the ELF files with
# readelf, so a flag lost in a later CMake change fails here.
#   PIE                 ELF type DYN and DT_FLAGS_1 PIE
#   full RELRO          a GNU_RELRO segment and BIND_NOW (DT_FLAGS NOW / DT_FLAGS_1 NOW)
#   no exec stack       GNU_STACK RW, not RWE
#   stack protector     the binary calls __stack_chk_fail
#   _FORTIFY_SOURCE     checked variants (__*_chk) are called (optimised, unsanitized builds)
#   CET                 every object file of ours carries the x86 feature note IBT + SHSTK
#                       (-fcf-protection=full). The linked ELF cannot: Debian 12's Scrt1.o
#                       has no such note (glibc is not built with CET), and ld keeps the
#                       note only when every input has it.
#   stack clash         -fstack-clash-protection on every compile line (no ELF marker exists)
# usage: hardening_test.sh BUILD_DIR FORTIFY(0|1) ELF...
set -u
build=$1 fortify=$2
shift 2
fail=0
bad() { echo "FAIL $1: $2"; fail=1; }
for elf in "$@"; do
  [ -f "$elf" ] || { bad "$elf" "missing"; continue; }
  name=$(basename "$elf")
  hdr=$(readelf -hW "$elf") dyn=$(readelf -dW "$elf") seg=$(readelf -lW "$elf")
  syms=$(readelf --dyn-syms -W "$elf")
  grep -q 'Type:.*DYN' <<<"$hdr" && grep -q 'FLAGS_1.*PIE' <<<"$dyn" || bad "$name" "not PIE"
  grep -q 'GNU_RELRO' <<<"$seg" || bad "$name" "no GNU_RELRO segment"
  grep -qE '\(FLAGS\).*BIND_NOW|FLAGS_1.*NOW' <<<"$dyn" || bad "$name" "no BIND_NOW (partial RELRO)"
  grep -E 'GNU_STACK' <<<"$seg" | grep -q 'RWE' && bad "$name" "executable stack"
  grep -q '__stack_chk_fail' <<<"$syms" || bad "$name" "no stack protector (__stack_chk_fail)"
  if [ "$fortify" = 1 ]; then
    n=$(grep -cE ' __[a-z_]+_chk(@|$)' <<<"$syms")
    [ "$n" -gt 0 ] || bad "$name" "no _FORTIFY_SOURCE checked calls"
  fi
  [ $fail = 0 ] && echo "ok $name: PIE, full RELRO, NX stack, stack protector$([ "$fortify" = 1 ] && echo ", fortify ($n checked calls)")"
done
objects=$(find "$build" -name '*.o' \( -path '*dpuguard_*' -o -path '*llhttp*' -o -path '*dpuguard-host*' \))
[ -n "$objects" ] || bad "$build" "no object files"
unmarked=0
for o in $objects; do
  readelf -nW "$o" | grep -q 'IBT, SHSTK' || { unmarked=$((unmarked + 1)); echo "no CET note: $o"; }
done
[ "$unmarked" = 0 ] && echo "ok CET: $(wc -w <<<"$objects") object files marked IBT, SHSTK" || bad CET "$unmarked object files unmarked"
cc="$build/compile_commands.json"
if [ -f "$cc" ]; then
  missing=$(grep '"command"' "$cc" | grep -vc -- '-fstack-clash-protection')
  [ "$missing" = 0 ] || bad "compile_commands.json" "$missing compile lines without -fstack-clash-protection"
else
  bad "$cc" "missing"
fi
exit $fail
