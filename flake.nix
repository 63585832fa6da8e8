{
  description = "MirrorState: keeps a browser app's state and a JSON file identical, both ways";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      build = pkgs: pkgs.callPackage ./examples/nixos/package.nix { src = self; };
    in
    {
      packages = forAllSystems (pkgs: rec {
        mirrorstate = build pkgs;
        default = mirrorstate;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${pkgs.stdenv.hostPlatform.system}.default}/bin/mirrorstate";
        };
      });

      overlays.default = final: prev: { mirrorstate = build final; };

      # services.mirrorstate.instances.<app> = { files = [ ... ]; ... };
      # see examples/nixos/module.nix.
      nixosModules.default = { lib, pkgs, ... }: {
        imports = [ ./examples/nixos/module.nix ];
        services.mirrorstate.package =
          lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      };

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.default ];
          packages = with pkgs; [ clang valgrind nodejs_22 chromium scdoc zsh fish ];
        };
      });
    };
}
