/* The hub: client messages and file changes meet the store here. */
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "access.h"
#include "eventlog.h"
#include "isotime.h"
#include "json.h"
#include "log.h"
#include "mirror.h"
#include "names.h"
#include "patch.h"

void hub_init(struct hub *h, const struct config *cfg) {
  memset(h, 0, sizeof *h);
  h->cfg = cfg;
  unsigned char rnd[8];
  if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    memcpy(rnd, &ts.tv_nsec,
           sizeof rnd < sizeof ts.tv_nsec ? sizeof rnd : sizeof ts.tv_nsec);
  }
  for (int i = 0; i < 8; i++)
    snprintf(h->session_id + 2 * i, 3, "%02x", rnd[i]);
}

/* --- sending ------------------------------------------------------------ */

static void send_owned(struct hub *h, struct session *s, char *text,
                       size_t len) {
  if (!text) return;
  struct outmsg *m = outmsg_take(text, len);
  if (!m) return;
  transport_send(h->transport, s, m);
  outmsg_unref(m);
}

static void send_json(struct hub *h, struct session *s, cJSON *obj) {
  size_t len = 0;
  char *text = obj ? json_print_compact(obj, &len) : NULL;
  cJSON_Delete(obj);
  send_owned(h, s, text, len);
}

static void send_error(struct hub *h, struct session *s, const char *code,
                       const char *message, const char *name,
                       const cJSON *ref) {
  size_t len;
  char *text = msg_error(code, message, name, ref, &len);
  send_owned(h, s, text, len);
}

static void send_snapshot(struct hub *h, struct session *s,
                          const struct state *st) {
  size_t len;
  char *text = msg_snapshot(st->name, st->version, st->current, &len);
  send_owned(h, s, text, len);
}

static int subscribed(const struct session *s, const char *name) {
  for (int i = 0; i < s->nsubs; i++)
    if (strcmp(s->subs[i], name) == 0) return 1;
  return 0;
}

int hub_subscribers(struct hub *h, const char *name) {
  int n = 0;
  for (struct session *s = transport_sessions(h->transport); s; s = s->next)
    n += subscribed(s, name);
  return n;
}

/* Sends text to every subscriber of name but except. */
static void broadcast(struct hub *h, const char *name, char *text, size_t len,
                      struct session *except) {
  if (!text) return;
  struct outmsg *m = outmsg_take(text, len);
  if (!m) return;
  for (struct session *s = transport_sessions(h->transport); s; s = s->next)
    if (s != except && subscribed(s, name)) transport_send(h->transport, s, m);
  outmsg_unref(m);
}

static int have_panels(struct hub *h) {
  for (struct session *s = transport_sessions(h->transport); s; s = s->next)
    if (strcmp(s->role, "panel") == 0) return 1;
  return 0;
}

static void broadcast_panels(struct hub *h, cJSON *obj) {
  size_t len = 0;
  char *text = obj ? json_print_compact(obj, &len) : NULL;
  cJSON_Delete(obj);
  if (!text) return;
  struct outmsg *m = outmsg_take(text, len);
  if (!m) return;
  for (struct session *s = transport_sessions(h->transport); s; s = s->next)
    if (strcmp(s->role, "panel") == 0) transport_send(h->transport, s, m);
  outmsg_unref(m);
}

/* --- what the hub tells everyone ----------------------------------------- */

void hub_changed(struct hub *h, struct state *st, const cJSON *ops,
                 const char *origin, struct session *except) {
  size_t len;
  char *text = msg_patch(st->name, st->version, ops, origin, &len);
  broadcast(h, st->name, text, len, except);
  eventlog_change(h->log, st, origin, ops);
  log_debug("%s: version %llu from %s (%d ops)", st->name,
            (unsigned long long)st->version, origin, cJSON_GetArraySize(ops));
}

void hub_appeared(struct hub *h, struct state *st, const cJSON *ops) {
  if (ops) eventlog_change(h->log, st, "file", ops);
  size_t len;
  char *text = msg_snapshot(st->name, st->version, st->current, &len);
  broadcast(h, st->name, text, len, NULL);
  hub_states_changed(h);
}

static const char *status_name(enum file_status s) {
  switch (s) {
  case FILE_OK: return "ok";
  case FILE_INVALID: return "invalid";
  case FILE_REMOVED: return "removed";
  case FILE_WRITE_FAILED: return "write_failed";
  default: return "absent";
  }
}

/* The error (or notice) message describing st's file, or NULL if none. */
static cJSON *file_status_msg(const struct state *st) {
  const char *code;
  char message[256];
  switch (st->status) {
  case FILE_INVALID:
    code = ERR_FILE_INVALID;
    snprintf(message, sizeof message, "%s", st->error.message);
    break;
  case FILE_REMOVED:
    code = ERR_FILE_REMOVED;
    snprintf(message, sizeof message,
             "the file was removed; the state is kept and the file is "
             "written again on the next change");
    break;
  case FILE_WRITE_FAILED:
    code = ERR_WRITE_FAILED;
    snprintf(message, sizeof message, "could not save the file: %s",
             st->write_error ? st->write_error : "unknown error");
    break;
  case FILE_OK:
    code = ERR_FILE_OK;
    snprintf(message, sizeof message,
             "the file and the state are in sync again");
    break;
  default: return NULL;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "error");
  cJSON_AddStringToObject(o, "code", code);
  cJSON_AddStringToObject(o, "message", message);
  cJSON_AddStringToObject(o, "name", st->name);
  cJSON_AddStringToObject(o, "file", st->path);
  if (st->status == FILE_INVALID) {
    cJSON_AddNumberToObject(o, "line", st->error.line);
    cJSON_AddNumberToObject(o, "column", st->error.column);
    cJSON_AddStringToObject(o, "text", st->error_text ? st->error_text : "");
  }
  return o;
}

void hub_file_status(struct hub *h, struct state *st) {
  cJSON *o = file_status_msg(st);
  if (!o) return;
  const char *code = cJSON_GetObjectItem(o, "code")->valuestring;
  if (st->status == FILE_INVALID)
    log_warn("%s:%d:%d: invalid JSON: %s (not overwritten until fixed)",
             st->path, st->error.line, st->error.column, st->error.message);
  else if (st->status == FILE_OK)
    log_info("%s: in sync again", st->path);
  else if (st->status == FILE_WRITE_FAILED)
    log_error("cannot write %s: %s (kept in memory; retried)", st->path,
              st->write_error ? st->write_error : "unknown error");
  else
    log_warn("%s: %s", st->path,
             cJSON_GetObjectItem(o, "message")->valuestring);
  eventlog_file_status(h->log, st, code);
  size_t len;
  char *text = json_print_compact(o, &len);
  cJSON_Delete(o);
  /* Panels hear about every state; apps only about what they subscribed. */
  if (text) {
    struct outmsg *m = outmsg_take(text, len);
    for (struct session *s = transport_sessions(h->transport); m && s;
         s = s->next)
      if (subscribed(s, st->name) || strcmp(s->role, "panel") == 0)
        transport_send(h->transport, s, m);
    if (m) outmsg_unref(m);
  }
  hub_states_changed(h);
}

cJSON *hub_states_json(struct hub *h) {
  cJSON *arr = cJSON_CreateArray();
  for (struct state *st = h->store.head; st; st = st->next) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", st->name);
    cJSON_AddStringToObject(e, "file", st->path);
    cJSON_AddNumberToObject(e, "version", (double)st->version);
    cJSON_AddBoolToObject(e, "exists", st->current != NULL);
    cJSON_AddStringToObject(e, "status", status_name(st->status));
    if (st->status == FILE_INVALID) {
      cJSON *err = cJSON_AddObjectToObject(e, "error");
      cJSON_AddStringToObject(err, "message", st->error.message);
      cJSON_AddNumberToObject(err, "line", st->error.line);
      cJSON_AddNumberToObject(err, "column", st->error.column);
      cJSON_AddStringToObject(err, "text",
                              st->error_text ? st->error_text : "");
    } else if (st->status == FILE_WRITE_FAILED && st->write_error) {
      cJSON *err = cJSON_AddObjectToObject(e, "error");
      cJSON_AddStringToObject(err, "message", st->write_error);
    }
    cJSON_AddItemToArray(arr, e);
  }
  return arr;
}

static cJSON *states_msg(struct hub *h, const cJSON *ref) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "states");
  if (ref) msg_add_ref(o, "ref", ref);
  cJSON_AddItemToObject(o, "states", hub_states_json(h));
  return o;
}

void hub_states_changed(struct hub *h) {
  if (have_panels(h)) broadcast_panels(h, states_msg(h, NULL));
}

static cJSON *clients_msg(struct hub *h, const cJSON *ref) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "clients");
  if (ref) msg_add_ref(o, "ref", ref);
  cJSON *arr = cJSON_AddArrayToObject(o, "clients");
  for (struct session *s = transport_sessions(h->transport); s; s = s->next) {
    cJSON *c = cJSON_CreateObject();
    char since[ISOTIME_LEN];
    isotime_format(s->since_ms, since, sizeof since);
    cJSON_AddStringToObject(c, "id", s->id);
    cJSON_AddStringToObject(c, "role", s->role);
    if (s->page) cJSON_AddStringToObject(c, "page", s->page);
    cJSON_AddStringToObject(c, "origin", s->origin);
    cJSON_AddStringToObject(c, "address", s->address);
    cJSON_AddStringToObject(c, "since", since);
    cJSON *subs = cJSON_AddArrayToObject(c, "subscriptions");
    for (int i = 0; i < s->nsubs; i++)
      cJSON_AddItemToArray(subs, cJSON_CreateString(s->subs[i]));
    cJSON_AddItemToArray(arr, c);
  }
  return o;
}

static void clients_changed(struct hub *h) {
  if (have_panels(h)) broadcast_panels(h, clients_msg(h, NULL));
}

cJSON *hub_history_json(struct hub *h, struct state *st, int limit) {
  (void)h;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "history");
  cJSON_AddStringToObject(o, "name", st->name);
  cJSON_AddNumberToObject(o, "version", (double)st->version);
  cJSON *arr = cJSON_AddArrayToObject(o, "entries");
  int first = limit > 0 && limit < st->hist_len ? st->hist_len - limit : 0;
  for (int i = first; i < st->hist_len; i++) {
    const struct history_entry *e = store_history(st, i);
    cJSON *j = cJSON_CreateObject();
    char when[ISOTIME_LEN];
    isotime_format(e->time_ms, when, sizeof when);
    cJSON_AddNumberToObject(j, "version", (double)e->version);
    cJSON_AddStringToObject(j, "time", when);
    cJSON_AddStringToObject(j, "origin", e->origin);
    cJSON_AddItemToObject(j, "ops", cJSON_Duplicate(e->ops, 1));
    cJSON_AddItemToObject(j, "inverse", cJSON_Duplicate(e->inverse, 1));
    cJSON_AddItemToArray(arr, j);
  }
  return o;
}

/* --- changes ------------------------------------------------------------- */

struct change_result {
  const char *code; /* NULL on success */
  char message[256];
  bool changed;
};

/* Creates st from value (taken) on behalf of origin. */
static void create_state(struct hub *h, struct state *st, cJSON *value,
                         const char *origin, struct session *from,
                         struct change_result *r) {
  cJSON *ops = NULL;
  int rc = store_replace(st, value, origin, &ops);
  if (rc == PATCH_TOO_LARGE) {
    r->code = ERR_TOO_LARGE;
    snprintf(r->message, sizeof r->message,
             "the state would be larger than --max-state (%zu bytes as its "
             "file is written) or nested deeper than %d levels",
             h->store.max_state, JSON_MAX_DEPTH);
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
  mirror_changed(h->mirror, st);
  /* Other subscribers saw "exists": false; a snapshot is simplest for them. */
  size_t len;
  char *text = msg_snapshot(st->name, st->version, st->current, &len);
  broadcast(h, st->name, text, len, from);
  hub_states_changed(h);
}

static int ops_over_cap(const struct hub *h, const cJSON *ops) {
  int n = 0, cap = h->cfg ? h->cfg->max_ops : 0;
  for (const cJSON *op = ops ? ops->child : NULL; op && cap > 0; op = op->next)
    if (++n > cap) return 1;
  return 0;
}

/* Applies a patch, set or revert from a client or the API. */
static void apply_change(struct hub *h, struct state *st, const struct msg *m,
                         const char *origin, struct session *from,
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
  } else if (m->type == MSG_REVERT) {
    cJSON *old = st->current ? store_value_at(st, m->version) : NULL;
    if (!old) {
      r->code = ERR_UNKNOWN_VERSION;
      snprintf(r->message, sizeof r->message,
               "version %llu is not in the history (current %llu, %d kept)",
               (unsigned long long)m->version, (unsigned long long)st->version,
               st->hist_len);
      return;
    }
    use = ops = patch_diff(st->current, old);
    cJSON_Delete(old);
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
  }
  if (!use) {
    r->code = ERR_TOO_LARGE;
    snprintf(r->message, sizeof r->message, "out of memory");
    return;
  }
  char err[200] = "";
  int rc = store_apply(st, use, origin, &r->changed, err, sizeof err);
  if (rc != PATCH_OK) {
    r->code = rc == PATCH_INVALID     ? ERR_INVALID_PATCH
              : rc == PATCH_TOO_LARGE ? ERR_TOO_LARGE
              : rc == PATCH_NOMEM     ? ERR_TOO_LARGE
                                      : ERR_CONFLICT;
    snprintf(r->message, sizeof r->message, "%s", err);
  } else if (r->changed) {
    hub_changed(h, st, use, origin, from);
    mirror_changed(h->mirror, st);
  }
  cJSON_Delete(ops);
}

static const char *session_origin(const struct session *s, char *buf,
                                  size_t len) {
  if (strcmp(s->role, "panel") == 0) return "panel";
  if (strcmp(s->role, "cli") == 0) return "api";
  snprintf(buf, len, "client:%s", s->id);
  return buf;
}

cJSON *hub_api_change(struct hub *h, struct state *st, const struct msg *m,
                      int *status) {
  struct change_result r;
  apply_change(h, st, m, "api", NULL, &r);
  cJSON *o;
  if (r.code) {
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "error");
    cJSON_AddStringToObject(o, "code", r.code);
    cJSON_AddStringToObject(o, "message", r.message);
    cJSON_AddStringToObject(o, "name", st->name);
    *status = strcmp(r.code, ERR_CONFLICT) == 0          ? 409
              : strcmp(r.code, ERR_UNKNOWN_VERSION) == 0 ? 404
              : strcmp(r.code, ERR_TOO_LARGE) == 0       ? 413
                                                         : 400;
  } else {
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "ack");
    cJSON_AddStringToObject(o, "name", st->name);
    cJSON_AddNumberToObject(o, "version", (double)st->version);
    *status = 200;
  }
  if (m->ref) cJSON_AddItemToObject(o, "ref", cJSON_Duplicate(m->ref, 1));
  return o;
}

/* --- client messages ----------------------------------------------------- */

static void add_sub(struct session *s, const char *name) {
  if (subscribed(s, name)) return;
  char **subs = realloc(s->subs, (size_t)(s->nsubs + 1) * sizeof *subs);
  if (!subs) return;
  s->subs = subs;
  if ((subs[s->nsubs] = strdup(name))) s->nsubs++;
}

static void remove_sub(struct session *s, const char *name) {
  for (int i = 0; i < s->nsubs; i++)
    if (strcmp(s->subs[i], name) == 0) {
      free(s->subs[i]);
      s->subs[i] = s->subs[--s->nsubs];
      return;
    }
}

static void on_subscribe(struct hub *h, struct session *s, struct state *st,
                         const struct msg *m) {
  add_sub(s, st->name);
  if (!st->current && m->value) {
    char buf[32];
    struct change_result r = {0};
    create_state(h, st, cJSON_Duplicate(m->value, 1),
                 session_origin(s, buf, sizeof buf), s, &r);
    if (r.code) send_error(h, s, r.code, r.message, st->name, m->ref);
  }
  send_snapshot(h, s, st);
  if (st->status == FILE_INVALID || st->status == FILE_REMOVED ||
      st->status == FILE_WRITE_FAILED)
    send_json(h, s, file_status_msg(st));
  clients_changed(h);
}

static void on_change(struct hub *h, struct session *s, struct state *st,
                      const struct msg *m) {
  char buf[32];
  struct change_result r;
  apply_change(h, st, m, session_origin(s, buf, sizeof buf), s, &r);
  if (r.code) {
    send_error(h, s, r.code, r.message, st->name, m->ref);
    if (strcmp(r.code, ERR_CONFLICT) == 0) send_snapshot(h, s, st);
    return;
  }
  size_t len;
  char *text = msg_ack(st->name, m->ref, st->version, &len);
  send_owned(h, s, text, len);
}

void hub_on_message(struct hub *h, struct session *s, const char *buf,
                    size_t len) {
  struct msg m;
  char err[256];
  cJSON *ref = NULL;
  char name[NAME_MAX_LEN + 1];
  const char *code = msg_decode(buf, len, &m, err, sizeof err, &ref, name);
  if (code) {
    send_error(h, s, code, err, name[0] ? name : NULL, ref);
    cJSON_Delete(ref);
    return;
  }
  struct state *st = NULL;
  if (m.name) {
    st = mirror_state(h->mirror, m.name);
    if (!st) {
      char msg[400];
      const char *why = mirror_why(h->mirror);
      snprintf(msg, sizeof msg, "\"%.200s\" is not a mirrored state%s%s",
               m.name, why ? ": " : "", why ? why : "");
      send_error(h, s, ERR_UNKNOWN_STATE, msg, m.name, m.ref);
      msg_free(&m);
      return;
    }
  }
  switch (m.type) {
  case MSG_SUBSCRIBE: on_subscribe(h, s, st, &m); break;
  case MSG_UNSUBSCRIBE:
    remove_sub(s, st->name);
    mirror_unused(h->mirror);
    clients_changed(h);
    break;
  case MSG_PATCH:
  case MSG_SET:
  case MSG_REVERT: on_change(h, s, st, &m); break;
  case MSG_IDENTIFY:
    snprintf(s->role, sizeof s->role, "%s", m.role);
    free(s->page);
    s->page = access_page_url(m.page); /* no ?token= in client lists */
    if (strcmp(s->role, "panel") == 0) send_json(h, s, states_msg(h, NULL));
    clients_changed(h);
    break;
  case MSG_CLIENTS: send_json(h, s, clients_msg(h, m.ref)); break;
  case MSG_STATES: send_json(h, s, states_msg(h, m.ref)); break;
  case MSG_HISTORY: {
    cJSON *o = hub_history_json(h, st, m.limit);
    if (m.ref) cJSON_AddItemToObject(o, "ref", cJSON_Duplicate(m.ref, 1));
    send_json(h, s, o);
    break;
  }
  }
  msg_free(&m);
}

void hub_on_open(struct hub *h, struct session *s) {
  snprintf(s->id, sizeof s->id, "c%llu", (unsigned long long)++h->next_client);
  snprintf(s->role, sizeof s->role, "app");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "hello");
  cJSON_AddNumberToObject(o, "protocol", PROTOCOL_VERSION);
  cJSON_AddStringToObject(o, "server", "mirrorstate/" MS_VERSION);
  cJSON_AddStringToObject(o, "session", h->session_id);
  cJSON_AddStringToObject(o, "client", s->id);
  cJSON *names = cJSON_AddArrayToObject(o, "states");
  for (struct state *st = h->store.head; st; st = st->next)
    cJSON_AddItemToArray(names, cJSON_CreateString(st->name));
  send_json(h, s, o);
  log_debug("client %s connected from %s (Origin: %s)", s->id, s->address,
            s->origin[0] ? s->origin : "none");
  clients_changed(h);
}

void hub_on_close(struct hub *h, struct session *s) {
  log_debug("client %s disconnected", s->id);
  for (int i = 0; i < s->nsubs; i++)
    free(s->subs[i]);
  free(s->subs);
  if (s->nsubs) mirror_unused(h->mirror);
  s->subs = NULL;
  s->nsubs = 0;
  free(s->page);
  s->page = NULL;
  clients_changed(h);
}
