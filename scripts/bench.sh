#!/bin/sh
# Benchmark: MirrorState side by side with the reference Node.js server
# (ws + fast-json-patch + fs.watch, bench/node-server.mjs), both driven in
# one session by the C driver (bench/cdriver.c), which prints one table with
# the ratios and each server's CPU per change. See docs/benchmarks.md.
#
#   scripts/bench.sh               the full run (a few minutes)
#   scripts/bench.sh smoke         every scenario with tiny counts; fails only
#                                  if a scenario breaks (no timing checks)
#   scripts/bench.sh --chokidar    also the reference server with chokidar
#   scripts/bench.sh --floor       also the floor server (bench/floor.c)
#   scripts/bench.sh --no-node     MirrorState alone
# Other arguments go to the driver, e.g. --only a,c --json out.json.
# MS_WRAP="valgrind --tool=callgrind" runs MirrorState under a profiler;
# CDRIVER_ATTACH="perf record -g -p {pid}" attaches one to each server.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=${MIRRORSTATE_BIN:-$BUILD/mirrorstate}
DRIVER=$BUILD/cdriver

mode=full
if [ "${1:-}" = smoke ]; then
  mode=smoke
  shift
fi
node=1
chokidar=0
floor=0
for a in "$@"; do
  case $a in
    --chokidar) chokidar=1 ;;
    --floor) floor=1 ;;
    --no-node) node=0 ;;
  esac
done

for f in "$BIN" "$DRIVER"; do
  if [ ! -x "$f" ]; then
    echo "bench: $f is missing: run make build first" >&2
    exit 2
  fi
done

# The reference server's packages, from the lock file, when missing or
# when the lock changed since the last install.
if [ $node = 1 ] && { [ ! -f bench/node_modules/.package-lock.json ] ||
   ! cmp -s bench/package-lock.json bench/node_modules/.lock-installed; }; then
  npm ci --prefix bench --ignore-scripts --no-audit --no-fund >/dev/null
  cp bench/package-lock.json bench/node_modules/.lock-installed
fi

# 1,000 clients need about 1,000 descriptors on each side.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
  ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi

set -- "$@" --server "MirrorState=${MS_WRAP:-} $BIN serve --file {file} --port 0 -q"
if [ $node = 1 ]; then
  set -- "$@" --server "Node+fs.watch=node bench/node-server.mjs --file {file} --port 0 --watch fswatch"
fi
if [ $chokidar = 1 ]; then
  set -- "$@" --server "Node+chokidar=node bench/node-server.mjs --file {file} --port 0 --watch chokidar"
fi
if [ $floor = 1 ]; then
  set -- "$@" --server "floor=$BUILD/floor_server --file {file}"
fi

# The flags above are the script's; the driver gets the rest.
for a in "$@"; do
  shift
  case $a in
    --chokidar | --floor | --no-node) ;;
    *) set -- "$@" "$a" ;;
  esac
done

if [ "$mode" = smoke ]; then
  exec timeout 600 "$DRIVER" --smoke "$@"
fi
exec timeout 3600 "$DRIVER" "$@"
