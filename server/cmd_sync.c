/* sync, undo, reset and errors: one WebSocket each, carrying one request
 * per state and waiting for the answers with their refs (docs/protocol.md,
 * "sync", "undo", "reset", "errors"). A server that does not know the
 * message answers bad_message, and the command says the server is too old
 * for it instead of guessing. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "commands_int.h"
#include "json.h"
#include "log.h"
#include "remote.h"

#define SYNC_DEFAULT_TIMEOUT 10.0 /* seconds */
#define ANSWER_GRACE_MS 2000      /* past the pages' wait, for the answer */

/* One WebSocket exchange: msgs sent after the hello, each with a ref of
 * its own, and their answers in the same order. */
struct exchange {
  struct ctx *c;
  const char *what; /* the message type, for messages: "sync" */
  cJSON *msgs;      /* array; refs are added */
  cJSON **answers;  /* one per message, NULL until it arrives */
  int n, pending;
  int follow; /* errors --watch: go on printing page errors */
  int pretty;
  int said_old;     /* "does not support" was said once already */
  char server[128]; /* "mirrorstate/0.1.0", from the hello */
};

static int send_obj(struct remote_ws *ws, const cJSON *o) {
  size_t len;
  char *text = json_print_compact(o, &len);
  int rc = text ? remote_ws_send(ws, text, len) : -ENOMEM;
  free(text);
  return rc;
}

static int ref_index(const struct exchange *x, const cJSON *m) {
  const cJSON *ref = cJSON_GetObjectItemCaseSensitive(m, "ref");
  if (!cJSON_IsString(ref)) return -1;
  char mine[64];
  for (int i = 0; i < x->n; i++) {
    snprintf(mine, sizeof mine, "mirrorstate-cli-%ld-%d", (long)getpid(), i);
    if (!strcmp(ref->valuestring, mine)) return i;
  }
  return -1;
}

static int on_hello(struct exchange *x, struct remote_ws *ws, const cJSON *m) {
  const char *srv = cmd_str_item(m, "server");
  snprintf(x->server, sizeof x->server, "%s", srv ? srv : "?");
  char page[64];
  snprintf(page, sizeof page, "mirrorstate %s", x->what);
  cJSON *id = cJSON_CreateObject();
  cJSON_AddStringToObject(id, "type", "identify");
  cJSON_AddStringToObject(id, "role", "cli");
  cJSON_AddStringToObject(id, "page", page);
  int rc = send_obj(ws, id);
  cJSON_Delete(id);
  int i = 0;
  cJSON *msg;
  cJSON_ArrayForEach(msg, x->msgs) {
    char ref[64];
    snprintf(ref, sizeof ref, "mirrorstate-cli-%ld-%d", (long)getpid(), i++);
    cJSON_DeleteItemFromObjectCaseSensitive(msg, "ref");
    cJSON_AddStringToObject(msg, "ref", ref);
    if (!rc) rc = send_obj(ws, msg);
  }
  return rc;
}

static void print_page_error(const struct exchange *x, const cJSON *m) {
  cJSON *line = cJSON_Duplicate(m, 1);
  cJSON_DeleteItemFromObjectCaseSensitive(line, "ref");
  if (!cJSON_GetObjectItemCaseSensitive(line, "time")) {
    char now[40];
    cmd_now_iso(now, sizeof now);
    cJSON_AddStringToObject(line, "time", now);
  }
  cmd_print_json(line, x->pretty);
  cJSON_Delete(line);
}

static int is_error(const cJSON *a) {
  const char *t = cmd_str_item(a, "type");
  return !t || !strcmp(t, "error");
}

static int on_message(struct remote_ws *ws, const char *text, size_t len,
                      void *arg) {
  struct exchange *x = arg;
  cJSON *m = json_parse(text, len, NULL);
  const char *type = cmd_str_item(m, "type");
  int rc = 0, i = ref_index(x, m);
  if (type && !strcmp(type, "hello") && !x->server[0]) {
    rc = on_hello(x, ws, m);
  } else if (i >= 0 && !x->answers[i]) {
    cJSON_DeleteItemFromObjectCaseSensitive(m, "ref"); /* ours, not news */
    x->answers[i] = m;
    m = NULL;
    /* The first batch of page errors is the answer; later ones follow. */
    if (x->follow && type && !strcmp(type, "errors")) {
      const cJSON *e;
      cJSON_ArrayForEach(
          e, cJSON_GetObjectItemCaseSensitive(x->answers[i], "errors"))
          print_page_error(x, e);
    }
    if (--x->pending == 0 && (!x->follow || is_error(x->answers[i]))) rc = 1;
  } else if (x->follow && x->pending == 0 && type &&
             !strcmp(type, "page_error")) {
    print_page_error(x, m);
  }
  cJSON_Delete(m);
  return rc;
}

/* Sends msgs (an array, taken) and fills x->answers. timeout_ms 0: none.
 * Returns CMD_OK, or the exit code after saying why. */
static int exchange_run(struct exchange *x, struct ctx *c, const char *what,
                        cJSON *msgs, int timeout_ms) {
  x->c = c;
  x->what = what;
  x->msgs = msgs;
  x->n = x->pending = cJSON_GetArraySize(msgs);
  x->answers = calloc((size_t)(x->n ? x->n : 1), sizeof *x->answers);
  x->pretty = c->o.pretty;
  if (!x->answers) return CMD_FAILED;
  int rc = cmd_connect(c);
  if (rc) return rc;
  rc = remote_ws_run(&c->u, c->t.token[0] ? c->t.token : NULL,
                     "/_mirrorstate/ws", "mirrorstate.v1", timeout_ms,
                     on_message, x);
  if (rc == 0) return CMD_OK;
  if (rc == -ETIMEDOUT && x->follow && x->pending == 0) return CMD_OK;
  if (rc == -ETIMEDOUT && x->server[0]) {
    log_error("no answer to %s from %s within %g s", what, c->t.url,
              timeout_ms / 1000.0);
    return CMD_FAILED;
  }
  if (rc == -ECONNRESET) {
    log_error("the server at %s closed the connection", c->t.url);
    return CMD_UNREACHABLE;
  }
  cmd_unreachable(c, rc);
  return CMD_UNREACHABLE;
}

static void exchange_free(struct exchange *x) {
  for (int i = 0; x->answers && i < x->n; i++)
    cJSON_Delete(x->answers[i]);
  free(x->answers);
  cJSON_Delete(x->msgs);
}

/* An error answer: says what it means and returns its exit code. */
static int answer_error(struct exchange *x, const cJSON *a, const char *name) {
  const char *code = cmd_str_item(a, "code"), *msg = cmd_str_item(a, "message");
  if (!code) code = "error";
  if (!strcmp(code, "bad_message") && msg &&
      strstr(msg, "unknown message type")) {
    if (x->said_old++) return CMD_UNREACHABLE;
    log_error("this server (%s at %s) does not support %s yet (it answered "
              "bad_message: %s); a newer `mirrorstate serve` does",
              x->server, x->c->t.url, x->what, msg);
    return CMD_UNREACHABLE;
  }
  if (!strcmp(code, "unknown_state")) {
    cmd_unknown_state(x->c, name ? name : "?");
    return CMD_FAILED;
  }
  log_error("%s%s%s", code, msg ? ": " : "", msg ? msg : "");
  if (!strcmp(code, "bad_message") || !strcmp(code, "invalid_patch"))
    return CMD_USAGE;
  return CMD_FAILED;
}

static cJSON *request(const char *type, const char *name) {
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "type", type);
  if (name) cJSON_AddStringToObject(m, "name", name);
  return m;
}

/* --- sync ------------------------------------------------------------------
 */

/* Says what one synced answer means; returns its exit code. */
static int judge_synced(const cJSON *a, int pages, double timeout) {
  const char *name = cmd_str_item(a, "name"), *st = cmd_str_item(a, "status");
  double v = cmd_num_item(a, "version", 0);
  if (st && !strcmp(st, "invalid")) {
    const char *file = cmd_str_item(a, "file"),
               *msg = cmd_str_item(a, "message");
    const char *text = cmd_str_item(a, "text");
    char rel[PATH_MAX];
    if (file) {
      cmd_display_path(file, rel, sizeof rel);
      file = rel;
    }
    log_error("%s:%.0f:%.0f: the file of state \"%s\" is not valid JSON%s%s%s%s"
              "; the state stays at version %.0f until the file parses",
              file ? file : name, cmd_num_item(a, "line", 0),
              cmd_num_item(a, "column", 0), name ? name : "?", msg ? ": " : "",
              msg ? msg : "", text ? "; the line: " : "", text ? text : "", v);
    return CMD_FAILED;
  }
  if (st && !strcmp(st, "missing")) {
    const char *file = cmd_str_item(a, "file");
    char rel[PATH_MAX];
    if (file) cmd_display_path(file, rel, sizeof rel);
    log_error("%s: the file of state \"%s\" does not exist; the state stays "
              "at version %.0f in memory and is written to it on the next "
              "change",
              file ? rel : name, name ? name : "?", v);
    return CMD_FAILED;
  }
  if (!st || (strcmp(st, "applied") && strcmp(st, "unchanged"))) {
    log_error("state \"%s\": unexpected sync status \"%s\"", name ? name : "?",
              st ? st : "");
    return CMD_FAILED;
  }
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, "pages");
  const cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(p, "errors")) {
    const char *m = cmd_str_item(e, "message");
    log_warn("state \"%s\": a page reported an error after version %.0f: %s",
             name ? name : "?", v, m ? m : "?");
  }
  double confirmed = cmd_num_item(p, "confirmed", 0),
         total = cmd_num_item(p, "total", 0);
  if (pages && confirmed < total) {
    log_error("state \"%s\": %.0f of %.0f pages confirmed version %.0f within "
              "%g s",
              name ? name : "?", confirmed, total, v, timeout);
    return CMD_FAILED;
  }
  return CMD_OK;
}

int op_sync(struct ctx *c, const char *name, int pages, double timeout,
            cJSON **out) {
  *out = NULL;
  if (timeout < 0) timeout = SYNC_DEFAULT_TIMEOUT;
  cJSON *names;
  int rc;
  if (name) {
    names = cJSON_CreateArray();
    cJSON_AddItemToArray(names, cJSON_CreateString(name));
  } else if ((rc = cmd_state_names(c, &names))) {
    return rc;
  }
  if (!cJSON_GetArraySize(names)) {
    log_error("the server mirrors no states");
    cJSON_Delete(names);
    return CMD_FAILED;
  }
  cJSON *msgs = cJSON_CreateArray(), *n;
  double ms = timeout * 1000 > INT_MAX - ANSWER_GRACE_MS
                  ? INT_MAX - ANSWER_GRACE_MS
                  : timeout * 1000;
  cJSON_ArrayForEach(n, names) {
    cJSON *m = request("sync", n->valuestring);
    cJSON_AddBoolToObject(m, "pages", pages);
    cJSON_AddNumberToObject(m, "timeout", (double)(long)ms);
    cJSON_AddItemToArray(msgs, m);
  }
  struct exchange x = {0};
  rc = exchange_run(&x, c, "sync", msgs, (int)ms + ANSWER_GRACE_MS);
  if (!rc) {
    *out = cJSON_CreateObject();
    cJSON *results = cJSON_AddArrayToObject(*out, "results");
    for (int i = 0; i < x.n; i++) {
      cJSON *a = x.answers[i];
      const char *nm = cJSON_GetArrayItem(names, i)->valuestring;
      int r = is_error(a) ? answer_error(&x, a, nm)
                          : judge_synced(a, pages, timeout);
      if (r > rc) rc = r;
      if (!is_error(a)) cJSON_AddItemToArray(results, cJSON_Duplicate(a, 1));
    }
    if (!cJSON_GetArraySize(results)) {
      cJSON_Delete(*out);
      *out = NULL;
    }
  }
  cJSON_Delete(names);
  exchange_free(&x);
  return rc;
}

int cmd_sync(struct ctx *c) {
  cJSON *out;
  int rc = op_sync(c, c->o.npos ? c->o.pos[0] : NULL, c->o.pages, c->o.timeout,
                   &out);
  const cJSON *a;
  cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(out, "results"))
      cmd_print_json(a, c->o.pretty);
  cJSON_Delete(out);
  return rc;
}

/* --- undo and reset --------------------------------------------------------
 */

/* One request about name; *out is the answer (ack or error). */
static int one_request(struct ctx *c, const char *what, cJSON *msg,
                       const char *name, cJSON **out) {
  cJSON *msgs = cJSON_CreateArray();
  cJSON_AddItemToArray(msgs, msg);
  struct exchange x = {0};
  int rc = exchange_run(&x, c, what, msgs, HTTP_TIMEOUT_MS);
  *out = NULL;
  if (!rc) {
    *out = x.answers[0];
    x.answers[0] = NULL;
    if (is_error(*out)) rc = answer_error(&x, *out, name);
  }
  exchange_free(&x);
  return rc;
}

static void version_list(const cJSON *arr, char *out, size_t outlen) {
  size_t o = 0;
  const cJSON *v;
  out[0] = '\0';
  cJSON_ArrayForEach(v, arr) {
    double n =
        cJSON_IsNumber(v) ? v->valuedouble : cmd_num_item(v, "version", 0);
    if (o + 24 >= outlen) break;
    o += (size_t)snprintf(out + o, outlen - o, "%s%.0f", o ? ", " : "", n);
  }
}

int op_undo(struct ctx *c, const char *name, const long long *versions, int n,
            cJSON **out) {
  cJSON *msg = request("undo", name);
  cJSON *vs = cJSON_AddArrayToObject(msg, "versions");
  for (int i = 0; i < n; i++)
    cJSON_AddItemToArray(vs, cJSON_CreateNumber((double)versions[i]));
  int rc = one_request(c, "undo", msg, name, out);
  const char *code = cmd_str_item(*out, "code");
  if (rc == CMD_FAILED && code && !strcmp(code, "conflict")) {
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(*out, "conflicts")) {
      const char *p = cmd_str_item(k, "path");
      log_error("cannot undo version %.0f: a later change touched %s; nothing "
                "was undone",
                cmd_num_item(k, "version", 0), p && *p ? p : "the whole state");
    }
  } else if (!rc) {
    char list[512];
    version_list(cJSON_GetObjectItemCaseSensitive(*out, "undone"), list,
                 sizeof list);
    if (*list)
      log_info("undid version %s of \"%s\", keeping the later changes", list,
               name);
  }
  return rc;
}

int op_reset(struct ctx *c, const char *name, long long version, cJSON **out) {
  cJSON *msg = request("reset", name);
  cJSON_AddNumberToObject(msg, "version", (double)version);
  int rc = one_request(c, "reset", msg, name, out);
  if (!rc) {
    char list[512];
    version_list(cJSON_GetObjectItemCaseSensitive(*out, "discarded"), list,
                 sizeof list);
    if (*list)
      log_warn("reset \"%s\" to version %lld, discarding the changes of "
               "versions %s",
               name, version, list);
  }
  return rc;
}

/* Prints the answer; a conflict's answer too, so a script sees the list. */
static int print_answer(struct ctx *c, int rc, cJSON *a) {
  if (a && (rc == CMD_OK || rc == CMD_FAILED)) cmd_print_json(a, c->o.pretty);
  cJSON_Delete(a);
  return rc;
}

int cmd_undo(struct ctx *c) {
  long long vs[MAX_POS];
  int n = 0;
  for (int i = 1; i < c->o.npos; i++)
    if ((vs[n++] = cmd_version_arg(c->o.pos[i])) < 0) return CMD_USAGE;
  cJSON *a;
  int rc = op_undo(c, c->o.pos[0], vs, n, &a);
  return print_answer(c, rc, a);
}

int cmd_reset(struct ctx *c) {
  long long v = cmd_version_arg(c->o.pos[1]);
  if (v < 0) return CMD_USAGE;
  cJSON *a;
  int rc = op_reset(c, c->o.pos[0], v, &a);
  return print_answer(c, rc, a);
}

/* --- errors ----------------------------------------------------------------
 */

static cJSON *errors_request(struct ctx *c, const char *name, long long since,
                             int follow, int *rc) {
  char st[512];
  *rc = CMD_OK;
  /* A version belongs to a state: --since needs one. */
  if (since >= 0 && (*rc = cmd_resolve_name(c, name, st, sizeof st)))
    return NULL;
  cJSON *msg = request("errors", since >= 0 ? st : name);
  if (since >= 0) cJSON_AddNumberToObject(msg, "since", (double)since);
  if (follow) cJSON_AddTrueToObject(msg, "watch");
  cJSON *msgs = cJSON_CreateArray();
  cJSON_AddItemToArray(msgs, msg);
  return msgs;
}

int op_errors(struct ctx *c, const char *name, long long since, cJSON **out) {
  int rc;
  *out = NULL;
  cJSON *msgs = errors_request(c, name, since, 0, &rc);
  if (!msgs) return rc;
  struct exchange x = {0};
  rc = exchange_run(&x, c, "errors", msgs, HTTP_TIMEOUT_MS);
  if (!rc && is_error(x.answers[0])) rc = answer_error(&x, x.answers[0], name);
  if (!rc) {
    *out = cJSON_CreateObject();
    cJSON *e = cJSON_DetachItemFromObjectCaseSensitive(x.answers[0], "errors");
    cJSON_AddItemToObject(*out, "errors",
                          cJSON_IsArray(e) ? e : cJSON_CreateArray());
    if (!cJSON_IsArray(e)) cJSON_Delete(e);
  }
  exchange_free(&x);
  return rc;
}

int cmd_errors(struct ctx *c) {
  const char *name = c->o.npos ? c->o.pos[0] : NULL;
  if (!c->o.follow) {
    cJSON *out;
    int rc = op_errors(c, name, c->o.since, &out);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(out, "errors"))
        cmd_print_json(e, c->o.pretty);
    cJSON_Delete(out);
    return rc;
  }
  int rc;
  cJSON *msgs = errors_request(c, name, c->o.since, 1, &rc);
  if (!msgs) return rc;
  struct exchange x = {.follow = 1};
  int ms = c->o.timeout < 0                ? 0
           : c->o.timeout * 1000 > INT_MAX ? INT_MAX
                                           : (int)(c->o.timeout * 1000);
  if (c->o.timeout == 0) ms = 1;
  rc = exchange_run(&x, c, "errors", msgs, ms);
  if (!rc && x.answers[0] && is_error(x.answers[0]))
    rc = answer_error(&x, x.answers[0], name);
  exchange_free(&x);
  return rc;
}
