/* The hub: client messages and file changes meet the states here. */
#include "hub.h"
#include "hub_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "access.h"
#include "eventlog.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "patch.h"
#include "strict.h"

struct hub *hub_new(const struct config *cfg, struct store *store,
                    struct eventlog *log, const struct hub_sender *sender,
                    const struct hub_files *files) {
  struct hub *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->cfg = cfg;
  h->store = store;
  h->log = log;
  h->sender = *sender;
  h->files = *files;
  unsigned char rnd[8];
  if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    memcpy(rnd, &ts.tv_nsec,
           sizeof rnd < sizeof ts.tv_nsec ? sizeof rnd : sizeof ts.tv_nsec);
  }
  for (int i = 0; i < 8; i++)
    snprintf(h->session_id + 2 * i, 3, "%02x", rnd[i]);
  return h;
}

void hub_free(struct hub *h) {
  if (!h) return;
  hub__loop_free(h);
  free(h);
}

void hub_set_timer(struct hub *h, const struct hub_timer *t) {
  h->timer = *t;
}

const char *hub_session_id(const struct hub *h) {
  return h->session_id;
}

int hub_client_count(const struct hub *h) {
  return h->nclients;
}

const struct store *hub_store(const struct hub *h) {
  return h->store;
}

struct state *hub_find(struct hub *h, const char *name) {
  return store_find(h->store, name);
}

static struct state *lookup(struct hub *h, const char *name, const char **why) {
  *why = NULL;
  return h->files.lookup ? h->files.lookup(h->files.arg, name, why)
                         : store_find(h->store, name);
}

struct state *hub_lookup(struct hub *h, const char *name) {
  const char *why;
  return lookup(h, name, &why);
}

static void files_changed(struct hub *h, struct state *st) {
  if (h->files.changed) h->files.changed(h->files.arg, st);
}

static void files_unused(struct hub *h) {
  if (h->files.unused) h->files.unused(h->files.arg);
}

/* --- sending ------------------------------------------------------------ */

static void send_msg(struct hub *h, struct client *c, struct outmsg *m) {
  h->sender.send(h->sender.arg, c->s, m);
}

/* Sends an encoded message (taken) to c alone. */
static void send_text(struct hub *h, struct client *c, char *text, size_t len) {
  struct outmsg *m = outmsg_take(text, len);
  if (!m) return;
  send_msg(h, c, m);
  outmsg_unref(m);
}

static int subscribed(const struct client *c, const char *name) {
  for (int i = 0; i < c->nsubs; i++)
    if (strcmp(c->subs[i], name) == 0) return 1;
  return 0;
}

int hub_subscribers(const struct hub *h, const struct state *st) {
  int n = 0;
  for (const struct client *c = h->clients; c; c = c->next)
    n += subscribed(c, st->name);
  return n;
}

/* Who gets a broadcast. */
enum audience {
  TO_SUBSCRIBERS, /* of one state */
  TO_PANELS,
  TO_BOTH, /* subscribers of the state, and every panel */
};

static int in_audience(const struct client *c, enum audience to,
                       const char *name) {
  int panel = c->role == ROLE_PANEL;
  return (to == TO_PANELS && panel) ||
         (to != TO_PANELS && subscribed(c, name)) || (to == TO_BOTH && panel);
}

/* Sends an encoded message (taken) to the audience, but not to except. */
static void broadcast(struct hub *h, enum audience to, const char *name,
                      char *text, size_t len, const struct client *except) {
  struct outmsg *m = outmsg_take(text, len);
  if (!m) return;
  for (struct client *c = h->clients; c; c = c->next)
    if (c != except && in_audience(c, to, name)) send_msg(h, c, m);
  outmsg_unref(m);
}

static int have_panels(const struct hub *h) {
  for (const struct client *c = h->clients; c; c = c->next)
    if (c->role == ROLE_PANEL) return 1;
  return 0;
}

static void send_snapshot(struct hub *h, struct client *c,
                          const struct state *st) {
  size_t len;
  char *text = msg_snapshot(st->name, st->version, st->current, &len);
  send_text(h, c, text, len);
}

static void send_error(struct hub *h, struct client *c, const char *code,
                       const char *message, const char *name,
                       const cJSON *ref) {
  size_t len;
  char *text = msg_error(code, message, name, ref, &len);
  send_text(h, c, text, len);
}

/* The clients message, for the clients listed. */
static char *clients_text(const struct hub *h, const cJSON *ref, size_t *len) {
  struct msg_client *list = calloc((size_t)h->nclients + 1, sizeof *list);
  if (!list) return NULL;
  int n = 0;
  for (const struct client *c = h->clients; c; c = c->next, n++) {
    list[n].id = c->s->id;
    list[n].role = c->role;
    list[n].page = c->page;
    list[n].origin = c->s->origin;
    list[n].address = c->s->address;
    list[n].since_ms = c->s->since_ms;
    list[n].subs = c->subs;
    list[n].nsubs = c->nsubs;
  }
  char *text = msg_clients(list, n, ref, len);
  free(list);
  return text;
}

static void clients_changed(struct hub *h) {
  if (!have_panels(h)) return;
  size_t len;
  char *text = clients_text(h, NULL, &len);
  broadcast(h, TO_PANELS, NULL, text, len, NULL);
}

void hub_states_changed(struct hub *h) {
  if (!have_panels(h)) return;
  size_t len;
  char *text = msg_states(h->store, NULL, &len);
  broadcast(h, TO_PANELS, NULL, text, len, NULL);
}

/* --- what the hub tells everyone ----------------------------------------- */

/* A change applied as st->version: to every subscriber but except. */
static void changed(struct hub *h, struct state *st, const cJSON *ops,
                    const char *origin, const struct client *except) {
  hub__broadcast_change(h, st, ops, origin, except);
  eventlog_change(h->log, st, origin, ops);
  log_debug("%s: version %llu from %s (%d ops)", st->name,
            (unsigned long long)st->version, origin, cJSON_GetArraySize(ops));
}

void hub_changed(struct hub *h, struct state *st, const cJSON *ops,
                 const char *origin) {
  changed(h, st, ops, origin, NULL);
}

void hub_appeared(struct hub *h, struct state *st, const cJSON *ops) {
  if (ops) eventlog_change(h->log, st, "file", ops);
  size_t len;
  char *text = msg_snapshot(st->name, st->version, st->current, &len);
  broadcast(h, TO_SUBSCRIBERS, st->name, text, len, NULL);
  hub_states_changed(h);
}

void hub_file_status(struct hub *h, struct state *st) {
  const char *code = msg_file_status_code(st->status);
  if (!code) return;
  if (st->status == FILE_INVALID)
    log_warn("%s:%d:%d: invalid JSON: %s (not overwritten until fixed)",
             st->path, st->error.line, st->error.column, st->error.message);
  else if (st->status == FILE_OK)
    log_info("%s: in sync again", st->path);
  else if (st->status == FILE_WRITE_FAILED)
    log_error("cannot write %s: %s (kept in memory; retried)", st->path,
              st->write_error ? st->write_error : "unknown error");
  else
    log_warn("%s: the file was removed; the state is kept and the file is "
             "written again on the next change",
             st->path);
  eventlog_file_status(h->log, st, code);
  /* Panels hear about every state; apps only about what they subscribed. */
  size_t len;
  char *text = msg_file_status(st, &len);
  broadcast(h, TO_BOTH, st->name, text, len, NULL);
  hub_states_changed(h);
}

/* --- changes ------------------------------------------------------------- */

struct change_result {
  const char *code; /* NULL on success */
  char message[256];
  bool changed;
};

/* Creates st from value (taken) on behalf of origin. */
static void create_state(struct hub *h, struct state *st, cJSON *value,
                         const char *origin, const struct client *from,
                         struct change_result *r) {
  cJSON *ops = NULL;
  int rc = store_replace(st, value, origin, &ops);
  if (rc == PATCH_TOO_LARGE) {
    r->code = ERR_TOO_LARGE;
    snprintf(r->message, sizeof r->message,
             "the state would be larger than --max-state (%zu bytes as its "
             "file is written) or nested deeper than %d levels",
             h->store->max_state, JSON_MAX_DEPTH);
    return;
  }
  if (rc != 0) {
    r->code = ERR_TOO_LARGE;
    snprintf(r->message, sizeof r->message, "out of memory");
    return;
  }
  r->changed = true;
  eventlog_change(h->log, st, origin, ops);
  cJSON_Delete(ops);
  files_changed(h, st);
  /* Other subscribers saw "exists": false; a snapshot is simplest for them. */
  size_t len;
  char *text = msg_snapshot(st->name, st->version, st->current, &len);
  broadcast(h, TO_SUBSCRIBERS, st->name, text, len, from);
  hub_states_changed(h);
}

/* The connection a change comes from, as its history entry records it;
 * NULL for the HTTP API, which has no identity across requests. */
static const char *sender_of(const struct client *from) {
  return from ? from->s->id : NULL;
}

/* A strict patch computed on a state that others changed where it writes
 * is refused (docs/protocol.md, "strict"). Returns 1 with r filled if so. */
static int strict_refused(const struct state *st, const struct msg *m,
                          const struct client *from, struct change_result *r) {
  if (!m->strict || m->type != MSG_PATCH) return 0;
  struct strict_conflict c;
  int rc = strict_check(st, m->base, sender_of(from), m->ops, &c);
  if (rc == STRICT_OK) return 0;
  r->code = ERR_CONFLICT;
  if (rc == STRICT_STALE)
    snprintf(r->message, sizeof r->message,
             "stale: version %llu (%.40s) changed %.120s since version %llu, "
             "which this strict patch was computed from",
             (unsigned long long)c.version, c.origin, c.path,
             (unsigned long long)m->base);
  else if (rc == STRICT_UNKNOWN)
    snprintf(r->message, sizeof r->message,
             "stale: version %llu is %s (current %llu): a strict patch must "
             "be computed again",
             (unsigned long long)m->base,
             m->base > st->version ? "not a version of this state"
                                   : "older than the history kept",
             (unsigned long long)st->version);
  else {
    r->code = ERR_TOO_LARGE;
    snprintf(r->message, sizeof r->message, "out of memory");
  }
  return 1;
}

static int ops_over_cap(const struct hub *h, const cJSON *ops) {
  int n = 0, cap = h->cfg ? h->cfg->max_ops : 0;
  for (const cJSON *op = ops ? ops->child : NULL; op && cap > 0; op = op->next)
    if (++n > cap) return 1;
  return 0;
}

/* Applies a patch or set from a client or the API. */
static void apply_change(struct hub *h, struct state *st, const struct msg *m,
                         const char *origin, const struct client *from,
                         struct change_result *r) {
  memset(r, 0, sizeof *r);
  cJSON *ops = NULL; /* owned when built here */
  const cJSON *use = m->ops;
  if (m->type == MSG_SET) {
    if (!st->current) {
      create_state(h, st, cJSON_Duplicate(m->value, 1), origin, from, r);
      return;
    }
    use = ops = patch_diff(st->current, m->value);
  } else if (ops_over_cap(h, m->ops)) {
    r->code = ERR_TOO_LARGE;
    snprintf(r->message, sizeof r->message,
             "the patch has more than %d operations (--max-ops); nothing was "
             "applied",
             h->cfg->max_ops);
    return;
  } else if (!st->current) {
    r->code = ERR_CONFLICT;
    snprintf(r->message, sizeof r->message,
             "state \"%.100s\" does not exist yet: subscribe with \"init\" "
             "or send \"set\"",
             st->name);
    return;
  } else if (strict_refused(st, m, from, r)) {
    return;
  }
  if (!use) {
    r->code = ERR_TOO_LARGE;
    snprintf(r->message, sizeof r->message, "out of memory");
    return;
  }
  char err[200] = "";
  int rc = store_apply_from(st, use, origin, sender_of(from), &r->changed, err,
                            sizeof err);
  if (rc != PATCH_OK) {
    r->code = rc == PATCH_INVALID     ? ERR_INVALID_PATCH
              : rc == PATCH_TOO_LARGE ? ERR_TOO_LARGE
              : rc == PATCH_NOMEM     ? ERR_TOO_LARGE
                                      : ERR_CONFLICT;
    snprintf(r->message, sizeof r->message, "%s", err);
  } else if (r->changed) {
    changed(h, st, use, origin, from);
    files_changed(h, st);
  }
  cJSON_Delete(ops);
}

/* The origin of c's changes: "panel", "api" (the CLI) or "client:c3". */
static const char *client_origin(const struct client *c, char *buf,
                                 size_t len) {
  if (c->role == ROLE_PANEL) return "panel";
  if (c->role == ROLE_CLI) return "api";
  snprintf(buf, len, "client:%s", c->s->id);
  return buf;
}

char *hub_api_change(struct hub *h, struct state *st, const struct msg *m,
                     const char **code, size_t *len) {
  if (m->type != MSG_PATCH && m->type != MSG_SET)
    return hub__api_loop(h, st, m, code, len);
  struct change_result r;
  apply_change(h, st, m, "api", NULL, &r);
  *code = r.code;
  if (r.code) return msg_error(r.code, r.message, st->name, m->ref, len);
  return msg_ack(st->name, m->ref, st->version, len);
}

/* --- client messages ----------------------------------------------------- */

static void add_sub(struct client *c, const char *name) {
  if (subscribed(c, name)) return;
  char **subs = realloc(c->subs, (size_t)(c->nsubs + 1) * sizeof *subs);
  if (!subs) return;
  c->subs = subs;
  if ((subs[c->nsubs] = strdup(name))) c->nsubs++;
}

static void remove_sub(struct client *c, const char *name) {
  for (int i = 0; i < c->nsubs; i++)
    if (strcmp(c->subs[i], name) == 0) {
      free(c->subs[i]);
      c->subs[i] = c->subs[--c->nsubs];
      return;
    }
}

static void on_subscribe(struct hub *h, struct client *c, struct state *st,
                         const struct msg *m) {
  add_sub(c, st->name);
  if (!st->current && m->value) {
    char buf[32];
    struct change_result r = {0};
    create_state(h, st, cJSON_Duplicate(m->value, 1),
                 client_origin(c, buf, sizeof buf), c, &r);
    if (r.code) send_error(h, c, r.code, r.message, st->name, m->ref);
  }
  send_snapshot(h, c, st);
  if (st->status == FILE_INVALID || st->status == FILE_REMOVED ||
      st->status == FILE_WRITE_FAILED) {
    size_t len;
    char *text = msg_file_status(st, &len);
    send_text(h, c, text, len);
  }
  clients_changed(h);
}

static void on_change(struct hub *h, struct client *c, struct state *st,
                      const struct msg *m) {
  char buf[32];
  struct change_result r;
  apply_change(h, st, m, client_origin(c, buf, sizeof buf), c, &r);
  if (r.code) {
    send_error(h, c, r.code, r.message, st->name, m->ref);
    if (strcmp(r.code, ERR_CONFLICT) == 0) send_snapshot(h, c, st);
    return;
  }
  size_t len;
  char *text = msg_ack(st->name, m->ref, st->version, &len);
  send_text(h, c, text, len);
}

void hub_on_message(struct hub *h, struct session *s, const char *buf,
                    size_t len) {
  struct client *c = s->data;
  if (!c) return;
  struct msg m;
  char err[256];
  cJSON *ref = NULL;
  char name[NAME_MAX_LEN + 1];
  const char *code = msg_decode(buf, len, &m, err, sizeof err, &ref, name);
  if (code) {
    send_error(h, c, code, err, name[0] ? name : NULL, ref);
    cJSON_Delete(ref);
    return;
  }
  struct state *st = NULL;
  if (m.name) {
    const char *why;
    st = lookup(h, m.name, &why);
    if (!st) {
      char msg[400];
      snprintf(msg, sizeof msg, "\"%.200s\" is not a mirrored state%s%s",
               m.name, why ? ": " : "", why ? why : "");
      send_error(h, c, ERR_UNKNOWN_STATE, msg, m.name, m.ref);
      msg_free(&m);
      return;
    }
  }
  size_t n;
  switch (m.type) {
  case MSG_SUBSCRIBE: on_subscribe(h, c, st, &m); break;
  case MSG_UNSUBSCRIBE:
    remove_sub(c, st->name);
    files_unused(h);
    clients_changed(h);
    break;
  case MSG_PATCH:
  case MSG_SET: on_change(h, c, st, &m); break;
  case MSG_REVERT: /* the old name of reset */
  case MSG_RESET: hub__on_reset(h, c, st, &m); break;
  case MSG_UNDO: hub__on_undo(h, c, st, &m); break;
  case MSG_SYNC: hub__on_sync(h, c, st, &m); break;
  case MSG_ERRORS: hub__on_errors(h, c, &m); break;
  case MSG_APPLIED: hub__on_applied(h, c, st, &m); break;
  case MSG_PAGE_ERROR: hub__on_page_error(h, c, &m); break;
  case MSG_IDENTIFY:
    c->role = m.role;
    free(c->page);
    c->page = access_page_url(m.page); /* no ?token= in client lists */
    if (c->role == ROLE_PANEL) {
      char *text = msg_states(h->store, NULL, &n);
      send_text(h, c, text, n);
    }
    clients_changed(h);
    break;
  case MSG_CLIENTS: {
    char *text = clients_text(h, m.ref, &n);
    send_text(h, c, text, n);
    break;
  }
  case MSG_STATES: {
    char *text = msg_states(h->store, m.ref, &n);
    send_text(h, c, text, n);
    break;
  }
  case MSG_HISTORY: {
    char *text = msg_history(st, m.limit, m.ref, &n);
    send_text(h, c, text, n);
    break;
  }
  }
  msg_free(&m);
}

int hub_on_open(struct hub *h, struct session *s) {
  struct client *c = calloc(1, sizeof *c);
  if (!c) return -1;
  c->s = s;
  c->role = ROLE_APP;
  c->next = h->clients;
  h->clients = c;
  h->nclients++;
  s->data = c;
  size_t len;
  char *text = msg_hello(h->session_id, s->id, h->store, &len);
  send_text(h, c, text, len);
  log_debug("client %s connected from %s (Origin: %s)", s->id, s->address,
            s->origin[0] ? s->origin : "none");
  clients_changed(h);
  return 0;
}

void hub_on_close(struct hub *h, struct session *s) {
  struct client *c = s->data;
  log_debug("client %s disconnected", s->id);
  if (!c) return;
  for (struct client **p = &h->clients; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      h->nclients--;
      break;
    }
  s->data = NULL;
  hub__client_gone(h, c);
  int had_subs = c->nsubs > 0;
  for (int i = 0; i < c->nsubs; i++)
    free(c->subs[i]);
  free(c->subs);
  free(c->page);
  free(c);
  if (had_subs) files_unused(h);
  clients_changed(h);
}

/* --- for hub_loop.c ------------------------------------------------------- */

void hub__send_text(struct hub *h, struct client *c, char *text, size_t len) {
  send_text(h, c, text, len);
}

void hub__send_error(struct hub *h, struct client *c, const char *code,
                     const char *message, const char *name, const cJSON *ref) {
  send_error(h, c, code, message, name, ref);
}

void hub__changed(struct hub *h, struct state *st, const cJSON *ops,
                  const char *origin, const struct client *except) {
  changed(h, st, ops, origin, except);
  files_changed(h, st);
}

int hub__subscribed(const struct client *c, const char *name) {
  return subscribed(c, name);
}

const char *hub__origin(const struct client *c, char *buf, size_t len) {
  return client_origin(c, buf, len);
}
