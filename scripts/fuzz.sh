#!/bin/sh
# Fuzzing and fault injection. See docs/reliability.md.
#
#   scripts/fuzz.sh          every libFuzzer target for FUZZ_SECONDS (60) each,
#                            then the fault-injection suite, heavy settings
#   scripts/fuzz.sh smoke    ~5 s per target and the light fault suite
#                            (what `make test` runs; about a minute)
#   scripts/fuzz.sh replay   only replay the seed corpora and regressions
#
# Environment: FUZZ_SECONDS, FUZZ_TARGETS (space-separated subset of
# protocol patch merge json names), FAULT_KILLS (SIGKILL rounds),
# FAULT_CYCLES (connect/disconnect cycles), SKIP_FAULT=1, SKIP_FUZZ=1.
# Exit status is non-zero on any crash, failed property or failed fault test.
# A finding is saved as build-fuzz/findings/<target>-crash-<sha1>; copy it
# to tests/fuzz/regressions/<target>/ once fixed.
set -u
cd "$(dirname "$0")/.."
mode=${1:-full}
case $mode in
  smoke) secs=${FUZZ_SECONDS:-5}; kills=${FAULT_KILLS:-30}; cycles=${FAULT_CYCLES:-1500} ;;
  full) secs=${FUZZ_SECONDS:-60}; kills=${FAULT_KILLS:-300}; cycles=${FAULT_CYCLES:-5000} ;;
  replay) secs=0; kills=0; cycles=0 ;;
  *) echo "usage: $0 [smoke|full|replay]" >&2; exit 2 ;;
esac
BUILD=${BUILD:-build}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
targets=${FUZZ_TARGETS:-protocol patch merge json names}
JOBS=${JOBS:-2}
status=0
summary=""

note() { echo "fuzz.sh: $*"; }

# The plain build: the server, the shim and the replay drivers.
if ! { cmake -S . -B "$BUILD" >/dev/null &&
       cmake --build "$BUILD" -j"$JOBS" >/dev/null; }; then
  note "the plain build failed"
  exit 1
fi

# Replay every seed and regression input with the plain build first: cheap,
# and it also runs where clang is missing.
for t in $targets; do
  if ! "$BUILD/replay_$t" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" >/dev/null; then
    note "replay of $t corpus/regressions FAILED"
    status=1
  fi
done

have_clang=0
command -v clang >/dev/null 2>&1 && have_clang=1
if [ "$mode" != replay ] && [ "${SKIP_FUZZ:-0}" != 1 ]; then
  if [ $have_clang = 0 ]; then
    note "clang not found: libFuzzer targets skipped (corpora replayed above)"
  elif ! { cmake -S . -B "$FUZZ_BUILD" -DCMAKE_C_COMPILER=clang -DMS_FUZZ=ON \
             -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
           cmake --build "$FUZZ_BUILD" -j"$JOBS" \
             $(for t in $targets; do printf ' --target fuzz_%s' "$t"; done) >/dev/null; }; then
    note "the fuzz build failed"
    status=1
  else
    mkdir -p "$FUZZ_BUILD/findings"
    for t in $targets; do
      work="$FUZZ_BUILD/corpus/$t"
      mkdir -p "$work"
      log="$FUZZ_BUILD/fuzz_$t.log"
      # The first directory collects new inputs; the committed ones are read.
      ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
      UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
      timeout $((secs + 120)) "$FUZZ_BUILD/fuzz_$t" -max_total_time="$secs" \
        -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$FUZZ_BUILD/findings/$t-" \
        "$work" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" >"$log" 2>&1
      rc=$?
      execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
      cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
      if [ $rc -ne 0 ]; then
        note "$t: FINDING (exit $rc), see $log"
        grep -E 'property failed|ERROR:|SUMMARY|Test unit written' "$log" | head -5
        status=1
        summary="$summary
  $t: FAILED after ${execs:-?} executions"
      else
        summary="$summary
  $t: ${execs:-?} executions in ${secs}s, coverage ${cov:-?} edges, no finding"
      fi
    done
  fi
fi

if [ "$mode" != replay ] && [ "${SKIP_FAULT:-0}" != 1 ]; then
  note "fault injection ($mode: $kills kills, $cycles connect cycles)"
  if ! env MIRRORSTATE_BIN="$BUILD/mirrorstate" FAILWRITE_LIB="$BUILD/libfailwrite.so" \
       FAULT_MODE="$mode" FAULT_KILLS="$kills" FAULT_CYCLES="$cycles" \
       node --test --test-concurrency=1 tests/fault/*.test.mjs; then
    note "fault injection FAILED"
    status=1
  fi
fi

[ -n "$summary" ] && echo "fuzz summary:$summary"
[ $status -eq 0 ] && note "ok" || note "FAILED"
exit $status
