# Builds mirrorstate from this repository.
{ lib, stdenv, cmake, pkg-config, libwebsockets, libuv, cjson }:

let
  # MirrorState runs libwebsockets on its own libuv loop: lws must be built
  # with libuv support.
  lwsUv = libwebsockets.overrideAttrs (old: {
    buildInputs = (old.buildInputs or [ ]) ++ [ libuv ];
    cmakeFlags = (old.cmakeFlags or [ ]) ++ [ "-DLWS_WITH_LIBUV=ON" ];
  });
in
stdenv.mkDerivation {
  pname = "mirrorstate";
  version = "0.1.0";
  src = lib.cleanSource ../..;
  nativeBuildInputs = [ cmake pkg-config ];
  buildInputs = [ lwsUv libuv cjson ];
  installPhase = ''
    install -Dm755 mirrorstate $out/bin/mirrorstate
  '';
}
