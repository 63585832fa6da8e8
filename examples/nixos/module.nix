# NixOS module for MirrorState. Import it and set, for example:
#
#   services.mirrorstate = {
#     enable = true;
#     package = pkgs.callPackage ./package.nix { };
#     user = "dev";
#     files = [ "/home/dev/app/state.json" ];
#     host = [ "tailscale" ];
#     tokenFile = "/run/secrets/mirrorstate-token";
#   };
{ config, lib, pkgs, ... }:

let
  cfg = config.services.mirrorstate;
  args = lib.concatLists [
    [ "serve" "--port" (toString cfg.port) ]
    (lib.concatMap (f: [ "--file" f ]) cfg.files)
    (lib.concatMap (d: [ "--dir" d ]) cfg.dirs)
    (lib.concatMap (h: [ "--host" h ]) cfg.host)
    (lib.concatMap (h: [ "--allow-host" h ]) cfg.allowHosts)
    (lib.concatMap (o: [ "--allow-origin" o ]) cfg.allowOrigins)
    (lib.optionals (cfg.tokenFile != null) [ "--token-file" cfg.tokenFile ])
    (lib.optionals (cfg.logFile != null) [ "--log" cfg.logFile ])
    cfg.extraArgs
  ];
in
{
  options.services.mirrorstate = {
    enable = lib.mkEnableOption "MirrorState, an app's state mirrored to JSON files";
    package = lib.mkOption {
      type = lib.types.package;
      description = "The mirrorstate package (needs libwebsockets with its libuv plugin at run time).";
    };
    user = lib.mkOption {
      type = lib.types.str;
      description = "The app's user: the mirrored files are read and written as this user.";
    };
    files = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      description = "State files to mirror (--file).";
    };
    dirs = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      description = "Directories whose *.json files are mirrored (--dir).";
    };
    host = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ "127.0.0.1" ];
      example = [ "tailscale" ];
      description = "Addresses to bind (--host); \"tailscale\" binds the tailscale0 addresses and loopback.";
    };
    port = lib.mkOption {
      type = lib.types.port;
      default = 7420;
    };
    allowHosts = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
    };
    allowOrigins = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
    };
    tokenFile = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      description = "File holding the token; required in practice when host is not loopback.";
    };
    logFile = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
    };
    extraArgs = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [{
      assertion = cfg.files != [ ] || cfg.dirs != [ ];
      message = "services.mirrorstate: set files or dirs.";
    }];
    systemd.services.mirrorstate = {
      description = "MirrorState";
      wantedBy = [ "multi-user.target" ];
      after = [ "network-online.target" ] ++ lib.optional (lib.elem "tailscale" cfg.host) "tailscaled.service";
      wants = [ "network-online.target" ];
      serviceConfig = {
        User = cfg.user;
        ExecStart = lib.escapeShellArgs ([ "${cfg.package}/bin/mirrorstate" ] ++ args);
        KillSignal = "SIGTERM";
        Restart = "on-failure";
        RestartSec = 2;
        NoNewPrivileges = true;
        PrivateTmp = true;
      };
    };
    networking.firewall.interfaces = lib.mkIf (lib.elem "tailscale" cfg.host) {
      tailscale0.allowedTCPPorts = [ cfg.port ];
    };
  };
}
