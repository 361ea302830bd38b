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
# clang-tidy: the checks in .clang-tidy, warnings are errors; the files in
# two halves, one per core
inc=$(net-snmp-config --cflags 2>/dev/null | tr ' ' '\n' | grep '^-I' | tr '\n' ' ')
files=(src/*.c)
half=$(( (${#files[@]} + 1) / 2 ))
logs=$(mktemp -d)
tidy() {   # $1 = log, then the files
    local log=$1; shift
    clang-tidy --quiet "$@" -- -std=gnu11 -Isrc -I"$bdir" $inc "${defs[@]}" -D_GNU_SOURCE \
        $(pkg-config --cflags libpcap libconfig 2>/dev/null) >"$log" 2>&1
}
tidy "$logs/1" "${files[@]:0:half}" & p1=$!
tidy "$logs/2" "${files[@]:half}" & p2=$!
t1=0; t2=0
wait $p1 || t1=1
wait $p2 || t2=1
if [ $t1 -ne 0 ] || [ $t2 -ne 0 ]; then
    cat "$logs/1" "$logs/2" | grep -E "(warning|error):" | head -40; echo "clang-tidy: findings above"; rc=1
else
    echo "clang-tidy: clean"
fi
rm -rf "$logs"
exit $rc
