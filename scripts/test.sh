#!/bin/sh
# Runs the test suite: C unit tests (plain and ASan+UBSan), the integration
# suite against both builds, the client library's tests, the browser
# end-to-end tests, the npm package in a fresh Vite app, the packaging
# checks (Release builds with gcc and clang, install, the Debian package,
# man page, completions, systemd unit) and a valgrind start/serve/stop
# cycle. With an argument, runs only that part (unit, integration, client,
# install, e2e, npm, netns, fuzz, bench, valgrind).
#
# A part that cannot run here fails; it never counts as passed. Parts named
# in MIRRORSTATE_TEST_SKIP (e.g. "netns" where there is no root) are not
# run, and the summary says so.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
only=${1:-all}
passed=0
failed=0
failures=""
notrun=""

run() {
  name=$1
  shift
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures="$failures $name"
    echo "=== FAILED: $name"
  fi
}

want() { [ "$only" = all ] || [ "$only" = "$1" ]; }

# Whether the caller asked for part $1 to be left out.
skipped() {
  case " $(echo "${MIRRORSTATE_TEST_SKIP:-}" | tr ',' ' ') " in
  *" $1 "*)
    echo "=== NOT RUN: $2 (MIRRORSTATE_TEST_SKIP names $1)"
    notrun="$notrun $1"
    return 0
    ;;
  esac
  return 1
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if want unit; then
  run "unit tests" ctest --test-dir "$BUILD" --output-on-failure
  run "unit tests (asan)" ctest --test-dir "$ASAN_BUILD" --output-on-failure
fi
# Integration test files run three at a time: they spend most of their time
# waiting on servers, files and timers, and each uses its own directory and
# free port. INTEGRATION_JOBS=1 runs them one by one. The races of agent
# saves against client writes (concurrency, property) run alone afterwards:
# they measure the server's timing, not the machine's load.
jobs=${INTEGRATION_JOBS:-3}
integration() {
  races="tests/integration/concurrency.test.mjs tests/integration/property.test.mjs"
  rest=$(ls tests/integration/*.test.mjs | grep -v -e /concurrency.test -e /property.test)
  env MIRRORSTATE_BIN="$1/mirrorstate" JSON_TOOL="$1/json_tool" \
    node --test --test-concurrency="$jobs" $rest
  first=$?
  env MIRRORSTATE_BIN="$1/mirrorstate" JSON_TOOL="$1/json_tool" \
    node --test --test-concurrency=1 $races || return 1
  return $first
}
if want integration; then
  run "integration" integration "$BUILD"
  run "integration (asan)" integration "$ASAN_BUILD"
fi
if want client; then
  run "client library" env MIRRORSTATE_BIN="$BUILD/mirrorstate" \
    node --test client-js/test/*.test.mjs
fi
if want install; then
  run "builds, install, .deb, man page, completions" scripts/test-install.sh
fi
if want e2e; then
  run "browser end-to-end" env MIRRORSTATE_BIN="$BUILD/mirrorstate" \
    node --test --test-concurrency=1 tests/e2e/*.test.mjs
fi
if want npm; then
  run "npm package in a fresh Vite app" env MIRRORSTATE_BIN="$BUILD/mirrorstate" \
    node --test --test-concurrency=1 tests/package/*.test.mjs
fi
# Needs root for `ip netns`; without it the suite fails and says why.
if want netns && ! skipped netns "network namespaces"; then
  run "network namespaces" env MIRRORSTATE_BIN="$BUILD/mirrorstate" \
    MIRRORSTATE_NETNS_REQUIRED=1 \
    node --test --test-concurrency=1 tests/netns/*.test.mjs
fi
if want fuzz && [ -x scripts/fuzz.sh ]; then
  run "fuzz smoke" scripts/fuzz.sh smoke
fi
if want bench && [ -x scripts/bench.sh ]; then
  run "benchmark smoke" scripts/bench.sh smoke
fi
if want valgrind; then
  run "valgrind serve cycle" env MIRRORSTATE_BIN="$BUILD/mirrorstate" \
    node tests/valgrind/cycle.mjs
fi

echo
[ -n "$failures" ] && echo "failed:$failures"
[ -n "$notrun" ] && echo "NOT RUN (asked for):$notrun"
echo "suites: $passed passed, $failed failed$([ -n "$notrun" ] && echo ", $(echo $notrun | wc -w) not run")"
[ "$failed" -eq 0 ]
