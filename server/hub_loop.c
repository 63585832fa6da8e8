/* The agent's loop in the hub: sync (the file taken in, then the pages'
 * applied versions awaited), undo and reset, and the pages' errors kept,
 * relayed and listed. See docs/protocol.md, "sync" to "errors". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "eventlog.h"
#include "hub_int.h"
#include "isotime.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "patch.h"
#include "undo.h"

/* A page may report this many errors per window; more are dropped (the
 * client library sends at most 10 per 10 s). */
#define PAGE_ERRORS_PER_WINDOW 20
#define PAGE_ERRORS_WINDOW_MS 10000.0
/* Members of a page error's "states" that are kept. */
#define PAGE_ERROR_STATES 64

/* A sync waiting for the pages subscribed to its state to apply version. */
struct hub_sync_wait {
  struct client *from;
  cJSON *ref; /* owned */
  char *name;
  const char *status; /* "applied" or "unchanged" */
  uint64_t version;
  struct client **targets; /* the pages that have not confirmed yet */
  int ntargets;
  int total, confirmed;
  double deadline; /* monotonic ms */
  struct hub_sync_wait *next;
};

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* --- what pages applied ------------------------------------------------- */

static uint64_t applied_of(const struct client *c, const char *name) {
  for (int i = 0; i < c->napplied; i++)
    if (!strcmp(c->applied[i].name, name)) return c->applied[i].version;
  return 0;
}

static void set_applied(struct client *c, const char *name, uint64_t v) {
  for (int i = 0; i < c->napplied; i++)
    if (!strcmp(c->applied[i].name, name)) {
      if (v > c->applied[i].version) c->applied[i].version = v;
      return;
    }
  struct applied *a =
      realloc(c->applied, (size_t)(c->napplied + 1) * sizeof *a);
  if (!a) return;
  c->applied = a;
  if ((a[c->napplied].name = strdup(name))) a[c->napplied++].version = v;
}

/* --- page errors ---------------------------------------------------------- */

static const cJSON *ring_at(const struct hub *h, int i) {
  return h->errors[(h->errors_head + i) % HUB_PAGE_ERRORS];
}

static void ring_push(struct hub *h, cJSON *e) {
  if (h->errors_len == HUB_PAGE_ERRORS) {
    cJSON_Delete(h->errors[h->errors_head]);
    h->errors[h->errors_head] = NULL;
    h->errors_head = (h->errors_head + 1) % HUB_PAGE_ERRORS;
    h->errors_len--;
  }
  h->errors[(h->errors_head + h->errors_len) % HUB_PAGE_ERRORS] = e;
  h->errors_len++;
}

/* An error raised while its page showed state name (at version since or
 * later, when has_since). name NULL: every error. */
static int error_matches(const cJSON *e, const char *name, int has_since,
                         uint64_t since) {
  if (!name) return 1;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(e, "states"), name);
  if (!cJSON_IsNumber(v)) return 0;
  return !has_since || v->valuedouble >= (double)since;
}

/* The kept errors that match, oldest first: an array of references. */
static cJSON *errors_list(const struct hub *h, const char *name, int has_since,
                          uint64_t since) {
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; i < h->errors_len && arr; i++) {
    const cJSON *e = ring_at(h, i);
    if (error_matches(e, name, has_since, since))
      cJSON_AddItemReferenceToArray(arr, (cJSON *)e);
  }
  return arr;
}

/* A page's report, as it is kept: {kind, message, stack?, url?, states,
 * client, time}. */
static cJSON *page_error_entry(const struct client *c, const struct msg *m) {
  cJSON *e = cJSON_CreateObject();
  if (!e) return NULL;
  cJSON_AddStringToObject(e, "kind", m->kind);
  cJSON_AddStringToObject(e, "message", m->message);
  if (m->stack) cJSON_AddStringToObject(e, "stack", m->stack);
  char *url = access_page_url(m->url ? m->url : c->page);
  if (url) cJSON_AddStringToObject(e, "url", url);
  free(url);
  cJSON *states = cJSON_AddObjectToObject(e, "states");
  int n = 0;
  for (const cJSON *s = m->states ? m->states->child : NULL;
       s && n < PAGE_ERROR_STATES; s = s->next)
    if (cJSON_IsNumber(s) && s->valuedouble >= 0 && s->string &&
        name_valid(s->string) && /* bounded, as every kept field is */
        !cJSON_GetObjectItemCaseSensitive(states, s->string)) {
      cJSON_AddNumberToObject(states, s->string, s->valuedouble);
      n++;
    }
  char when[ISOTIME_LEN];
  isotime_format(isotime_now_ms(), when, sizeof when);
  cJSON_AddStringToObject(e, "client", c->s->id);
  cJSON_AddStringToObject(e, "time", when);
  return e;
}

void hub__on_page_error(struct hub *h, struct client *c, const struct msg *m) {
  double now = mono_ms();
  if (now - c->errors_window_ms > PAGE_ERRORS_WINDOW_MS) {
    c->errors_window_ms = now;
    c->errors_in_window = 0;
  }
  if (++c->errors_in_window > PAGE_ERRORS_PER_WINDOW) {
    if (c->errors_in_window == PAGE_ERRORS_PER_WINDOW + 1)
      log_warn("client %s reports more than %d page errors in %.0f s: the "
               "rest of this window is dropped",
               c->s->id, PAGE_ERRORS_PER_WINDOW, PAGE_ERRORS_WINDOW_MS / 1000);
    return;
  }
  cJSON *e = page_error_entry(c, m);
  if (!e) return;
  log_info("page error from %s (%s): %.200s", c->s->id,
           c->page ? c->page : "no page", m->message);
  eventlog_page_error(h->log, e);
  size_t len;
  char *text = msg_page_error(e, &len);
  struct outmsg *out = text ? outmsg_take(text, len) : NULL;
  for (struct client *o = h->clients; o && out; o = o->next)
    if (o->role == ROLE_PANEL ||
        (o->errors_watch &&
         error_matches(e, o->errors_name, o->errors_has_since,
                       o->errors_since)))
      h->sender.send(h->sender.arg, o->s, out);
  if (out) outmsg_unref(out);
  ring_push(h, e);
}

void hub__on_errors(struct hub *h, struct client *c, const struct msg *m) {
  cJSON *list = errors_list(h, m->name, m->has_since, m->since);
  size_t len;
  char *text = list ? msg_errors(m->ref, list, &len) : NULL;
  cJSON_Delete(list);
  if (text) hub__send_text(h, c, text, len);
  if (!m->watch) return;
  free(c->errors_name);
  c->errors_name = m->name ? strdup(m->name) : NULL;
  c->errors_watch = !m->name || c->errors_name != NULL;
  c->errors_has_since = m->has_since;
  c->errors_since = m->since;
}

/* --- sync ----------------------------------------------------------------- */

static const char *sync_status(enum hub_sync r) {
  switch (r) {
  case HUB_SYNC_APPLIED: return "applied";
  case HUB_SYNC_INVALID: return "invalid";
  case HUB_SYNC_MISSING: return "missing";
  default: return "unchanged";
  }
}

/* Reads st's file now; returns the status and the version it stands at. */
static enum hub_sync do_sync(struct hub *h, struct state *st,
                             uint64_t *version) {
  *version = st->version;
  if (!h->files.sync) return HUB_SYNC_UNCHANGED;
  return h->files.sync(h->files.arg, st, version);
}

static void wait_free(struct hub_sync_wait *w) {
  cJSON_Delete(w->ref);
  free(w->name);
  free(w->targets);
  free(w);
}

/* Sends the answer of w (which stays the caller's to unlink and free). */
static void wait_answer(struct hub *h, struct hub_sync_wait *w) {
  struct state *st = store_find(h->store, w->name);
  if (!st) {
    hub__send_error(h, w->from, ERR_UNKNOWN_STATE,
                    "the state is no longer mirrored", w->name, w->ref);
    return;
  }
  cJSON *pages = cJSON_CreateObject();
  cJSON_AddNumberToObject(pages, "confirmed", w->confirmed);
  cJSON_AddNumberToObject(pages, "total", w->total);
  cJSON_AddItemToObject(pages, "errors",
                        errors_list(h, w->name, 1, w->version));
  size_t len;
  char *text = msg_synced(st, w->ref, w->status, w->version, pages, &len);
  cJSON_Delete(pages);
  if (text) hub__send_text(h, w->from, text, len);
}

/* Asks the timer for the earliest deadline of the waits. */
static void arm(struct hub *h) {
  if (!h->waits || !h->timer.start) return;
  double first = h->waits->deadline;
  for (const struct hub_sync_wait *w = h->waits; w; w = w->next)
    if (w->deadline < first) first = w->deadline;
  double ms = first - mono_ms();
  h->timer.start(h->timer.arg, ms > 0 ? (uint64_t)ms + 1 : 0);
}

/* Answers and frees the waits that are done: no page left to wait for,
 * or (expired) past their deadline. */
static void settle_waits(struct hub *h, int expired) {
  double now = mono_ms();
  for (struct hub_sync_wait **p = &h->waits; *p;) {
    struct hub_sync_wait *w = *p;
    if (w->ntargets == 0 || (expired && w->deadline <= now)) {
      *p = w->next;
      wait_answer(h, w);
      wait_free(w);
    } else {
      p = &w->next;
    }
  }
}

void hub_tick(struct hub *h) {
  settle_waits(h, 1);
  arm(h);
}

void hub__on_sync(struct hub *h, struct client *c, struct state *st,
                  const struct msg *m) {
  uint64_t version;
  enum hub_sync r = do_sync(h, st, &version);
  size_t len;
  if (!m->pages || r == HUB_SYNC_INVALID || r == HUB_SYNC_MISSING) {
    char *text = msg_synced(st, m->ref, sync_status(r), version, NULL, &len);
    if (text) hub__send_text(h, c, text, len);
    return;
  }
  struct hub_sync_wait *w = calloc(1, sizeof *w);
  if (!w || !(w->name = strdup(st->name)) ||
      (m->ref && !(w->ref = cJSON_Duplicate(m->ref, 1))) ||
      !(w->targets = calloc((size_t)h->nclients + 1, sizeof *w->targets))) {
    if (w) wait_free(w);
    hub__send_error(h, c, ERR_TOO_LARGE, "out of memory", st->name, m->ref);
    return;
  }
  w->from = c;
  w->status = sync_status(r);
  w->version = version;
  w->deadline = mono_ms() + (double)m->timeout;
  for (struct client *o = h->clients; o; o = o->next) {
    if (o == c || o->role != ROLE_APP || !hub__subscribed(o, st->name))
      continue;
    w->total++;
    if (applied_of(o, st->name) >= version)
      w->confirmed++;
    else
      w->targets[w->ntargets++] = o;
  }
  w->next = h->waits;
  h->waits = w;
  settle_waits(h, m->timeout == 0);
  arm(h);
}

void hub__on_applied(struct hub *h, struct client *c, struct state *st,
                     const struct msg *m) {
  set_applied(c, st->name, m->version);
  int done = 0;
  for (struct hub_sync_wait *w = h->waits; w; w = w->next) {
    if (strcmp(w->name, st->name) || m->version < w->version) continue;
    for (int i = 0; i < w->ntargets; i++)
      if (w->targets[i] == c) {
        w->targets[i] = w->targets[--w->ntargets];
        w->confirmed++;
        done |= w->ntargets == 0;
        break;
      }
  }
  if (done) settle_waits(h, 0);
}

void hub__client_gone(struct hub *h, struct client *c) {
  int done = 0;
  for (struct hub_sync_wait **p = &h->waits; *p;) {
    struct hub_sync_wait *w = *p;
    if (w->from == c) {
      *p = w->next;
      wait_free(w);
      continue;
    }
    /* A page that closed shows nothing any more: it is not waited for,
     * nor counted. */
    for (int i = 0; i < w->ntargets; i++)
      if (w->targets[i] == c) {
        w->targets[i] = w->targets[--w->ntargets];
        w->total--;
        done |= w->ntargets == 0;
        break;
      }
    p = &w->next;
  }
  if (done) settle_waits(h, 0);
  for (int i = 0; i < c->napplied; i++)
    free(c->applied[i].name);
  free(c->applied);
  c->applied = NULL;
  c->napplied = 0;
  free(c->errors_name);
  c->errors_name = NULL;
}

void hub__loop_free(struct hub *h) {
  while (h->waits) {
    struct hub_sync_wait *w = h->waits;
    h->waits = w->next;
    wait_free(w);
  }
  for (int i = 0; i < h->errors_len; i++) {
    cJSON_Delete(h->errors[(h->errors_head + i) % HUB_PAGE_ERRORS]);
    h->errors[(h->errors_head + i) % HUB_PAGE_ERRORS] = NULL;
  }
  h->errors_len = 0;
}

/* --- undo and reset ------------------------------------------------------- */

/* Applies value (borrowed) as a change to st by origin, broadcast to every
 * subscriber (the sender too: it cannot know the ops). Returns NULL, or
 * the error code with a message in err; *changed says whether a version
 * was spent. */
static const char *apply_value(struct hub *h, struct state *st,
                               const cJSON *value, const char *origin,
                               bool *changed, char *err, size_t errlen) {
  *changed = false;
  cJSON *ops = patch_diff(st->current, value);
  if (!ops) {
    snprintf(err, errlen, "out of memory");
    return ERR_TOO_LARGE;
  }
  int rc = store_apply(st, ops, origin, changed, err, errlen);
  if (rc == PATCH_OK && *changed) hub__changed(h, st, ops, origin, NULL);
  cJSON_Delete(ops);
  if (rc == PATCH_OK) return NULL;
  return rc == PATCH_TOO_LARGE || rc == PATCH_NOMEM ? ERR_TOO_LARGE
                                                    : ERR_CONFLICT;
}

static char *unknown_version(const struct state *st, uint64_t v,
                             const cJSON *ref, size_t *len) {
  char msg[300];
  uint64_t first = st->hist_len ? store_history(st, 0)->version : 0;
  if (!st->current)
    snprintf(msg, sizeof msg, "state \"%.100s\" has no value yet", st->name);
  else if (v == 1 && first <= 2)
    snprintf(msg, sizeof msg,
             "version 1 is the first value of \"%.100s\" in this run: there "
             "is nothing before it to go back to",
             st->name);
  else if (!st->hist_len)
    snprintf(msg, sizeof msg,
             "version %llu is not in the history (current %llu; no changes "
             "are kept)",
             (unsigned long long)v, (unsigned long long)st->version);
  else
    snprintf(msg, sizeof msg,
             "version %llu is not in the history (current %llu; the history "
             "holds the changes of versions %llu to %llu)",
             (unsigned long long)v, (unsigned long long)st->version,
             (unsigned long long)first, (unsigned long long)st->version);
  return msg_error(ERR_UNKNOWN_VERSION, msg, st->name, ref, len);
}

static int cmp_asc(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return a < b ? -1 : a > b;
}

static char *undo_answer(struct hub *h, struct state *st, const struct msg *m,
                         const char *origin, const char **code, size_t *len) {
  *code = NULL;
  if (!st->current) {
    *code = ERR_UNKNOWN_VERSION;
    return unknown_version(st, m->versions[0], m->ref, len);
  }
  struct undo_result r;
  int rc = undo_compute(st, m->versions, m->nversions, &r);
  char *text = NULL;
  if (rc == UNDO_UNKNOWN_VERSION) {
    *code = ERR_UNKNOWN_VERSION;
    text = unknown_version(st, r.bad, m->ref, len);
  } else if (rc == UNDO_CONFLICT) {
    struct msg_conflict c[UNDO_MAX_VERSIONS];
    int n = r.nconflicts < UNDO_MAX_VERSIONS ? r.nconflicts : UNDO_MAX_VERSIONS;
    for (int i = 0; i < n; i++)
      c[i] = (struct msg_conflict){r.conflicts[i].version, r.conflicts[i].by,
                                   r.conflicts[i].path};
    char msg[400];
    snprintf(msg, sizeof msg,
             "a later change touched what version %llu changed (%.200s, "
             "changed again by version %llu); nothing was undone",
             (unsigned long long)c[0].version,
             *c[0].path ? c[0].path : "the whole state",
             (unsigned long long)c[0].by);
    *code = ERR_CONFLICT;
    text = msg_undo_conflict(st->name, m->ref, msg, c, n, len);
  } else if (rc != UNDO_OK) {
    *code = ERR_TOO_LARGE;
    text = msg_error(ERR_TOO_LARGE, "out of memory", st->name, m->ref, len);
  } else {
    bool changed;
    char err[200];
    *code = apply_value(h, st, r.value, origin, &changed, err, sizeof err);
    if (*code) {
      text = msg_error(*code, err, st->name, m->ref, len);
    } else {
      qsort(r.versions, (size_t)r.nversions, sizeof *r.versions, cmp_asc);
      text = msg_ack_versions(st->name, m->ref, st->version, "undone",
                              r.versions, changed ? r.nversions : 0, len);
    }
  }
  undo_result_free(&r);
  return text;
}

static char *reset_answer(struct hub *h, struct state *st, const struct msg *m,
                          const char *origin, const char **code, size_t *len) {
  *code = NULL;
  cJSON *old = st->current ? store_value_at(st, m->version) : NULL;
  if (!old) {
    *code = ERR_UNKNOWN_VERSION;
    return unknown_version(st, m->version, m->ref, len);
  }
  uint64_t was = st->version;
  bool changed;
  char err[200];
  *code = apply_value(h, st, old, origin, &changed, err, sizeof err);
  cJSON_Delete(old);
  if (*code) return msg_error(*code, err, st->name, m->ref, len);
  /* Every version after the one reset to is gone from the state. */
  int n = changed ? (int)(was - m->version) : 0;
  uint64_t *gone = n ? malloc((size_t)n * sizeof *gone) : NULL;
  if (n && !gone) n = 0;
  for (int i = 0; i < n; i++)
    gone[i] = m->version + 1 + (uint64_t)i;
  char *text = msg_ack_versions(st->name, m->ref, st->version, "discarded",
                                gone, n, len);
  free(gone);
  return text;
}

void hub__on_undo(struct hub *h, struct client *c, struct state *st,
                  const struct msg *m) {
  char buf[32];
  const char *code;
  size_t len;
  char *text =
      undo_answer(h, st, m, hub__origin(c, buf, sizeof buf), &code, &len);
  if (text) hub__send_text(h, c, text, len);
}

void hub__on_reset(struct hub *h, struct client *c, struct state *st,
                   const struct msg *m) {
  char buf[32];
  const char *code;
  size_t len;
  char *text =
      reset_answer(h, st, m, hub__origin(c, buf, sizeof buf), &code, &len);
  if (text) hub__send_text(h, c, text, len);
}

char *hub__api_loop(struct hub *h, struct state *st, const struct msg *m,
                    const char **code, size_t *len) {
  *code = NULL;
  switch (m->type) {
  case MSG_UNDO: return undo_answer(h, st, m, "api", code, len);
  case MSG_RESET:
  case MSG_REVERT: return reset_answer(h, st, m, "api", code, len);
  case MSG_SYNC: {
    if (m->pages) {
      *code = ERR_BAD_MESSAGE;
      return msg_error(ERR_BAD_MESSAGE,
                       "sync with \"pages\" waits for the pages: ask over the "
                       "WebSocket (mirrorstate sync --pages)",
                       st->name, m->ref, len);
    }
    uint64_t version;
    enum hub_sync r = do_sync(h, st, &version);
    return msg_synced(st, m->ref, sync_status(r), version, NULL, len);
  }
  default:
    *code = ERR_BAD_MESSAGE;
    return msg_error(ERR_BAD_MESSAGE,
                     "POST takes a patch, set, undo, reset, revert or sync "
                     "message",
                     st->name, m->ref, len);
  }
}

/* --- the patch of a change ------------------------------------------------ */

void hub__broadcast_change(struct hub *h, struct state *st, const cJSON *ops,
                           const char *origin, const struct client *except) {
  const struct history_entry *e =
      st->hist_len ? store_history(st, st->hist_len - 1) : NULL;
  const cJSON *desc = e && e->version == st->version ? e->desc : NULL;
  struct outmsg *plain = NULL, *described = NULL;
  size_t len;
  for (struct client *c = h->clients; c; c = c->next) {
    if (c == except || !hub__subscribed(c, st->name)) continue;
    struct outmsg **m = c->role == ROLE_CLI && desc ? &described : &plain;
    if (!*m) {
      char *text =
          m == &plain
              ? msg_patch(st->name, st->version, ops, origin, &len)
              : msg_patch_desc(st->name, st->version, ops, origin, desc, &len);
      if (!text || !(*m = outmsg_take(text, len))) continue;
    }
    h->sender.send(h->sender.arg, c->s, *m);
  }
  if (plain) outmsg_unref(plain);
  if (described) outmsg_unref(described);
}
