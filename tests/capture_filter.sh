#!/bin/sh
# capture_filter.sh - the live capture's kernel filter passes every frame
# that the parser counts as ESP, for every scenario of the generator
# (the checks are in tests/unit/test_capture_filter.c).
set -eu
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
gen="$top_srcdir/tests/gen/espgen.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set --
for sc in $(python3 "$gen" --list); do
    [ "$sc" = bench ] && continue
    python3 "$gen" --scenario "$sc" --out "$tmp/$sc.pcap"
    set -- "$@" "$tmp/$sc.pcap"
done
"$top_builddir/tests/unit/test_capture_filter" "$@"
