#!/bin/sh
# The packaging checks (scripts/test.sh install): Release builds with gcc and
# clang that fail on any warning; `cmake --install` into a DESTDIR; the
# Debian package built, extracted and run; the man page rendered and
# complete; the shell completions loaded; the systemd unit verified and
# scored; the Nix files parsed. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
GCC_BUILD=${GCC_BUILD:-build-release-gcc}
CLANG_BUILD=${CLANG_BUILD:-build-release-clang}
JOBS=${JOBS:-2}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mirrorstate-pkg.XXXXXX")
SERVER_PID=
passed=0
failed=0

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1"; }
# check NAME COMMAND...: passes when COMMAND exits 0; its output is shown
# only when it fails.
check() {
  name=$1
  shift
  if "$@" >"$WORK/out" 2>&1; then
    ok "$name"
  else
    fail "$name"
    sed 's/^/    /' "$WORK/out" | tail -40
  fi
}
have() { command -v "$1" >/dev/null 2>&1; }

# ---- builds: Release (-O3) with gcc and clang, warnings are errors
build() {
  dir=$1
  cc=$2
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_INSTALL_PREFIX=/usr -DMS_WERROR=ON >/dev/null &&
    cmake --build "$dir" -j"$JOBS" >"$WORK/build-$cc.log" 2>&1
  rc=$?
  # -Werror stops at the first warning; show any that were printed.
  grep -E 'warning:|error:' "$WORK/build-$cc.log" | head -20
  return $rc
}
check "Release build with gcc, no warnings" build "$GCC_BUILD" gcc
if have clang; then
  check "Release build with clang, no warnings" build "$CLANG_BUILD" clang
else
  fail "Release build with clang: clang is not installed (scripts/deps.sh installs it)"
fi
BIN=$GCC_BUILD/mirrorstate
if [ ! -x "$BIN" ]; then
  echo "no binary in $GCC_BUILD: nothing more to check"
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
fi

# ---- cmake --install into a DESTDIR
DEST=$WORK/dest
expected_files() {
  cat <<'EOF'
usr/bin/mirrorstate
usr/lib/systemd/system/mirrorstate@.service
usr/share/bash-completion/completions/mirrorstate
usr/share/doc/mirrorstate/AGENT.md
usr/share/doc/mirrorstate/LICENSE
usr/share/doc/mirrorstate/README.md
usr/share/doc/mirrorstate/copyright
usr/share/doc/mirrorstate/docs/cli.md
usr/share/doc/mirrorstate/docs/design.md
usr/share/doc/mirrorstate/docs/packaging.md
usr/share/doc/mirrorstate/docs/protocol.md
usr/share/doc/mirrorstate/docs/security.md
usr/share/doc/mirrorstate/examples/nixos/module.nix
usr/share/doc/mirrorstate/examples/nixos/package.nix
usr/share/doc/mirrorstate/examples/systemd/mirrorstate.service
usr/share/fish/vendor_completions.d/mirrorstate.fish
usr/share/man/man1/mirrorstate.1.gz
usr/share/zsh/vendor-completions/_mirrorstate
EOF
}
install_check() {
  DESTDIR=$DEST cmake --install "$GCC_BUILD" >/dev/null || return 1
  missing=0
  for f in $(expected_files); do
    [ -f "$DEST/$f" ] || { echo "missing: $f"; missing=1; }
  done
  [ -x "$DEST/usr/bin/mirrorstate" ] || { echo "binary not executable"; missing=1; }
  grep -qx 'ExecStart=/usr/bin/mirrorstate serve .*' \
    "$DEST/usr/lib/systemd/system/mirrorstate@.service" ||
    { echo "the unit does not start /usr/bin/mirrorstate"; missing=1; }
  [ $missing -eq 0 ]
}
check "cmake --install puts every file in place (DESTDIR, prefix /usr)" install_check

# ---- the Debian package
deb_build() {
  (cd "$GCC_BUILD" && rm -f mirrorstate_*.deb && cpack -G DEB >/dev/null) &&
    ls "$GCC_BUILD"/mirrorstate_*.deb >/dev/null
}
check "cpack -G DEB builds a package" deb_build
DEB=$(ls "$GCC_BUILD"/mirrorstate_*.deb 2>/dev/null | head -1)
X=$WORK/deb
deb_depends() {
  depends=$(dpkg-deb -f "$DEB" Depends) || return 1
  echo "Depends: $depends"
  for lib in libwebsockets-evlib-uv libwebsockets17 libuv1 libcjson1 libc6; do
    echo "$depends" | grep -Eq "(^|, )$lib( |,|$)" || { echo "lacks $lib"; return 1; }
  done
}
deb_extract() {
  mkdir -p "$X" && dpkg-deb -x "$DEB" "$X" || return 1
  for f in $(expected_files); do
    case $f in
    */docs/*) ;; # the docs are listed above; the package has them all too
    *) [ -f "$X/$f" ] || { echo "not in the package: $f"; return 1; } ;;
    esac
  done
}
if [ -n "$DEB" ]; then
  check "the package's Depends names the runtime libraries and libwebsockets-evlib-uv" deb_depends
  check "dpkg-deb -x extracts every installed file" deb_extract
  # What `apt install ./mirrorstate_*.deb` would do, changing nothing.
  check "apt resolves the package's dependencies (apt-get install -s)" \
    sh -c "apt-get install -s \"$(realpath "$DEB")\" | grep '^Inst mirrorstate '"
fi
XBIN=$X/usr/bin/mirrorstate
version_check() {
  want=$(sed -n 's/^project(mirrorstate VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
  [ "$("$XBIN" --version)" = "mirrorstate $want" ]
}
check "the packaged binary: --version" version_check
check "the packaged binary: --help" sh -c "\"$XBIN\" --help | grep -q -- '--file PATH'"
serve_check() {
  mkdir -p "$WORK/app" && echo '{"todo":[]}' >"$WORK/app/state.json"
  "$XBIN" serve --file "$WORK/app/state.json" --port 0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVER_PID=$!
  i=0
  while [ $i -lt 100 ] && ! grep -q '^http://' "$WORK/serve.out"; do
    sleep 0.1
    i=$((i + 1))
  done
  url=$(head -1 "$WORK/serve.out")
  url=${url%/_mirrorstate/}
  body=$(curl -sf --max-time 5 "$url/_mirrorstate/healthz") || { cat "$WORK/serve.err"; return 1; }
  echo "$body"
  echo "$body" | grep -q '"ok"' || echo "$body" | grep -q 'session' || return 1
  echo "$url" >"$WORK/url"
}
check "the packaged binary serves and answers /_mirrorstate/healthz" serve_check

# ---- the man page: renders, and documents every option of --help
MAN=$X/usr/share/man/man1/mirrorstate.1.gz
man_check() {
  LANG=C.UTF-8 MANWIDTH=100 man -l "$MAN" >"$WORK/man.txt" 2>"$WORK/man.err" || return 1
  if [ -s "$WORK/man.err" ]; then cat "$WORK/man.err"; return 1; fi
  grep -q '^NAME' "$WORK/man.txt" && grep -q '^SYNOPSIS' "$WORK/man.txt" || return 1
  "$XBIN" --help | grep -o -- '--[a-z][a-z-]*' | sort -u >"$WORK/options"
  [ "$(wc -l <"$WORK/options")" -gt 25 ] || { echo "few options in --help"; return 1; }
  missing=0
  while read -r o; do
    # An ASCII hyphen-minus, so the option can be copied from the page.
    grep -q -- "$o" "$WORK/man.txt" || { echo "the man page lacks $o"; missing=1; }
  done <"$WORK/options"
  for c in serve get set patch watch history revert status agent-md completion; do
    grep -q "^       $c" "$WORK/man.txt" || { echo "the man page lacks $c"; missing=1; }
  done
  [ $missing -eq 0 ]
}
if have man; then
  check "man -l renders the page and it documents every option of --help" man_check
else
  fail "man page: man is not installed (scripts/deps.sh installs man-db)"
fi

# ---- completions
COMP_BASH=$X/usr/share/bash-completion/completions/mirrorstate
bash_check() {
  PATH="$X/usr/bin:$PATH" bash -c '
    source "$1" || exit 1
    complete -p mirrorstate || exit 1
    t() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _mirrorstate; echo "${COMPREPLY[*]}"; }
    [ "$(t mirrorstate sta)" = "status" ] || { echo "command: $(t mirrorstate sta)"; exit 1; }
    [ "$(t mirrorstate serve --max-st)" = "--max-state --max-states" ] || { echo "option: $(t mirrorstate serve --max-st)"; exit 1; }
    [ "$(t mirrorstate --url "$2" wat)" = "watch" ] || { echo "after a global option: $(t mirrorstate --url "$2" wat)"; exit 1; }
    [ "$(t mirrorstate get --url "$2" "")" = "state" ] || { echo "state names: $(t mirrorstate get --url "$2" "")"; exit 1; }
  ' bash "$COMP_BASH" "$(cat "$WORK/url" 2>/dev/null)"
}
check "bash: the completion loads (complete -p mirrorstate) and completes commands, options, state names" bash_check
if have zsh; then
  check "zsh: the completion parses" zsh -n "$X/usr/share/zsh/vendor-completions/_mirrorstate"
else
  fail "zsh completion: zsh is not installed (scripts/deps.sh installs it)"
fi
fish_check() {
  f=$X/usr/share/fish/vendor_completions.d/mirrorstate.fish
  fish -n "$f" || return 1
  out=$(PATH="$X/usr/bin:$PATH" fish -c "source $f; complete -C 'mirrorstate serve --max-st'")
  echo "$out"
  echo "$out" | grep -q -- '^--max-state'
}
if have fish; then
  check "fish: the completion parses and completes options" fish_check
else
  fail "fish completion: fish is not installed (scripts/deps.sh installs it)"
fi
[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
SERVER_PID=

# ---- the systemd unit
UNIT=$X/usr/lib/systemd/system/mirrorstate@.service
unit_copy() {
  mkdir -p "$WORK/unit" "$WORK/man/man1" && cp "$MAN" "$WORK/man/man1/" &&
    sed "s|^ExecStart=/usr/bin/mirrorstate|ExecStart=$XBIN|" "$UNIT" \
      >"$WORK/unit/mirrorstate@demo.service"
}
unit_verify() {
  unit_copy || return 1
  # The packaged binary and man page stand in for the installed ones.
  (cd "$WORK/unit" && MANPATH=$WORK/man systemd-analyze verify ./mirrorstate@demo.service) >"$WORK/verify" 2>&1
  rc=$?
  cat "$WORK/verify"
  [ $rc -eq 0 ] && [ ! -s "$WORK/verify" ]
}
unit_security() {
  unit_copy || return 1
  (cd "$WORK/unit" && systemd-analyze security --offline=yes --threshold=20 \
    ./mirrorstate@demo.service) >"$WORK/security" 2>&1
  rc=$?
  grep 'Overall exposure' "$WORK/security"
  [ $rc -eq 0 ] || grep '✗' "$WORK/security"
  return $rc
}
unit_keys() {
  for k in 'Restart=always' 'RestartSec=' 'StartLimitIntervalSec=0' 'DynamicUser=yes' \
    'ProtectSystem=strict' 'NoNewPrivileges=yes' 'PrivateTmp=yes' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' \
    'LoadCredential=token:' 'SystemCallFilter=@system-service'; do
    grep -q "^$k" "$UNIT" || { echo "the unit lacks $k"; return 1; }
  done
}
user_unit_verify() {
  mkdir -p "$WORK/xdg" "$WORK/user" && chmod 700 "$WORK/xdg" || return 1
  sed "s|/usr/bin/mirrorstate|$XBIN|" examples/systemd/mirrorstate.service \
    >"$WORK/user/mirrorstate.service" || return 1
  (cd "$WORK/user" && XDG_RUNTIME_DIR=$WORK/xdg MANPATH=$WORK/man \
    systemd-analyze verify --user ./mirrorstate.service) >"$WORK/verify" 2>&1
  rc=$?
  cat "$WORK/verify"
  [ $rc -eq 0 ] && [ ! -s "$WORK/verify" ]
}
check "the unit restarts always and is hardened" unit_keys
if have systemd-analyze; then
  check "systemd-analyze verify: the unit is clean" unit_verify
  check "systemd-analyze security: exposure at most 2.0" unit_security
  check "systemd-analyze verify --user: the example user unit is clean" user_unit_verify
else
  fail "systemd unit: systemd-analyze is not installed (scripts/deps.sh installs systemd)"
fi

# ---- Nix: parse only (nixpkgs cannot be fetched to evaluate; docs/packaging.md)
nix_check() {
  for f in flake.nix examples/nixos/module.nix examples/nixos/package.nix; do
    nix-instantiate --parse "$f" >/dev/null || { echo "$f does not parse"; return 1; }
  done
}
if have nix-instantiate; then
  check "Nix: flake.nix and the module parse" nix_check
else
  fail "Nix: nix-instantiate is not installed (scripts/deps.sh installs nix-bin)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
