/* mirrorstate watch: one JSON line per change, over the WebSocket, with
 * catch-up from the history ring for --since. Without --once it streams
 * until --timeout (or for ever); with --once it ends after the first batch
 * of kept changes: everything the catch-up found, or the changes that
 * arrived together. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "commands_int.h"
#include "json.h"
#include "log.h"
#include "remote.h"

struct watched {
  char *name;
  long long last;  /* newest version printed or skipped */
  int ready;       /* the answer to subscribe arrived */
  int catching_up; /* history asked for; patches wait in queue */
  cJSON *queue;
};

struct watch {
  struct ctx *c;
  struct watched *st;
  int n, nready, printed;
};

static struct watched *watched_find(struct watch *w, const char *name) {
  for (int i = 0; name && i < w->n; i++)
    if (!strcmp(w->st[i].name, name)) return &w->st[i];
  return NULL;
}

static int origin_matches(const char *filter, const char *origin) {
  if (!filter) return 1;
  if (!origin) return 0;
  if (!strcmp(filter, origin)) return 1;
  /* "client" stands for every app connection, "client:<id>". */
  return (!strcmp(filter, "client") || !strcmp(filter, "client:*")) &&
         !strncmp(origin, "client:", 7);
}

/* A change for people (--pretty): a heading, then one line per op as the
 * server described it (the ops themselves from an older server). */
static void print_pretty(const cJSON *o) {
  printf("%s  %s v%.0f  %s\n", cmd_str_item(o, "time"),
         cmd_str_item(o, "name"), cmd_num_item(o, "version", 0),
         cmd_str_item(o, "origin"));
  const cJSON *desc = cJSON_GetObjectItemCaseSensitive(o, "desc"), *d;
  if (cJSON_GetArraySize(desc) > 0) {
    cJSON_ArrayForEach(d, desc) if (cJSON_IsString(d))
        printf("  %s\n", d->valuestring);
  } else {
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(o, "ops")) {
      char *t = cJSON_PrintUnformatted(d);
      printf("  %s\n", t ? t : "?");
      free(t);
    }
  }
  fflush(stdout);
}

/* Prints one change; m is the patch or history entry it came in. */
static void emit(struct watch *w, struct watched *s, long long version,
                 const char *time, const char *origin, const cJSON *m) {
  s->last = version;
  if (!origin_matches(w->c->o.origin, origin)) return;
  const cJSON *ops = cJSON_GetObjectItemCaseSensitive(m, "ops");
  const cJSON *desc = cJSON_GetObjectItemCaseSensitive(m, "desc");
  char now[40];
  if (!time) cmd_now_iso(now, sizeof now);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "time", time ? time : now);
  cJSON_AddStringToObject(o, "type", "change");
  cJSON_AddStringToObject(o, "name", s->name);
  cJSON_AddNumberToObject(o, "version", (double)version);
  cJSON_AddStringToObject(o, "origin", origin ? origin : "");
  cJSON_AddItemToObject(o, "ops",
                        ops ? cJSON_Duplicate(ops, 1) : cJSON_CreateArray());
  if (cJSON_IsArray(desc))
    cJSON_AddItemToObject(o, "desc", cJSON_Duplicate(desc, 1));
  if (w->c->o.pretty)
    print_pretty(o);
  else
    cmd_print_json(o, 0);
  cJSON_Delete(o);
  w->printed++;
}

/* With --once, ends after a batch: once something was printed and every
 * state has answered and caught up, so a catch-up is printed whole. */
static void check_once(struct watch *w, struct remote_ws *ws) {
  if (!w->c->o.once || !w->printed || w->nready < w->n) return;
  for (int i = 0; i < w->n; i++)
    if (w->st[i].catching_up) return;
  remote_ws_stop_soon(ws);
}

static int send_obj(struct remote_ws *ws, cJSON *o) {
  size_t len;
  char *text = json_print_compact(o, &len);
  cJSON_Delete(o);
  int rc = text ? remote_ws_send(ws, text, len) : -ENOMEM;
  free(text);
  return rc;
}

static int ask_history(struct remote_ws *ws, struct watched *s) {
  s->catching_up = 1;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "history");
  cJSON_AddStringToObject(o, "name", s->name);
  return send_obj(ws, o);
}

static int on_hello(struct watch *w, struct remote_ws *ws, const cJSON *m) {
  const char *only = w->c->o.npos ? w->c->o.pos[0] : NULL;
  const cJSON *names = cJSON_GetObjectItemCaseSensitive(m, "states");
  w->n = only ? 1 : cJSON_GetArraySize(names);
  if (w->n == 0) {
    log_error("the server mirrors no states");
    return -ENOENT;
  }
  w->st = calloc((size_t)w->n, sizeof *w->st);
  if (!w->st) return -ENOMEM;
  for (int i = 0; i < w->n; i++) {
    const cJSON *n = only ? NULL : cJSON_GetArrayItem(names, i);
    w->st[i].name = strdup(only ? only : n->valuestring);
    if (!w->st[i].name) return -ENOMEM;
  }
  cJSON *id = cJSON_CreateObject();
  cJSON_AddStringToObject(id, "type", "identify");
  cJSON_AddStringToObject(id, "role", "cli");
  cJSON_AddStringToObject(id, "page", "mirrorstate watch");
  int rc = send_obj(ws, id);
  for (int i = 0; !rc && i < w->n; i++) {
    cJSON *sub = cJSON_CreateObject();
    cJSON_AddStringToObject(sub, "type", "subscribe");
    cJSON_AddStringToObject(sub, "name", w->st[i].name);
    rc = send_obj(ws, sub);
  }
  return rc;
}

static int on_snapshot(struct watch *w, struct remote_ws *ws, struct watched *s,
                       const cJSON *m) {
  long long v = (long long)cmd_num_item(m, "version", 0);
  /* A later snapshot: the state came into existence. Its first value is
   * version 1, which is not a change (nor in the history); `get` reads it. */
  if (s->ready) {
    if (v > s->last && !s->catching_up) s->last = v;
    return 0;
  }
  s->ready = 1;
  s->last = v;
  if (++w->nready == w->n) {
    char list[1024] = "";
    for (int i = 0, o = 0; i < w->n && o < 900; i++)
      o += snprintf(list + o, sizeof list - (size_t)o, "%s%s (version %lld)",
                    i ? ", " : "", w->st[i].name, w->st[i].last);
    log_info("watching %s", list);
  }
  if (w->c->o.since >= 0 && w->c->o.since < v) {
    s->last = w->c->o.since;
    return ask_history(ws, s);
  }
  return 0;
}

static void on_patch(struct watch *w, struct watched *s, const cJSON *m) {
  long long v = (long long)cmd_num_item(m, "version", 0);
  if (s->catching_up) {
    if (!s->queue) s->queue = cJSON_CreateArray();
    cJSON_AddItemToArray(s->queue, cJSON_Duplicate(m, 1));
    return;
  }
  if (!s->ready || v <= s->last) return;
  emit(w, s, v, NULL, cmd_str_item(m, "origin"), m);
}

/* History fills what a watcher missed (--since), then the patches that arrived
 * meanwhile follow in order. */
static void on_history(struct watch *w, struct watched *s, const cJSON *m) {
  s->catching_up = 0;
  const cJSON *e;
  int first = 1;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(m, "entries")) {
    long long v = (long long)cmd_num_item(e, "version", 0);
    if (v <= s->last) continue;
    if (first && v > s->last + 1)
      log_warn("%s: versions %lld to %lld are no longer in the history",
               s->name, s->last + 1, v - 1);
    first = 0;
    emit(w, s, v, cmd_str_item(e, "time"), cmd_str_item(e, "origin"), e);
  }
  cJSON *q = s->queue;
  s->queue = NULL;
  cJSON_ArrayForEach(e, q) on_patch(w, s, e);
  cJSON_Delete(q);
}

static int on_error_msg(const cJSON *m) {
  const char *code = cmd_str_item(m, "code"), *msg = cmd_str_item(m, "message");
  const char *name = cmd_str_item(m, "name");
  if (code && !strcmp(code, "unknown_state")) {
    log_error("unknown state \"%s\"", name ? name : "?");
    return -ENOENT;
  }
  if (code && !strcmp(code, "file_invalid"))
    log_warn("%s:%.0f:%.0f: invalid JSON: %s", cmd_str_item(m, "file"),
             cmd_num_item(m, "line", 0), cmd_num_item(m, "column", 0),
             msg ? msg : "");
  else
    log_info("%s: %s", name ? name : "server", msg ? msg : code);
  return 0;
}

static int on_ws_message(struct remote_ws *ws, const char *text, size_t len,
                         void *arg) {
  struct watch *w = arg;
  cJSON *m = json_parse(text, len, NULL);
  const char *type = cmd_str_item(m, "type");
  struct watched *s = watched_find(w, cmd_str_item(m, "name"));
  int rc = 0;
  if (!type) {
    rc = 0;
  } else if (!strcmp(type, "hello")) {
    rc = w->st ? 0 : on_hello(w, ws, m);
  } else if (!strcmp(type, "error")) {
    rc = on_error_msg(m);
  } else if (s && !strcmp(type, "snapshot")) {
    rc = on_snapshot(w, ws, s, m);
  } else if (s && !strcmp(type, "patch")) {
    on_patch(w, s, m);
  } else if (s && !strcmp(type, "history")) {
    on_history(w, s, m);
  }
  if (!rc) check_once(w, ws);
  cJSON_Delete(m);
  return rc;
}

int cmd_watch(struct ctx *c) {
  struct watch w = {.c = c};
  int timeout_ms = c->o.timeout < 0                ? 0
                   : c->o.timeout * 1000 > INT_MAX ? INT_MAX
                                                   : (int)(c->o.timeout * 1000);
  if (c->o.timeout == 0) timeout_ms = 1;
  int rc =
      remote_ws_run(&c->u, c->t.token[0] ? c->t.token : NULL, "/_mirrorstate/ws",
                    "mirrorstate.v1", timeout_ms, on_ws_message, &w);
  for (int i = 0; i < w.n; i++) {
    free(w.st[i].name);
    cJSON_Delete(w.st[i].queue);
  }
  free(w.st);
  if (rc == 0) return CMD_OK;
  if (rc == -ETIMEDOUT) {
    if (w.printed) return CMD_OK;
    log_info("no matching change within %g s", c->o.timeout);
    return CMD_FAILED;
  }
  if (rc == -ENOENT) return CMD_FAILED;
  if (rc == -ECONNRESET) {
    log_error("the server closed the connection");
    return CMD_UNREACHABLE;
  }
  cmd_unreachable(c, rc);
  return CMD_UNREACHABLE;
}
