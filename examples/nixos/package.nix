# Builds mirrorstate with its man page, shell completions and systemd unit.
# From the flake: `nix build`; without it: pkgs.callPackage ./package.nix { }.
{ lib, stdenv, cmake, pkg-config, libwebsockets, libuv, cjson
, src ? lib.cleanSource ../..
}:

let
  # MirrorState runs libwebsockets on its own libuv loop: lws must be built
  # with libuv support (lws loads it as a plugin at run time, from its own
  # store path).
  lwsUv = libwebsockets.overrideAttrs (old: {
    buildInputs = (old.buildInputs or [ ]) ++ [ libuv ];
    cmakeFlags = (old.cmakeFlags or [ ]) ++ [ "-DLWS_WITH_LIBUV=ON" ];
  });
in
stdenv.mkDerivation {
  pname = "mirrorstate";
  version = "0.1.0";
  inherit src;
  nativeBuildInputs = [ cmake pkg-config ];
  buildInputs = [ lwsUv libuv cjson ];
  # The project's own builds add -Werror; a distribution build does not.
  cmakeFlags = [ "-DCMAKE_BUILD_TYPE=Release" "-DMS_SYSTEMD_VERSION=254" ];
  # The C unit tests and the fuzz corpora replays (ctest).
  doCheck = true;
  meta = {
    description = "Keeps a browser app's state and a JSON file identical, both ways";
    license = lib.licenses.mit;
    mainProgram = "mirrorstate";
    platforms = lib.platforms.linux;
  };
}
