# NixOS module for MirrorState: one service per app. From the flake, import
# nixosModules.default (its package is the default); without it, import
# this file. For example:
#
#   services.mirrorstate.instances.todo = {
#     files = [ "/home/dev/todo/state.json" ];
#     user = "dev";                       # the files' owner
#     host = [ "tailscale" ];
#     port = 7420;
#     tokenFile = "/run/secrets/mirrorstate-todo";  # root's, mode 0600 is fine
#   };
#   services.mirrorstate.instances.notes.dirs = [ "/var/lib/notes" ];
#
# Each instance is systemd.services."mirrorstate-<name>". The token file is
# handed over as a systemd credential (LoadCredential=), so the service user
# never needs to read it; the server reads $CREDENTIALS_DIRECTORY/token.
# With user = null the service runs as a dynamic user whose only writable
# place is /var/lib/mirrorstate/<name> (put files there, or use dirs).
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption types;
  cfg = config.services.mirrorstate;

  instanceModule = { name, ... }: {
    options = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Whether to run this instance.";
      };
      files = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = "State files to mirror (--file); they need not exist yet.";
      };
      dirs = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = "Directories whose *.json files are mirrored (--dir).";
      };
      host = mkOption {
        type = types.listOf types.str;
        default = [ "127.0.0.1" ];
        example = [ "tailscale" ];
        description = "Addresses to bind (--host); \"tailscale\" binds the tailscale0 addresses and loopback.";
      };
      port = mkOption {
        type = types.port;
        default = 7420;
        description = "Port (--port); one per instance.";
      };
      allowHosts = mkOption { type = types.listOf types.str; default = [ ]; };
      allowOrigins = mkOption { type = types.listOf types.str; default = [ ]; };
      staticDir = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Serve the app's files at / (--static).";
      };
      tokenFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "File holding the token, readable by root only if you like: it is passed as a systemd credential. Set it whenever host is not loopback.";
      };
      logFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Append one JSON line per change (--log).";
      };
      user = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "The files' owner, whom the server runs as; null: a dynamic user with /var/lib/mirrorstate/${name}.";
      };
      group = mkOption {
        type = types.nullOr types.str;
        default = null;
      };
      openFirewall = mkOption {
        type = types.bool;
        default = false;
        description = "Open the port on tailscale0 (with host = [ \"tailscale\" ]) or on every interface.";
      };
      extraArgs = mkOption { type = types.listOf types.str; default = [ ]; };
    };
  };

  enabled = lib.filterAttrs (_: i: i.enable) cfg.instances;

  args = name: i: lib.concatLists [
    [ "serve" "--port" (toString i.port) ]
    (lib.concatMap (f: [ "--file" f ]) i.files)
    (lib.concatMap (d: [ "--dir" d ]) i.dirs)
    (lib.concatMap (h: [ "--host" h ]) i.host)
    (lib.concatMap (h: [ "--allow-host" h ]) i.allowHosts)
    (lib.concatMap (o: [ "--allow-origin" o ]) i.allowOrigins)
    (lib.optionals (i.staticDir != null) [ "--static" i.staticDir ])
    (lib.optionals (i.tokenFile != null) [ "--token-file" "%d/token" ])
    (lib.optionals (i.logFile != null) [ "--log" i.logFile ])
    i.extraArgs
  ];

  # What the server writes: each file's directory (temporary files, the
  # .mirrorstate directory), each --dir, the log's directory.
  writable = i: lib.unique (map builtins.dirOf i.files ++ i.dirs
    ++ lib.optional (i.logFile != null) (builtins.dirOf i.logFile));
  underHome = i: lib.any (p: lib.hasPrefix "/home/" p || lib.hasPrefix "/root/" p) (writable i);

  service = name: i: lib.nameValuePair "mirrorstate-${name}" {
    description = "MirrorState for ${name}";
    wantedBy = [ "multi-user.target" ];
    # No ordering on tailscaled: --host tailscale waits for tailscale0.
    after = [ "network-online.target" ];
    wants = [ "network-online.target" ];
    # Restart for good, with a growing delay: never hit the start limit.
    startLimitIntervalSec = 0;
    serviceConfig = {
      ExecStart = lib.escapeShellArgs ([ (lib.getExe cfg.package) ] ++ args name i);
      LoadCredential = lib.optional (i.tokenFile != null) "token:${i.tokenFile}";
      KillSignal = "SIGTERM";
      TimeoutStopSec = "30s";
      Restart = "always";
      RestartSec = "2s";
      RestartSteps = 8;
      RestartMaxDelaySec = "2min";
      UMask = "0077";
      NoNewPrivileges = true;
      CapabilityBoundingSet = "";
      AmbientCapabilities = "";
      ProtectSystem = "strict";
      # "-": a path that does not exist yet does not stop the service.
      ReadWritePaths = map (p: "-${p}") (writable i);
      ProtectHome = if underHome i then "read-only" else true;
      PrivateTmp = true;
      PrivateDevices = true;
      PrivateIPC = true;
      PrivateMounts = true;
      ProtectHostname = true;
      ProtectClock = true;
      ProtectKernelTunables = true;
      ProtectKernelModules = true;
      ProtectKernelLogs = true;
      ProtectControlGroups = true;
      ProtectProc = "invisible";
      ProcSubset = "pid";
      RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" "AF_NETLINK" ];
      RestrictNamespaces = true;
      RestrictRealtime = true;
      RestrictSUIDSGID = true;
      LockPersonality = true;
      MemoryDenyWriteExecute = true;
      RemoveIPC = true;
      DevicePolicy = "closed";
      SystemCallArchitectures = "native";
      SystemCallFilter = [ "@system-service" "~@privileged" ];
      SystemCallErrorNumber = "EPERM";
    } // (if i.user == null then {
      DynamicUser = true;
      StateDirectory = "mirrorstate/${name}";
      StateDirectoryMode = "0700";
      WorkingDirectory = "/var/lib/mirrorstate/${name}";
    } else {
      User = i.user;
      PrivateUsers = true;
    } // lib.optionalAttrs (i.group != null) { Group = i.group; });
  };

  ports = lib.mapAttrsToList (_: i: i.port) enabled;
in
{
  options.services.mirrorstate = {
    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./package.nix { }";
      description = "The mirrorstate package.";
    };
    instances = mkOption {
      type = types.attrsOf (types.submodule instanceModule);
      default = { };
      description = "One MirrorState server per app, by name.";
    };
  };

  config = lib.mkIf (enabled != { }) {
    assertions = lib.mapAttrsToList (name: i: {
      assertion = i.files != [ ] || i.dirs != [ ] || i.user == null;
      message = "services.mirrorstate.instances.${name}: set files or dirs.";
    }) enabled ++ [{
      assertion = lib.length ports == lib.length (lib.unique ports);
      message = "services.mirrorstate.instances: each instance needs a port of its own.";
    }];
    systemd.services = lib.mapAttrs' (name: i:
      let s = service name i; in
      # A dynamic user's instance with nothing given mirrors its state directory.
      if i.files == [ ] && i.dirs == [ ] then
        lib.nameValuePair s.name (s.value // {
          serviceConfig = s.value.serviceConfig // {
            ExecStart = s.value.serviceConfig.ExecStart + " --dir /var/lib/mirrorstate/${name}";
          };
        })
      else s) enabled;
    environment.systemPackages = [ cfg.package ];
    networking.firewall = lib.mkMerge (lib.mapAttrsToList (_: i:
      lib.mkIf i.openFirewall (if lib.elem "tailscale" i.host
        then { interfaces.tailscale0.allowedTCPPorts = [ i.port ]; }
        else { allowedTCPPorts = [ i.port ]; })) enabled);
  };
}
