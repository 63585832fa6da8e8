/* Command-line parsing for `mirrorstate serve`. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "access.h"
#include "log.h"

void cli_print_help(void) {
  fputs(
      "Usage: mirrorstate <command> [options]\n"
      "\n"
      "Keeps a running browser app's state and a JSON file identical, both\n"
      "ways, in real time.\n"
      "\n"
      "Commands:\n"
      "  serve               mirror JSON files to browsers (WebSocket + HTTP)\n"
      "  get [NAME] [PTR]    print a state, or the value at a JSON Pointer\n"
      "  set NAME PTR JSON   set the value at a JSON Pointer\n"
      "  patch NAME OPS      apply a JSON Patch (RFC 6902) array\n"
      "  watch [NAME]        print one JSON line per change\n"
      "  history NAME        list recent versions\n"
      "  revert NAME VER     bring a state back to an earlier version\n"
      "  status              server, states, clients, file errors\n"
      "  agent-md            print the guide for coding agents\n"
      "\n"
      "Options of the commands that talk to a running server:\n"
      "  --url URL           the server (else MIRRORSTATE_URL, else\n"
      "                      .mirrorstate/server.json here or above)\n"
      "  --token TOKEN       its token (else MIRRORSTATE_TOKEN)\n"
      "  --pretty            indented JSON and tables instead of JSON lines\n"
      "  watch: --origin O (file, client, panel, api), --once,\n"
      "         --since VERSION, --timeout S;  history: -n N\n"
      "  Exit: 0 ok, 1 not found/conflict/timeout, 2 usage, 3 unreachable\n"
      "\n"
      "serve options:\n"
      "  --file PATH         mirror this file; its state is named by the base\n"
      "                      name without .json (repeatable)\n"
      "  --dir DIR           mirror every *.json below DIR, named by relative\n"
      "                      path without .json (repeatable)\n"
      "  --port N            port to listen on (default 7420; 0 picks one)\n"
      "  --host ADDR         address to bind (default 127.0.0.1; repeatable;\n"
      "                      'tailscale' binds the tailscale0 addresses)\n"
      "  --allow-host NAME   also accept this Host name (repeatable)\n"
      "  --allow-origin URL  also accept requests from this Origin:\n"
      "                      http(s)://HOST[:PORT], or http(s)://HOST:* for\n"
      "                      any port (repeatable)\n"
      "  --token TOKEN       require this token (?token= or Bearer); also\n"
      "                      --token-file PATH, or MIRRORSTATE_TOKEN\n"
      "  --static DIR        serve an app's files at / (never dot-paths or\n"
      "                      mirrored files; the token applies when set)\n"
      "  --write-delay MS    coalesce file writes over MS ms (default 0)\n"
      "  --settle MS         wait this long for an invalid file to become\n"
      "                      valid before reporting it (default 20)\n"
      "  --max-message N     largest WebSocket message (default 32 MiB)\n"
      "  --max-pending N     unsent output before a client is dropped\n"
      "                      (default 64 MiB)\n"
      "  --max-state N       largest state file (default 256 MiB)\n"
      "  --max-clients N     most connections at once (default 4096)\n"
      "  --history N         versions kept per state (default 100)\n"
      "  --log FILE          append one JSON line per change to FILE\n"
      "  -v, --verbose       log every change\n"
      "  -q, --quiet         log only warnings and errors\n"
      "\n"
      "  -h, --help          this help\n"
      "  --version           print the version\n"
      "\n"
      "On start, serve prints one URL per line, e.g.\n"
      "  http://127.0.0.1:7420/_mirrorstate/\n",
      stdout);
}

static void defaults(struct config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->port = 7420;
  cfg->write_delay_ms = 0;
  cfg->settle_ms = 20;
  cfg->max_message = 32u << 20;
  cfg->max_pending = 64u << 20;
  cfg->max_state = 256u << 20;
  cfg->max_clients = 4096;
  cfg->history = 100;
  cfg->token = getenv("MIRRORSTATE_TOKEN");
  if (cfg->token && !*cfg->token) cfg->token = NULL;
}

static int parse_num(const char *opt, const char *s, long long min,
                     long long max, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max) {
    log_error("%s: expected a number from %lld to %lld, got '%s'", opt, min,
              max, s);
    return -1;
  }
  *out = v;
  return 0;
}

static int push(const char **list, int *n, const char *opt, const char *v) {
  if (*n >= CLI_MAX_LIST) {
    log_error("%s: at most %d times", opt, CLI_MAX_LIST);
    return -1;
  }
  list[(*n)++] = v;
  return 0;
}

static int read_token_file(const char *path, struct config *cfg) {
  static char buf[512];
  FILE *f = fopen(path, "r");
  if (!f) {
    log_error("--token-file %s: %s", path, strerror(errno));
    return -1;
  }
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  buf[strcspn(buf, "\r\n")] = '\0';
  if (!*buf) {
    log_error("--token-file %s: the file is empty", path);
    return -1;
  }
  cfg->token = buf;
  cfg->token_file = path;
  return 0;
}

enum {
  OPT_FILE = 256,
  OPT_DIR,
  OPT_PORT,
  OPT_HOST,
  OPT_ALLOW_HOST,
  OPT_ALLOW_ORIGIN,
  OPT_TOKEN,
  OPT_TOKEN_FILE,
  OPT_STATIC,
  OPT_WRITE_DELAY,
  OPT_SETTLE,
  OPT_MAX_MESSAGE,
  OPT_MAX_PENDING,
  OPT_MAX_STATE,
  OPT_MAX_CLIENTS,
  OPT_HISTORY,
  OPT_LOG,
};

static const struct option serve_options[] = {
    {"file", required_argument, 0, OPT_FILE},
    {"dir", required_argument, 0, OPT_DIR},
    {"port", required_argument, 0, OPT_PORT},
    {"host", required_argument, 0, OPT_HOST},
    {"allow-host", required_argument, 0, OPT_ALLOW_HOST},
    {"allow-origin", required_argument, 0, OPT_ALLOW_ORIGIN},
    {"token", required_argument, 0, OPT_TOKEN},
    {"token-file", required_argument, 0, OPT_TOKEN_FILE},
    {"static", required_argument, 0, OPT_STATIC},
    {"write-delay", required_argument, 0, OPT_WRITE_DELAY},
    {"settle", required_argument, 0, OPT_SETTLE},
    {"max-message", required_argument, 0, OPT_MAX_MESSAGE},
    {"max-pending", required_argument, 0, OPT_MAX_PENDING},
    {"max-state", required_argument, 0, OPT_MAX_STATE},
    {"max-clients", required_argument, 0, OPT_MAX_CLIENTS},
    {"history", required_argument, 0, OPT_HISTORY},
    {"log", required_argument, 0, OPT_LOG},
    {"verbose", no_argument, 0, 'v'},
    {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static int apply_option(int c, const char *arg, struct config *cfg) {
  long long v;
  const char *name = NULL;
  for (const struct option *o = serve_options; o->name; o++)
    if (o->val == c) name = o->name;
  char opt[64];
  snprintf(opt, sizeof opt, "--%s", name ? name : "?");
  switch (c) {
  case OPT_FILE: return push(cfg->files, &cfg->nfiles, opt, arg);
  case OPT_DIR: return push(cfg->dirs, &cfg->ndirs, opt, arg);
  case OPT_HOST: return push(cfg->hosts, &cfg->nhosts, opt, arg);
  case OPT_ALLOW_HOST:
    if (!access_valid_host(arg)) {
      log_error("%s %s: %s", opt, arg, ACCESS_HOST_RULE);
      return -1;
    }
    return push(cfg->allow_hosts, &cfg->nallow_hosts, opt, arg);
  case OPT_ALLOW_ORIGIN:
    if (!access_valid_origin_rule(arg)) {
      log_error("%s %s: %s", opt, arg, ACCESS_ORIGIN_RULE);
      return -1;
    }
    return push(cfg->allow_origins, &cfg->nallow_origins, opt, arg);
  case OPT_TOKEN: cfg->token = *arg ? arg : NULL; return 0;
  case OPT_TOKEN_FILE: return read_token_file(arg, cfg);
  case OPT_STATIC: cfg->static_dir = arg; return 0;
  case OPT_LOG: cfg->log_file = arg; return 0;
  case OPT_PORT:
    if (parse_num(opt, arg, 0, 65535, &v)) return -1;
    cfg->port = (int)v;
    return 0;
  case OPT_WRITE_DELAY:
    if (parse_num(opt, arg, 0, 60000, &v)) return -1;
    cfg->write_delay_ms = (int)v;
    return 0;
  case OPT_SETTLE:
    if (parse_num(opt, arg, 0, 60000, &v)) return -1;
    cfg->settle_ms = (int)v;
    return 0;
  case OPT_MAX_MESSAGE:
    if (parse_num(opt, arg, 64, 1LL << 32, &v)) return -1;
    cfg->max_message = (size_t)v;
    return 0;
  case OPT_MAX_PENDING:
    if (parse_num(opt, arg, 1024, 1LL << 34, &v)) return -1;
    cfg->max_pending = (size_t)v;
    return 0;
  case OPT_MAX_STATE:
    if (parse_num(opt, arg, 64, 1LL << 34, &v)) return -1;
    cfg->max_state = (size_t)v;
    return 0;
  case OPT_MAX_CLIENTS:
    if (parse_num(opt, arg, 1, 1000000, &v)) return -1;
    cfg->max_clients = (int)v;
    return 0;
  case OPT_HISTORY:
    if (parse_num(opt, arg, 1, 100000, &v)) return -1;
    cfg->history = (int)v;
    return 0;
  case 'v': cfg->verbose = 1; return 0;
  case 'q': cfg->verbose = -1; return 0;
  default: return -1;
  }
}

int cli_parse_serve(int argc, char **argv, struct config *cfg) {
  defaults(cfg);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":vqh", serve_options, NULL)) != -1) {
    if (c == 'h') {
      cli_print_help();
      exit(0);
    }
    if (c == '?' || c == ':') {
      log_error("%s '%s' (see mirrorstate --help)",
                c == '?' ? "unknown option" : "missing value for",
                argv[optind - 1]);
      return 2;
    }
    if (apply_option(c, optarg, cfg) != 0) return 2;
  }
  if (optind < argc) {
    log_error("unexpected argument '%s' (see mirrorstate --help)",
              argv[optind]);
    return 2;
  }
  if (cfg->nfiles == 0 && cfg->ndirs == 0) {
    log_error("nothing to mirror: give --file PATH or --dir DIR");
    return 2;
  }
  struct stat sb;
  if (cfg->static_dir &&
      (stat(cfg->static_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
    log_error("--static %s: not a directory", cfg->static_dir);
    return 2;
  }
  if (cfg->nhosts == 0) cfg->hosts[cfg->nhosts++] = "127.0.0.1";
  return 0;
}
