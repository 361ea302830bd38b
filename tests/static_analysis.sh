#!/usr/bin/env bash
# cppcheck and clang-tidy over src/ (checks listed in .clang-tidy and below).
# Exit 0 when both are clean.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"
defs=(-DSYSCONFDIR='"/etc"' -DLOCALSTATEDIR='"/var"' -DSBINDIR='"/usr/sbin"' -DSYSTEMDUNITDIR='"/lib/systemd/system"'
      -DSYSUSERSDIR='"/usr/lib/sysusers.d"' -DTMPFILESDIR='"/usr/lib/tmpfiles.d"')
# idt_build.h comes from configure: use the build tree that has it
bdir=""
for d in "${IDT_BUILDDIR:-}" "$top" "$top/_ci" "$top/build"; do
    [ -n "$d" ] && [ -f "$d/idt_build.h" ] && { bdir=$d; break; }
done
[ -n "$bdir" ] || { echo "idt_build.h not found: run configure first (or set IDT_BUILDDIR)"; exit 1; }
rc=0
command -v cppcheck >/dev/null || { echo "cppcheck not found: apt-get install cppcheck"; exit 1; }
command -v clang-tidy >/dev/null || { echo "clang-tidy not found: apt-get install clang-tidy"; exit 1; }
# cppcheck: warning, portability and performance classes (errors are always on)
if ! cppcheck --quiet --enable=warning,portability,performance --std=c11 --inline-suppr \
        --error-exitcode=1 -I src -I "$bdir" "${defs[@]}" --suppress=missingIncludeSystem src/*.c; then
    echo "cppcheck: findings above"; rc=1
else
    echo "cppcheck: clean"
fi
# clang-tidy: the checks in .clang-tidy, warnings are errors
inc=$(net-snmp-config --cflags 2>/dev/null | tr ' ' '\n' | grep '^-I' | tr '\n' ' ')
if ! clang-tidy --quiet src/*.c -- -std=gnu11 -Isrc -I"$bdir" $inc "${defs[@]}" -D_GNU_SOURCE \
        $(pkg-config --cflags libpcap libconfig 2>/dev/null) >clang-tidy.log 2>&1; then
    grep -E "(warning|error):" clang-tidy.log | head -40; echo "clang-tidy: findings above"; rc=1
else
    echo "clang-tidy: clean"
fi
rm -f clang-tidy.log
exit $rc
