/* CLI subcommands: each one is a request (or a WebSocket) to a running
 * server, found by --url, MIRRORSTATE_URL or the runtime file. stdout
 * carries results only (JSON lines, or tables with --pretty); problems go
 * to stderr, and the exit code says which kind they were. */
#include "commands.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "assets.h"
#include "isotime.h"
#include "json.h"
#include "log.h"
#include "remote.h"
#include "commands_int.h"
#include "runtime.h"
#include "usage.h"

#define DEFAULT_URL "http://127.0.0.1:7420"
#define HTTP_TIMEOUT_MS 30000
#define STDIN_MAX ((size_t)1 << 30)
#define AGENT_MD_MARKER "# Working on an app mirrored by MirrorState"

/* --- small helpers -------------------------------------------------------- */

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
static void url_encode(const char *s, char *out, size_t outlen) {
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

static int code_is(const cJSON *o, const char *code) {
  const char *c = cmd_str_item(o, "code");
  return c && !strcmp(c, code);
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
static cJSON *parse_arg(const char *what, const char *arg) {
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

static int pointer_ok(const char *p) {
  if (*p == '\0') return 1;
  if (*p != '/') return 0;
  for (; *p; p++)
    if (*p == '~' && p[1] != '0' && p[1] != '1') return 0;
  return 1;
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

/* Fills url/token from the runtime file above the current directory. */
static void from_runtime_file(struct ctx *c) {
  char cwd[PATH_MAX], path[PATH_MAX + 64];
  if (!getcwd(cwd, sizeof cwd) || runtime_find(cwd, path, sizeof path) != 0) {
    snprintf(c->url, sizeof c->url, "%s", DEFAULT_URL);
    snprintf(c->from, sizeof c->from, "the default (no %s/%s found)",
             RUNTIME_DIR, RUNTIME_FILE);
    return;
  }
  cJSON *rt = runtime_read(path);
  const char *url = cmd_str_item(rt, "url"), *token = cmd_str_item(rt, "token");
  snprintf(c->url, sizeof c->url, "%s", url ? url : DEFAULT_URL);
  snprintf(c->from, sizeof c->from, "%s", path);
  /* The file's token belongs to the file's server only. */
  const char *env_token = getenv("MIRRORSTATE_TOKEN");
  if (token && !c->o.token && !(env_token && *env_token))
    snprintf(c->token, sizeof c->token, "%s", token);
  if (!url) log_warn("%s has no url; trying %s", path, DEFAULT_URL);
  cJSON_Delete(rt);
}

static int find_server(struct ctx *c) {
  const char *env_url = getenv("MIRRORSTATE_URL");
  const char *env_token = getenv("MIRRORSTATE_TOKEN");
  if (c->o.url) {
    snprintf(c->url, sizeof c->url, "%s", c->o.url);
    snprintf(c->from, sizeof c->from, "--url");
  } else if (env_url && *env_url) {
    snprintf(c->url, sizeof c->url, "%s", env_url);
    snprintf(c->from, sizeof c->from, "MIRRORSTATE_URL");
  } else {
    from_runtime_file(c);
  }
  if (c->o.token)
    snprintf(c->token, sizeof c->token, "%s", c->o.token);
  else if (env_token && *env_token)
    snprintf(c->token, sizeof c->token, "%s", env_token);
  if (remote_url_parse(c->url, &c->u) != 0) {
    log_error("'%s' (from %s) is not an http:// URL", c->url, c->from);
    return -1;
  }
  return 0;
}

void cmd_unreachable(const struct ctx *c, int rc) {
  if (rc == -EACCES)
    log_error("the server at %s refused the request: wrong or missing token "
              "(--token, MIRRORSTATE_TOKEN), or a Host it does not allow",
              c->url);
  else if (rc == -ETIMEDOUT)
    log_error("no answer from %s (from %s)", c->url, c->from);
  else
    log_error("cannot reach a MirrorState server at %s (from %s): %s; is "
              "`mirrorstate serve` running? Give --url or MIRRORSTATE_URL",
              c->url, c->from, strerror(rc < 0 ? -rc : EIO));
}

/* --- HTTP API ---------------------------------------------------------------
 */

/* One request. On 0, *json holds the parsed body (NULL if it is not JSON;
 * caller frees) and *status the HTTP status. Otherwise returns the exit
 * code after saying why. */
static int api(struct ctx *c, const char *method, const char *path,
               const cJSON *body, int *status, cJSON **json) {
  *json = NULL;
  *status = 0;
  size_t blen = 0;
  char *btext = body ? json_print_compact(body, &blen) : NULL;
  struct remote_reply r;
  int rc = remote_http(&c->u, c->token[0] ? c->token : NULL, method, path,
                       btext, blen, HTTP_TIMEOUT_MS, &r);
  free(btext);
  if (rc) {
    cmd_unreachable(c, rc);
    return CMD_UNREACHABLE;
  }
  *status = r.status;
  *json = json_parse(r.body, r.len, NULL);
  if (r.status == 403) {
    log_error("the server at %s refused the request: %s", c->url,
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

/* Says what an error answer means; returns the exit code for it. */
static int api_error(int status, const cJSON *j) {
  const char *code = cmd_str_item(j, "code"), *msg = cmd_str_item(j, "message");
  log_error("%s%s%s", code ? code : "HTTP error", msg ? ": " : "",
            msg ? msg : "");
  if (status == 400 || status == 411 || status == 413) return CMD_USAGE;
  return CMD_FAILED;
}

/* The names of the server's states, as a new array (caller frees). */
static int state_names(struct ctx *c, cJSON **names) {
  int status;
  cJSON *j;
  int rc = api(c, "GET", "/_mirrorstate/api/states", NULL, &status, &j);
  if (rc) return rc;
  const cJSON *states = cJSON_GetObjectItemCaseSensitive(j, "states");
  if (status != 200 || !cJSON_IsArray(states)) {
    cJSON_Delete(j);
    log_error("%s did not answer like a MirrorState server", c->url);
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

/* The only state's name, when NAME was left out. */
static int only_state(struct ctx *c, char *out, size_t outlen) {
  cJSON *names;
  int rc = state_names(c, &names);
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

static void unknown_state(struct ctx *c, const char *name) {
  cJSON *names;
  if (state_names(c, &names) != 0) return;
  char list[1024];
  join_names(names, list, sizeof list);
  log_error("unknown state \"%s\"; states: %s", name, list[0] ? list : "none");
  cJSON_Delete(names);
}

static void state_path(const char *name, const char *suffix, char *out,
                       size_t outlen) {
  char enc[700];
  url_encode(name, enc, sizeof enc);
  snprintf(out, outlen, "/_mirrorstate/api/states/%s%s", enc, suffix);
}

/* POSTs a change message for name; prints the ack. */
static int post_change(struct ctx *c, const char *name, const cJSON *msg,
                       int *status_out) {
  char path[800];
  state_path(name, "", path, sizeof path);
  int status;
  cJSON *j;
  int rc = api(c, "POST", path, msg, &status, &j);
  if (rc) return rc;
  if (status_out) *status_out = status;
  if (status == 200 && cJSON_IsObject(j)) {
    cmd_print_json(j, c->o.pretty);
  } else if (status == 409 && status_out) {
    rc = CMD_FAILED; /* the caller may try another way */
  } else {
    /* An unknown name is answered without one; other 404s carry it. */
    if (status == 404 && !cmd_str_item(j, "name"))
      unknown_state(c, name);
    else
      rc = api_error(status, j);
    if (!rc) rc = CMD_FAILED;
  }
  cJSON_Delete(j);
  return rc;
}

/* --- get, set, patch, revert ------------------------------------------------
 */

/* NAME and POINTER of `get`/`history`: NAME may be left out when the server
 * mirrors one state, and a lone argument starting with '/' is a pointer. */
static int name_and_pointer(struct ctx *c, char *name, size_t namelen,
                            const char **ptr) {
  const char *given = NULL;
  *ptr = NULL;
  if (c->o.npos == 2) {
    given = c->o.pos[0];
    *ptr = c->o.pos[1];
  } else if (c->o.npos == 1 && c->o.pos[0][0] == '/') {
    *ptr = c->o.pos[0];
  } else if (c->o.npos == 1) {
    given = c->o.pos[0];
  }
  if (*ptr && !pointer_ok(*ptr)) {
    log_error("'%s' is not a JSON Pointer: one is \"\" or starts with '/', "
              "and '~' is followed by 0 or 1",
              *ptr);
    return CMD_USAGE;
  }
  if (given) {
    snprintf(name, namelen, "%s", given);
    return CMD_OK;
  }
  return only_state(c, name, namelen);
}

static int cmd_get(struct ctx *c) {
  char name[512];
  const char *ptr;
  int rc = name_and_pointer(c, name, sizeof name, &ptr);
  if (rc) return rc;
  char path[3000], query[2100] = "";
  if (ptr) {
    char enc[2048];
    url_encode(ptr, enc, sizeof enc);
    snprintf(query, sizeof query, "?pointer=%s", enc);
  }
  state_path(name, query, path, sizeof path);
  int status;
  cJSON *j;
  if ((rc = api(c, "GET", path, NULL, &status, &j))) return rc;
  if (status == 200 && j) {
    cmd_print_json(j, c->o.pretty);
  } else if (status == 404 && !cmd_str_item(j, "name")) {
    unknown_state(c, name);
    rc = CMD_FAILED;
  } else if (status == 404 && code_is(j, "not_found")) {
    log_error("nothing at %s in state \"%s\"", ptr, name);
    rc = CMD_FAILED;
  } else {
    rc = api_error(status, j);
  }
  cJSON_Delete(j);
  return rc;
}

static int last_token_is_dash(const char *ptr) {
  const char *slash = strrchr(ptr, '/');
  return slash && strcmp(slash, "/-") == 0;
}

static cJSON *one_op(const char *op, const char *ptr, const cJSON *value) {
  cJSON *msg = cJSON_CreateObject();
  cJSON_AddStringToObject(msg, "type", "patch");
  cJSON *ops = cJSON_AddArrayToObject(msg, "ops");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "op", op);
  cJSON_AddStringToObject(o, "path", ptr);
  cJSON_AddItemToObject(o, "value", cJSON_Duplicate(value, 1));
  cJSON_AddItemToArray(ops, o);
  return msg;
}

/* set: the whole state for "", else "replace" if the value exists and "add"
 * if not (so an array index replaces its element and "-" appends). */
static int cmd_set(struct ctx *c) {
  const char *name = c->o.pos[0], *ptr = c->o.pos[1];
  if (!pointer_ok(ptr)) {
    log_error("'%s' is not a JSON Pointer: one is \"\" or starts with '/', "
              "and '~' is followed by 0 or 1",
              ptr);
    return CMD_USAGE;
  }
  cJSON *value = parse_arg("JSON_VALUE", c->o.pos[2]);
  if (!value) return CMD_USAGE;
  int rc, status = 0;
  cJSON *msg;
  if (!*ptr) {
    msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "type", "set");
    cJSON_AddItemToObject(msg, "state", cJSON_Duplicate(value, 1));
    rc = post_change(c, name, msg, NULL);
  } else {
    int add_only = last_token_is_dash(ptr);
    msg = one_op(add_only ? "add" : "replace", ptr, value);
    rc = post_change(c, name, msg, add_only ? NULL : &status);
    if (!add_only && status == 409) {
      cJSON_Delete(msg);
      msg = one_op("add", ptr, value);
      rc = post_change(c, name, msg, NULL);
    }
  }
  cJSON_Delete(msg);
  cJSON_Delete(value);
  return rc;
}

static int cmd_patch(struct ctx *c) {
  cJSON *ops = parse_arg("OPS", c->o.pos[1]);
  if (!ops) return CMD_USAGE;
  if (!cJSON_IsArray(ops)) {
    log_error("OPS must be a JSON array of JSON Patch operations, e.g. "
              "'[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}]'");
    cJSON_Delete(ops);
    return CMD_USAGE;
  }
  cJSON *msg = cJSON_CreateObject();
  cJSON_AddStringToObject(msg, "type", "patch");
  cJSON_AddItemToObject(msg, "ops", ops);
  int rc = post_change(c, c->o.pos[0], msg, NULL);
  cJSON_Delete(msg);
  return rc;
}

static int cmd_revert(struct ctx *c) {
  char *end;
  errno = 0;
  long long v = strtoll(c->o.pos[1], &end, 10);
  if (errno || end == c->o.pos[1] || *end || v < 1) {
    log_error("VERSION must be a version number (>= 1), not '%s'", c->o.pos[1]);
    return CMD_USAGE;
  }
  cJSON *msg = cJSON_CreateObject();
  cJSON_AddStringToObject(msg, "type", "revert");
  cJSON_AddNumberToObject(msg, "version", (double)v);
  int rc = post_change(c, c->o.pos[0], msg, NULL);
  cJSON_Delete(msg);
  return rc;
}

/* --- history and status -----------------------------------------------------
 */

/* "replace /a, add /items/-" from a list of ops. */
static void ops_summary(const cJSON *ops, char *out, size_t outlen) {
  size_t o = 0;
  int n = 0, total = cJSON_GetArraySize(ops);
  out[0] = '\0';
  const cJSON *op;
  cJSON_ArrayForEach(op, ops) {
    const char *k = cmd_str_item(op, "op"), *p = cmd_str_item(op, "path");
    int w = snprintf(out + o, outlen - o, "%s%s %s", n ? ", " : "", k ? k : "?",
                     p && *p ? p : "(root)");
    if (w < 0 || (size_t)w >= outlen - o || ++n == 4) break;
    o += (size_t)w;
  }
  if (n < total && total > 0 && strlen(out) + 20 < outlen)
    snprintf(out + strlen(out), outlen - strlen(out), " (+%d more)", total - n);
}

static void history_table(const cJSON *entries) {
  printf("%-8s %-24s %-12s %s\n", "VERSION", "TIME", "ORIGIN", "CHANGE");
  const cJSON *e;
  cJSON_ArrayForEach(e, entries) {
    char sum[200];
    ops_summary(cJSON_GetObjectItemCaseSensitive(e, "ops"), sum, sizeof sum);
    const char *t = cmd_str_item(e, "time"), *o = cmd_str_item(e, "origin");
    printf("%-8.0f %-24s %-12s %s\n", cmd_num_item(e, "version", 0), t ? t : "",
           o ? o : "", sum);
  }
  fflush(stdout);
}

static int cmd_history(struct ctx *c) {
  char name[512];
  const char *ptr;
  if (c->o.npos == 1 && c->o.pos[0][0] == '/') {
    log_error("usage: mirrorstate history [NAME] [-n N] (a NAME, not a "
              "pointer)");
    return CMD_USAGE;
  }
  int rc = name_and_pointer(c, name, sizeof name, &ptr);
  if (rc) return rc;
  char query[40] = "/history", path[800];
  if (c->o.limit > 0)
    snprintf(query, sizeof query, "/history?limit=%ld", c->o.limit);
  state_path(name, query, path, sizeof path);
  int status;
  cJSON *j;
  if ((rc = api(c, "GET", path, NULL, &status, &j))) return rc;
  const cJSON *entries = cJSON_GetObjectItemCaseSensitive(j, "entries");
  if (status == 200 && cJSON_IsArray(entries)) {
    if (c->o.pretty) {
      history_table(entries);
    } else {
      const cJSON *e;
      cJSON_ArrayForEach(e, entries) {
        /* Name first, as in watch lines and the event log. */
        cJSON *line = cJSON_CreateObject();
        cJSON_AddStringToObject(line, "name", name);
        for (const cJSON *f = e->child; f; f = f->next)
          cJSON_AddItemToObject(line, f->string, cJSON_Duplicate(f, 1));
        cmd_print_json(line, 0);
        cJSON_Delete(line);
      }
    }
  } else if (status == 404) {
    unknown_state(c, name);
    rc = CMD_FAILED;
  } else {
    rc = api_error(status, j);
  }
  cJSON_Delete(j);
  return rc;
}

static void status_table(const struct ctx *c, const cJSON *j) {
  const char *srv = cmd_str_item(j, "server"),
             *ses = cmd_str_item(j, "session");
  printf("server   %s at %s (session %s)\n", srv ? srv : "?", c->url,
         ses ? ses : "?");
  printf("clients  %.0f connected\n", cmd_num_item(j, "clients", 0));
  printf("\n%-20s %-8s %-14s %s\n", "STATE", "VERSION", "FILE STATUS", "FILE");
  const cJSON *s;
  cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(j, "states")) {
    const char *n = cmd_str_item(s, "name"), *st = cmd_str_item(s, "status"),
               *f = cmd_str_item(s, "file");
    printf("%-20s %-8.0f %-14s %s\n", n ? n : "?",
           cmd_num_item(s, "version", 0), st ? st : "?", f ? f : "");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(s, "error");
    if (cJSON_IsObject(e)) {
      const char *m = cmd_str_item(e, "message");
      printf("%-20s   %s:%.0f:%.0f: %s\n", "", f ? f : n,
             cmd_num_item(e, "line", 0), cmd_num_item(e, "column", 0),
             m ? m : "");
    }
  }
  fflush(stdout);
}

/* status always prints one JSON object, even when the server is down, so a
 * script can read "reachable" instead of parsing stderr. */
static int cmd_status(struct ctx *c) {
  int status;
  cJSON *j;
  if (c->o.names) {
    cJSON *names, *n;
    int rc = state_names(c, &names);
    if (rc) return rc;
    cJSON_ArrayForEach(n, names) printf("%s\n", n->valuestring);
    fflush(stdout);
    cJSON_Delete(names);
    return CMD_OK;
  }
  int rc = api(c, "GET", "/_mirrorstate/api/states", NULL, &status, &j);
  if (!rc && (status != 200 || !cJSON_IsObject(j))) {
    log_error("%s did not answer like a MirrorState server (HTTP %d)", c->url,
              status);
    rc = CMD_UNREACHABLE;
  }
  if (rc) {
    cJSON_Delete(j);
    j = cJSON_CreateObject();
    cJSON_AddFalseToObject(j, "reachable");
    cJSON_AddStringToObject(j, "url", c->url);
    cJSON_AddStringToObject(j, "from", c->from);
    if (!c->o.pretty) cmd_print_json(j, 0);
    cJSON_Delete(j);
    return rc;
  }
  if (c->o.pretty) {
    status_table(c, j);
  } else {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "reachable");
    cJSON_AddStringToObject(o, "url", c->url);
    cJSON_AddStringToObject(o, "from", c->from);
    cJSON *child;
    while ((child = j->child)) {
      cJSON_DetachItemViaPointer(j, child);
      cJSON_AddItemToObject(o, child->string, child);
    }
    cmd_print_json(o, 0);
    cJSON_Delete(o);
  }
  cJSON_Delete(j);
  return CMD_OK;
}

/* --- agent-md ---------------------------------------------------------------
 */

/* Prints the part of AGENT.md for apps mirrored by MirrorState: from its
 * marker heading to the end. No server is involved. */
static int cmd_agent_md(struct ctx *c) {
  (void)c;
  const struct asset *a = assets_find("AGENT.md");
  if (!a) {
    log_error("this binary was built without AGENT.md");
    return CMD_FAILED;
  }
  const char *text = (const char *)a->data, *end = text + a->size;
  const char *p = text;
  size_t mlen = strlen(AGENT_MD_MARKER);
  while (p < end) {
    if ((size_t)(end - p) >= mlen && !memcmp(p, AGENT_MD_MARKER, mlen)) break;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    p = nl ? nl + 1 : end;
  }
  if (p == end) p = text; /* no marker: the whole page beats nothing */
  fwrite(p, 1, (size_t)(end - p), stdout);
  fflush(stdout);
  return CMD_OK;
}

/* --- dispatch ---------------------------------------------------------------
 */

static const struct command commands[] = {
    {"get", cmd_get, 0, 2},         {"set", cmd_set, 3, 3},
    {"patch", cmd_patch, 2, 2},     {"watch", cmd_watch, 0, 1},
    {"history", cmd_history, 0, 1}, {"revert", cmd_revert, 2, 2},
    {"status", cmd_status, 0, 0},   {"agent-md", cmd_agent_md, 0, 0},
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
  if (cmd->run != cmd_agent_md && find_server(&c) != 0) return CMD_USAGE;
  return cmd->run(&c);
}
