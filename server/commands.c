/* CLI subcommands: each one is a request (or a WebSocket) to a running
 * server, found as discover.h says. stdout carries results only (JSON
 * lines, or tables with --pretty); problems go to stderr, and the exit code
 * says which kind they were. This file holds what they share: options,
 * finding the server, HTTP requests, state names, and the dispatch. */
#include "commands.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands_int.h"
#include "isotime.h"
#include "json.h"
#include "log.h"
#include "registry.h"
#include "remote.h"
#include "usage.h"

#define STDIN_MAX ((size_t)1 << 30)

/* --- small helpers -------------------------------------------------------- */

void cmd_join_desc(const cJSON *desc, const char *sep, char *out,
                   size_t outlen) {
  size_t o = 0;
  out[0] = '\0';
  const cJSON *d;
  cJSON_ArrayForEach(d, desc) {
    if (!cJSON_IsString(d)) continue;
    int w = snprintf(out + o, outlen - o, "%s%s", o ? sep : "", d->valuestring);
    if (w < 0 || (size_t)w >= outlen - o) break;
    o += (size_t)w;
  }
}

void cmd_print_json(const cJSON *v, int pretty) {
  size_t len;
  char *text =
      pretty ? json_print_pretty(v, &len) : json_print_compact(v, &len);
  if (!text) return;
  fputs(text, stdout);
  if (!pretty) fputc('\n', stdout);
  fflush(stdout); /* one line at a time, also into a pipe */
  free(text);
}

void cmd_now_iso(char *out, size_t outlen) {
  isotime_format(isotime_now_ms(), out, outlen);
}

/* Percent-encodes s for a URL path or query, keeping '/'. */
void cmd_url_encode(const char *s, char *out, size_t outlen) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (; *s && o + 4 < outlen; s++) {
    unsigned char ch = (unsigned char)*s;
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9') || strchr("-._~/", ch)) {
      out[o++] = (char)ch;
    } else {
      out[o++] = '%';
      out[o++] = hex[ch >> 4];
      out[o++] = hex[ch & 15];
    }
  }
  out[o] = '\0';
}

const char *cmd_str_item(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

double cmd_num_item(const cJSON *o, const char *key, double dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Reads all of stdin (for a JSON argument given as "-"). Caller frees. */
static char *read_stdin(size_t *len) {
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t r = fread(buf + n, 1, cap - n - 1, stdin);
    n += r;
    if (r == 0) break;
    if (n + 1 == cap) {
      char *p = cap < STDIN_MAX ? realloc(buf, cap *= 2) : NULL;
      if (!p) free(buf);
      buf = p;
    }
  }
  if (buf) buf[n] = '\0';
  *len = n;
  return buf;
}

/* Parses a JSON argument ("-" reads stdin). On invalid JSON prints where
 * it failed and returns NULL. Caller frees the tree. */
cJSON *cmd_parse_arg(const char *what, const char *arg) {
  size_t len = strlen(arg);
  char *in = NULL;
  if (strcmp(arg, "-") == 0 && !(arg = in = read_stdin(&len))) {
    log_error("cannot read %s from stdin", what);
    return NULL;
  }
  struct json_error err;
  cJSON *v = json_parse(arg, len, &err);
  if (!v) {
    log_error("%s is not valid JSON: %s at line %d, column %d", what,
              err.message, err.line, err.column);
    if (len && strchr("\"[{-0123456789tfn", arg[0]) == NULL)
      log_error("a string needs its JSON quotes, e.g. '\"%.40s\"'", arg);
  }
  free(in);
  return v;
}

int cmd_pointer_ok(const char *p) {
  const char *q = p;
  int ok = *q == '\0' || *q == '/';
  for (; ok && *q; q++)
    if (*q == '~' && q[1] != '0' && q[1] != '1') ok = 0;
  if (!ok)
    log_error("'%s' is not a JSON Pointer: one is \"\" or starts with '/', "
              "and '~' is followed by 0 or 1",
              p);
  return ok;
}

long long cmd_version_arg(const char *s) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < 1) {
    log_error("VERSION must be a version number (>= 1), not '%s'", s);
    return -1;
  }
  return v;
}

/* --- options ----------------------------------------------------------------
 */

static int parse_number(const char *opt, const char *s, double min,
                        double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || v < min) {
    log_error("%s wants a number >= %g, not '%s'", opt, min, s);
    return -1;
  }
  *out = v;
  return 0;
}

/* "mirrorstate NAME ARGS", the command's synopsis from the usage table. */
static const char *usage_of(const struct command *cmd, char *buf,
                            size_t len) {
  const struct usage_command *u = usage_find_command(cmd->name);
  snprintf(buf, len, "mirrorstate %s%s%s", cmd->name,
           u && *u->args ? " " : "", u ? u->args : "");
  return buf;
}

/* Applies option o with its value v (NULL for a flag). */
static int apply(const struct usage_option *o, const char *v,
                 struct opts *out) {
  double d;
  switch (o->id) {
  case OPT_URL: out->url = v; break;
  case OPT_STATE_DIR: out->state_dir = v; break;
  case OPT_ALL: out->all = 1; break;
  case OPT_PAGES: out->pages = 1; break;
  case OPT_FOLLOW: out->follow = 1; break;
  case OPT_TOKEN: out->token = v; break;
  case OPT_PRETTY: out->pretty = 1; break;
  case OPT_HELP: out->help = 1; break;
  case OPT_ORIGIN: out->origin = v; break;
  case OPT_ONCE: out->once = 1; break;
  case OPT_NAMES: out->names = 1; break;
  case OPT_TIMEOUT:
    if (parse_number("--timeout", v, 0, &d)) return -1;
    out->timeout = d;
    break;
  case OPT_SINCE:
    if (parse_number("--since", v, 0, &d)) return -1;
    out->since = (long long)d;
    break;
  case OPT_LIMIT:
    if (parse_number("-n", v, 1, &d)) return -1;
    out->limit = (long)d;
    break;
  default: return -1;
  }
  return 0;
}

/* Options may come anywhere. Anything else is an argument, including "-1"
 * or "-": JSON values and stdin must pass through. */
static int parse_opts(const struct command *cmd, int argc, char **argv,
                      struct opts *o) {
  memset(o, 0, sizeof *o);
  o->timeout = -1;
  o->since = -1;
  const struct usage_command *u = usage_find_command(cmd->name);
  /* Every command has always taken --url, --token and --pretty. */
  unsigned scope = USAGE_REMOTE | (u ? u->scope : 0);
  char usage[300];
  int rest = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const struct usage_option *opt = NULL;
    if (!rest && strcmp(a, "--") == 0) {
      rest = 1;
      continue;
    }
    if (!rest) opt = usage_find_option(a, scope);
    if (opt) {
      const char *v = NULL;
      if (opt->arg) {
        const char *eq = strchr(a, '=');
        if (eq) {
          v = eq + 1;
        } else if (i + 1 < argc) {
          v = argv[++i];
        } else {
          log_error("missing value for %s", a);
          return -1;
        }
      }
      if (apply(opt, v, o)) return -1;
    } else if (!rest && a[0] == '-' && a[1] == '-' && a[2]) {
      usage_unknown_option(a, scope, cmd->name);
      return -1;
    } else if (o->npos < MAX_POS) {
      o->pos[o->npos++] = a;
    } else {
      log_error("too many arguments (usage: %s)",
                usage_of(cmd, usage, sizeof usage));
      return -1;
    }
  }
  if (o->help) return 0;
  if (o->npos < cmd->min_pos || o->npos > cmd->max_pos) {
    log_error("usage: %s", usage_of(cmd, usage, sizeof usage));
    return -1;
  }
  return 0;
}

/* --- finding the server -----------------------------------------------------
 */

int cmd_connect(struct ctx *c) {
  if (c->connected) return CMD_OK;
  struct discover_opts d = {.url = c->o.url,
                            .token = c->o.token,
                            .state_dir = c->o.state_dir};
  if (discover(&d, &c->t) != 0) return CMD_USAGE;
  if (remote_url_parse(c->t.url, &c->u) != 0) {
    log_error("'%s' (from %s) is not an http:// URL", c->t.url, c->t.from);
    return CMD_USAGE;
  }
  c->connected = 1;
  return CMD_OK;
}

/* When no server belongs here, the user's running servers elsewhere. */
static void suggest_running(void) {
  cJSON *list = registry_list(), *e;
  int n = cJSON_GetArraySize(list);
  if (n > 0)
    log_error("%d server%s of yours %s running elsewhere (mirrorstate status "
              "--all lists them):",
              n, n == 1 ? "" : "s", n == 1 ? "is" : "are");
  int shown = 0;
  cJSON_ArrayForEach(e, list) {
    if (shown++ == 5) break;
    log_error("  %s, started in %s: mirrorstate --url %s ...",
              cmd_str_item(e, "url") ? cmd_str_item(e, "url") : "?",
              cmd_str_item(e, "start_dir") ? cmd_str_item(e, "start_dir") : "?",
              cmd_str_item(e, "url") ? cmd_str_item(e, "url") : "?");
  }
  cJSON_Delete(list);
}

void cmd_unreachable(const struct ctx *c, int rc) {
  if (rc == -EACCES) {
    log_error("the server at %s refused the request: wrong or missing token "
              "(--token, MIRRORSTATE_TOKEN), or a Host it does not allow",
              c->t.url);
  } else if (rc == -ETIMEDOUT) {
    log_error("no answer from %s (from %s)", c->t.url, c->t.from);
  } else {
    log_error("cannot reach a MirrorState server at %s (from %s): %s; is "
              "`mirrorstate serve` running? Give --url or MIRRORSTATE_URL",
              c->t.url, c->t.from, strerror(rc < 0 ? -rc : EIO));
    if (!c->t.found) suggest_running();
  }
}

void cmd_display_path(const char *path, char *out, size_t outlen) {
  char cwd[PATH_MAX];
  size_t n;
  if (path && path[0] == '/' && getcwd(cwd, sizeof cwd) &&
      (n = strlen(cwd)) > 1 && !strncmp(path, cwd, n) && path[n] == '/')
    snprintf(out, outlen, "%s", path + n + 1);
  else
    snprintf(out, outlen, "%s", path ? path : "");
}

/* --- HTTP API ---------------------------------------------------------------
 */

int cmd_api(struct ctx *c, const char *method, const char *path,
            const cJSON *body, int *status, long long *version, cJSON **json) {
  *json = NULL;
  *status = 0;
  if (version) *version = -1;
  int rc = cmd_connect(c);
  if (rc) return rc;
  size_t blen = 0;
  char *btext = body ? json_print_compact(body, &blen) : NULL;
  struct remote_reply r;
  rc = remote_http(&c->u, c->t.token[0] ? c->t.token : NULL, method, path,
                   btext, blen, HTTP_TIMEOUT_MS, &r);
  free(btext);
  if (rc) {
    cmd_unreachable(c, rc);
    return CMD_UNREACHABLE;
  }
  *status = r.status;
  if (version) *version = r.version;
  *json = json_parse(r.body, r.len, NULL);
  if (r.status == 403) {
    log_error("the server at %s refused the request: %s", c->t.url,
              cmd_str_item(*json, "message") ? cmd_str_item(*json, "message")
                                             : "forbidden");
    cJSON_Delete(*json);
    *json = NULL;
    remote_reply_free(&r);
    return CMD_UNREACHABLE;
  }
  remote_reply_free(&r);
  return CMD_OK;
}

int cmd_api_error(int status, const cJSON *j) {
  const char *code = cmd_str_item(j, "code"), *msg = cmd_str_item(j, "message");
  log_error("%s%s%s", code ? code : "HTTP error", msg ? ": " : "",
            msg ? msg : "");
  if (status == 400 || status == 411 || status == 413) return CMD_USAGE;
  return CMD_FAILED;
}

int cmd_state_names(struct ctx *c, cJSON **names) {
  int status;
  cJSON *j;
  int rc =
      cmd_api(c, "GET", "/_mirrorstate/api/states", NULL, &status, NULL, &j);
  if (rc) return rc;
  const cJSON *states = cJSON_GetObjectItemCaseSensitive(j, "states");
  if (status != 200 || !cJSON_IsArray(states)) {
    cJSON_Delete(j);
    log_error("%s did not answer like a MirrorState server", c->t.url);
    return CMD_UNREACHABLE;
  }
  *names = cJSON_CreateArray();
  const cJSON *s;
  cJSON_ArrayForEach(s, states) {
    const char *n = cmd_str_item(s, "name");
    if (n) cJSON_AddItemToArray(*names, cJSON_CreateString(n));
  }
  cJSON_Delete(j);
  return CMD_OK;
}

static void join_names(const cJSON *names, char *out, size_t outlen) {
  size_t o = 0;
  out[0] = '\0';
  const cJSON *n;
  cJSON_ArrayForEach(n, names) {
    int w =
        snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", n->valuestring);
    if (w < 0 || (size_t)w >= outlen - o) break;
    o += (size_t)w;
  }
}

int cmd_resolve_name(struct ctx *c, const char *name, char *out,
                     size_t outlen) {
  if (name) {
    snprintf(out, outlen, "%s", name);
    return CMD_OK;
  }
  cJSON *names;
  int rc = cmd_state_names(c, &names);
  if (rc) return rc;
  int n = cJSON_GetArraySize(names);
  char list[1024];
  join_names(names, list, sizeof list);
  if (n == 1)
    snprintf(out, outlen, "%s", cJSON_GetArrayItem(names, 0)->valuestring);
  cJSON_Delete(names);
  if (n == 1) return CMD_OK;
  if (n == 0) {
    log_error("the server mirrors no states");
    return CMD_FAILED;
  }
  log_error("the server mirrors %d states; name one: %s", n, list);
  return CMD_USAGE;
}

void cmd_unknown_state(struct ctx *c, const char *name) {
  cJSON *names;
  if (cmd_state_names(c, &names) != 0) return;
  char list[1024];
  join_names(names, list, sizeof list);
  log_error("unknown state \"%s\"; states: %s", name, list[0] ? list : "none");
  cJSON_Delete(names);
}

void cmd_state_path(const char *name, const char *suffix, char *out,
                    size_t outlen) {
  char enc[700];
  cmd_url_encode(name, enc, sizeof enc);
  snprintf(out, outlen, "/_mirrorstate/api/states/%s%s", enc, suffix);
}

/* --- dispatch ---------------------------------------------------------------
 */

static const struct command commands[] = {
    {"get", cmd_get, 0, 2, 1},          {"set", cmd_set, 3, 3, 1},
    {"patch", cmd_patch, 2, 2, 1},      {"watch", cmd_watch, 0, 1, 1},
    {"history", cmd_history, 0, 1, 1},  {"sync", cmd_sync, 0, 1, 1},
    {"undo", cmd_undo, 2, MAX_POS, 1},  {"reset", cmd_reset, 2, 2, 1},
    {"revert", cmd_revert, 2, 2, 1},    {"errors", cmd_errors, 0, 1, 1},
    {"status", cmd_status, 0, 0, 0},    {"agent-md", cmd_agent_md, 0, 0, 0},
    {"mcp", cmd_mcp, 0, 0, 0},
};

static const struct command *find_command(const char *name) {
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(commands[i].name, name)) return &commands[i];
  return NULL;
}

int commands_exists(const char *name) {
  return find_command(name) != NULL;
}

int commands_run(int argc, char **argv) {
  const struct command *cmd = find_command(argv[0]);
  struct ctx c;
  memset(&c, 0, sizeof c);
  if (!cmd) return CMD_USAGE;
  if (parse_opts(cmd, argc, argv, &c.o) != 0) return CMD_USAGE;
  if (c.o.help) {
    usage_print_command_help(stdout, usage_find_command(cmd->name));
    return CMD_OK;
  }
  int rc = cmd->needs_server ? cmd_connect(&c) : CMD_OK;
  if (!rc) rc = cmd->run(&c);
  target_free(&c.t);
  return rc;
}
