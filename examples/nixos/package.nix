# Builds mirrorstate from this repository.
{ lib, stdenv, cmake, pkg-config, libwebsockets, libuv, cjson }:

stdenv.mkDerivation {
  pname = "mirrorstate";
  version = "0.1.0";
  src = lib.cleanSource ../..;
  nativeBuildInputs = [ cmake pkg-config ];
  # libwebsockets must be built with libuv support (its evlib plugin).
  buildInputs = [ (libwebsockets.override { withLibuv = true; }) libuv cjson ];
  installPhase = ''
    install -Dm755 mirrorstate $out/bin/mirrorstate
  '';
}
