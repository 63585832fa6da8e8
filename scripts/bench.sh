#!/bin/sh
# Benchmark: MirrorState side by side with a reference Node.js server
# (ws + fast-json-patch; chokidar or fs.watch). `scripts/bench.sh` runs the
# full benchmark and prints one table; `scripts/bench.sh smoke` runs a tiny
# version of every scenario (no timing assertions) and fails if one breaks.
# Extra arguments go to the driver (bench/driver.mjs), e.g. --only s1,s5.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=${MIRRORSTATE_BIN:-$BUILD/mirrorstate}

mode=full
if [ "${1:-}" = smoke ]; then
  mode=smoke
  shift
fi

if [ ! -x "$BIN" ]; then
  echo "bench: $BIN is missing: run make build first" >&2
  exit 2
fi

# The driver's client and server plumbing is the tests' (tests/lib), which
# needs the repository's own packages.
if [ ! -d node_modules/ws ]; then
  echo "bench: node_modules is missing: run scripts/deps.sh first" >&2
  exit 2
fi

# Install the reference server's packages from the lock file when missing
# or when the lock changed since the last install.
if [ ! -f bench/node_modules/.package-lock.json ] ||
   ! cmp -s bench/package-lock.json bench/node_modules/.lock-installed; then
  npm ci --prefix bench --ignore-scripts --no-audit --no-fund >/dev/null
  cp bench/package-lock.json bench/node_modules/.lock-installed
fi

# 1,000 clients need about 1,000 descriptors on each side.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
  ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi

if [ "$mode" = smoke ]; then
  exec timeout 120 node bench/driver.mjs --smoke --bin "$BIN" "$@"
fi
exec timeout 1800 node bench/driver.mjs --bin "$BIN" "$@"
