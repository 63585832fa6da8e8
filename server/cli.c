/* Command-line parsing for `mirrorstate serve`. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "log.h"
#include "size.h"
#include "usage.h"

static void defaults(struct config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->port = 7420;
  cfg->write_delay_ms = 0;
  cfg->settle_ms = 20;
  cfg->max_message = 32u << 20;
  cfg->max_pending = 64u << 20;
  cfg->max_state = 256u << 20;
  cfg->max_ops = 100000;
  cfg->max_clients = 4096;
  cfg->history = 100;
  cfg->max_states = 10000;
  cfg->history_bytes = 64u << 20;
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

static int parse_size(const char *opt, const char *s, uint64_t min,
                      uint64_t max, size_t *out) {
  uint64_t v;
  int rc = size_parse(s, &v);
  if (rc == 0 && v >= min && v <= max) {
    *out = (size_t)v;
    return 0;
  }
  char lo[32], hi[32];
  size_format(min, lo, sizeof lo);
  size_format(max, hi, sizeof hi);
  if (rc == 0 || rc == -ERANGE)
    log_error("%s: expected a size from %s to %s, got '%s'", opt, lo, hi, s);
  else
    log_error("%s: '%s' is not a size: give bytes, or a number with K, M, "
              "G (powers of 1024: also KiB, MiB, GiB) or KB, MB, GB (powers "
              "of 1000), e.g. 64MiB or 10MB",
              opt, s);
  return -1;
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
  /* O_NONBLOCK and the type check: a FIFO there must not hang the start. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0) {
    log_error("--token-file %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  if (!S_ISREG(sb.st_mode)) {
    log_error("--token-file %s: not a regular file", path);
    close(fd);
    return -1;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) {
    log_error("--token-file %s: %s", path, strerror(errno));
    return -1;
  }
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

/* serve's getopt table, made from the usage table. */
static struct option serve_options[64];

static void build_options(void) {
  int n = 0;
  for (const struct usage_option *o = usage_options; o->name; o++) {
    if (!(o->scope & USAGE_SERVE) || n + 1 >= 64) continue;
    serve_options[n++] = (struct option){
        o->name, o->arg ? required_argument : no_argument, NULL, o->id};
  }
  serve_options[n] = (struct option){NULL, 0, NULL, 0};
}

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
    return parse_size(opt, arg, 64, 1ull << 32, &cfg->max_message);
  case OPT_MAX_PENDING:
    return parse_size(opt, arg, 1024, 1ull << 34, &cfg->max_pending);
  case OPT_MAX_STATE:
    return parse_size(opt, arg, 64, 1ull << 34, &cfg->max_state);
  case OPT_OPEN: cfg->open = 1; return 0;
  case OPT_MAX_CLIENTS:
    if (parse_num(opt, arg, 1, 1000000, &v)) return -1;
    cfg->max_clients = (int)v;
    return 0;
  case OPT_HISTORY:
    if (parse_num(opt, arg, 1, 100000, &v)) return -1;
    cfg->history = (int)v;
    return 0;
  case OPT_MAX_STATES:
    if (parse_num(opt, arg, 1, 10000000, &v)) return -1;
    cfg->max_states = (int)v;
    return 0;
  case OPT_FOLLOW_SYMLINKS: cfg->follow_symlinks = 1; return 0;
  case OPT_MAX_OPS:
    if (parse_num(opt, arg, 1, 100000000, &v)) return -1;
    cfg->max_ops = (int)v;
    return 0;
  case OPT_HISTORY_BYTES:
    return parse_size(opt, arg, 0, 1ull << 40, &cfg->history_bytes);
  case 'v': cfg->verbose = 1; return 0;
  case 'q': cfg->verbose = -1; return 0;
  default: return -1;
  }
}

int cli_parse_serve(int argc, char **argv, struct config *cfg) {
  defaults(cfg);
  build_options();
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":vqh", serve_options, NULL)) != -1) {
    if (c == OPT_HELP || c == 'h') {
      usage_print_command_help(stdout, usage_find_command("serve"));
      exit(0);
    }
    if (c == '?') {
      /* An ambiguous abbreviation is "unknown" to getopt too. */
      usage_unknown_option(argv[optind - 1], USAGE_SERVE, "serve");
      return 2;
    }
    if (c == ':') {
      log_error("missing value for '%s' (see mirrorstate help serve)",
                argv[optind - 1]);
      return 2;
    }
    if (apply_option(c, optarg, cfg) != 0) return 2;
  }
  if (optind < argc) {
    log_error("unexpected argument '%s' (see mirrorstate help serve)",
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
