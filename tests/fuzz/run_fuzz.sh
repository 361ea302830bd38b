#!/bin/sh
# run_fuzz.sh [SECONDS] - build and run the libFuzzer targets.
#
#   fuzz_esp_parse   src/esp_parse.c
#   fuzz_rw          src/replay_window.c against tests/unit/rw_reference.c
#   fuzz_config      src/config*.c, src/addr.c (+ libconfig, not instrumented)
#   fuzz_engine      a frame sequence through engine_packet()
#   fuzz_pcap_file   a whole capture file through src/pcap_file.c and the engine
#   fuzz_state       the tunnel state file parser (src/tunnel_ids.c), round trip
#   fuzz_vici        a VICI packet through src/vici_msg.c (round trip) and src/vici_sas.c
#
# Each target is built with
#   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# into $FUZZ_OUT (default: a fresh mktemp -d directory), seeded from a copy
# of tests/fuzz/corpus/<target>/ (the checked-in seeds are never modified;
# new inputs go to $FUZZ_OUT/<target>.corpus), and run for SECONDS
# (default 60) with -max_total_time=SECONDS -print_final_stats=1
# -detect_leaks=1.  Crash/leak/timeout reproducers are written to
# $FUZZ_OUT/<target>.artifacts/.
#
# For every target it prints exec/s and the total number of executions
# (from libFuzzer's final stats).  Exit status: 0 if every target ran
# clean; 1 if any target crashed, leaked, reported undefined behaviour or
# a sanitizer error, or printed no final stats; 2 on a usage or build
# error.  Environment: CC (default clang), FUZZ_OUT, FUZZ_JOBS_ARGS (extra
# libFuzzer arguments, e.g. "-rss_limit_mb=4096").
set -u

SECS=${1:-60}
case $SECS in
    ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
[ "$SECS" -ge 1 ] || { echo "$0: SECONDS must be >= 1" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
CC=${CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "$0: $CC not found (apt-get install clang)" >&2
    exit 2
fi
if [ -n "${FUZZ_OUT:-}" ]; then
    OUT=$FUZZ_OUT
    mkdir -p "$OUT" || exit 2
else
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/idt-fuzz.XXXXXX") || exit 2
fi
OUT=$(cd "$OUT" && pwd)

CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
# the configuration loader (config_load_string) and what it uses
CONFIG_SRC="$SRC/src/config.c $SRC/src/config_tunnels.c $SRC/src/config_value.c $SRC/src/config_scan.c $SRC/src/addr.c"
if ! LIBCONFIG=$(pkg-config --cflags --libs libconfig 2>/dev/null); then
    echo "$0: pkg-config cannot find libconfig (apt-get install libconfig-dev pkg-config)" >&2
    exit 2
fi

# make the sanitizers fatal and loud (a UBSan report aborts the run)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}abort_on_error=0:detect_leaks=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

build() {
    t=$1; shift
    echo "== build $t"
    # shellcheck disable=SC2086
    if ! "$CC" $CFLAGS -I"$SRC/src" -I"$SRC" "$@" -o "$OUT/$t" >"$OUT/$t.build.log" 2>&1; then
        cat "$OUT/$t.build.log" >&2
        echo "$0: building $t failed" >&2
        exit 2
    fi
}

build fuzz_esp_parse "$SRC/src/esp_parse.c" "$SRC/tests/fuzz/fuzz_esp_parse.c"
build fuzz_rw -I"$SRC/tests/unit" "$SRC/src/replay_window.c" "$SRC/tests/unit/rw_reference.c" \
    "$SRC/tests/fuzz/fuzz_rw.c"
# shellcheck disable=SC2086
build fuzz_config $CONFIG_SRC "$SRC/tests/fuzz/fuzz_config.c" $LIBCONFIG
# shellcheck disable=SC2086
build fuzz_engine "$SRC/src/engine.c" "$SRC/src/esp_parse.c" "$SRC/src/sa_table.c" \
    "$SRC/src/replay_window.c" "$SRC/src/tunnel_table.c" "$SRC/src/tunnel_ids.c" "$SRC/src/alert.c" \
    "$SRC/src/idle_wheel.c" "$SRC/src/engine_ike.c" $CONFIG_SRC "$SRC/tests/fuzz/fuzz_engine.c" $LIBCONFIG
# shellcheck disable=SC2086
build fuzz_pcap_file "$SRC/src/pcap_file.c" "$SRC/src/engine.c" "$SRC/src/esp_parse.c" \
    "$SRC/src/sa_table.c" "$SRC/src/replay_window.c" "$SRC/src/tunnel_table.c" \
    "$SRC/src/tunnel_ids.c" "$SRC/src/alert.c" "$SRC/src/idle_wheel.c" "$SRC/src/engine_ike.c" $CONFIG_SRC \
    "$SRC/tests/fuzz/fuzz_pcap_file.c" \
    $LIBCONFIG
# shellcheck disable=SC2086
build fuzz_state "$SRC/src/tunnel_ids.c" "$SRC/src/tunnel_table.c" "$SRC/src/alert.c" \
    "$SRC/src/idle_wheel.c" $CONFIG_SRC "$SRC/tests/fuzz/fuzz_state.c" $LIBCONFIG
build fuzz_vici "$SRC/src/vici_msg.c" "$SRC/src/vici_sas.c" "$SRC/src/ike_view.c" "$SRC/src/addr.c" \
    "$SRC/tests/fuzz/fuzz_vici.c"

status=0
summary=""
for t in fuzz_esp_parse fuzz_rw fuzz_config fuzz_engine fuzz_pcap_file fuzz_state fuzz_vici; do
    seeds="$SRC/tests/fuzz/corpus/$t"
    work="$OUT/$t.corpus"
    art="$OUT/$t.artifacts"
    log="$OUT/$t.log"
    mkdir -p "$work" "$art"
    if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
        echo "$0: no seed corpus in $seeds" >&2
        status=1
        summary="$summary
$t: FAILED (no seed corpus)"
        continue
    fi
    cp "$seeds"/* "$work"/
    echo "== run $t for ${SECS}s (seeds: $(ls "$seeds" | wc -l) files)"
    # shellcheck disable=SC2086
    "$OUT/$t" -max_total_time="$SECS" -print_final_stats=1 -detect_leaks=1 \
        -artifact_prefix="$art/" ${FUZZ_JOBS_ARGS:-} "$work" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    rss=$(sed -n 's/^stat::peak_rss_mb:[[:space:]]*\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*ft: \([0-9]*\).*/cov \1 ft \2/p')
    problems=""
    [ "$rc" -eq 0 ] || problems="$problems exit=$rc"
    grep -q 'ERROR: ' "$log" && problems="$problems ERROR"
    grep -q 'runtime error' "$log" && problems="$problems runtime-error(UB)"
    grep -q 'LeakSanitizer' "$log" && problems="$problems leak"
    grep -q 'deadly signal\|Test unit written to' "$log" && problems="$problems crash"
    [ -n "$execs" ] || problems="$problems no-final-stats"
    line="$t: ${rate:-?} exec/s, ${execs:-?} executions in ${SECS}s, peak RSS ${rss:-?} MB${cov:+, $cov}"
    if [ -n "$problems" ]; then
        status=1
        line="$line  FAILED:$problems (log: $log)"
        echo "---- last lines of $log"
        grep -E 'ERROR: |runtime error|SUMMARY|Test unit written|deadly signal' "$log" | head -n 20
        tail -n 30 "$log"
        echo "----"
    fi
    echo "$line"
    summary="$summary
$line"
done

echo "== summary (output in $OUT)$summary"
exit $status
