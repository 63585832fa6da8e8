/* Named states, versions and the history ring. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "isotime.h"
#include "patch.h"

void store_init(struct store *st, int history_cap, size_t history_max,
                size_t max_state) {
  memset(st, 0, sizeof *st);
  st->history_cap = history_cap > 0 ? history_cap : 1;
  st->history_max = history_max;
  st->max_state = max_state;
}

static void entry_clear(struct store *st, struct history_entry *e) {
  cJSON_Delete(e->ops);
  cJSON_Delete(e->inverse);
  cJSON_Delete(e->desc);
  e->ops = e->inverse = e->desc = NULL;
  st->history_bytes -= e->bytes;
  e->bytes = 0;
}

/* Drops the oldest entry of s. */
static void drop_oldest(struct state *s) {
  entry_clear(s->store, &s->hist[s->hist_head]);
  s->hist_head = (s->hist_head + 1) % s->hist_cap;
  s->hist_len--;
}

static void state_free(struct state *s) {
  while (s->hist_len)
    drop_oldest(s);
  free(s->hist);
  cJSON_Delete(s->current);
  free(s->error_text);
  free(s->write_error);
  free(s->name);
  free(s->path);
  free(s);
}

void store_free(struct store *st) {
  struct state *s = st->head;
  while (s) {
    struct state *next = s->next;
    state_free(s);
    s = next;
  }
  free(st->index);
  st->index = NULL;
  st->nindex = 0;
  st->head = st->tail = NULL;
  st->nstates = 0;
}

/* FNV-1a: names are short, and a --dir may hold thousands. */
static size_t name_hash(const char *name) {
  size_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h;
}

static struct state **index_slot(struct store *st, const char *name) {
  return &st->index[name_hash(name) & (st->nindex - 1)];
}

/* Keeps the index at most one state per slot on average. */
static int index_grow(struct store *st) {
  if ((size_t)st->nstates < st->nindex) return 0;
  size_t n = st->nindex ? st->nindex * 2 : 64;
  struct state **index = calloc(n, sizeof *index);
  if (!index) return -1;
  free(st->index);
  st->index = index;
  st->nindex = n;
  for (struct state *s = st->head; s; s = s->next) {
    struct state **slot = index_slot(st, s->name);
    s->hnext = *slot;
    *slot = s;
  }
  return 0;
}

void store_remove(struct store *st, struct state *s) {
  for (struct state **p = index_slot(st, s->name); *p; p = &(*p)->hnext)
    if (*p == s) {
      *p = s->hnext;
      break;
    }
  struct state *prev = NULL;
  for (struct state **p = &st->head; *p; prev = *p, p = &(*p)->next)
    if (*p == s) {
      *p = s->next;
      if (st->tail == s) st->tail = prev;
      st->nstates--;
      state_free(s);
      return;
    }
}

struct state *store_find(struct store *st, const char *name) {
  if (!st->nindex) return NULL;
  for (struct state *s = *index_slot(st, name); s; s = s->hnext)
    if (strcmp(s->name, name) == 0) return s;
  return NULL;
}

struct state *store_add(struct store *st, const char *name, const char *path) {
  struct state *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->name = strdup(name);
  s->path = strdup(path);
  s->hist_cap = st->history_cap;
  s->hist = calloc((size_t)s->hist_cap, sizeof *s->hist);
  if (!s->name || !s->path || !s->hist) {
    free(s->name);
    free(s->path);
    free(s->hist);
    free(s);
    return NULL;
  }
  s->status = FILE_ABSENT;
  s->store = st;
  if (index_grow(st) != 0) {
    free(s->name);
    free(s->path);
    free(s->hist);
    free(s);
    return NULL;
  }
  /* Appended, so listings keep the order states were given in. */
  if (st->tail)
    st->tail->next = s;
  else
    st->head = s;
  st->tail = s;
  st->nstates++;
  struct state **slot = index_slot(st, s->name);
  s->hnext = *slot;
  *slot = s;
  return s;
}

static size_t entry_bytes(const cJSON *ops, const cJSON *inverse) {
  struct json_stats a, b;
  json_stats(ops, &a);
  json_stats(inverse, &b);
  return a.mem / 2 + b.mem / 2 > SIZE_MAX / 2 ? SIZE_MAX : a.mem + b.mem;
}

/* Drops the oldest entry held by any state; 0 if there was none. */
static int evict_oldest(struct store *st) {
  struct state *pick = NULL;
  for (struct state *s = st->head; s; s = s->next)
    if (s->hist_len &&
        (!pick || s->hist[s->hist_head].seq < pick->hist[pick->hist_head].seq))
      pick = s;
  if (pick) drop_oldest(pick);
  return pick != NULL;
}

/* Records a change; takes ownership of ops and inverse. The history of all
 * states together is held to history_max bytes, the oldest entries going
 * first. A change too large to keep at all also makes the entries before
 * it useless (they cannot reach back past it), so they go too. */
static void history_push(struct state *s, cJSON *ops, cJSON *inverse,
                         const char *origin, const char *sender) {
  struct store *st = s->store;
  size_t bytes = entry_bytes(ops, inverse);
  /* Described now, while the state shows what the ops did. */
  cJSON *desc =
      ops && inverse ? patch_describe(s->current, ops, inverse) : NULL;
  struct json_stats ds;
  json_stats(desc, &ds);
  if (bytes < SIZE_MAX - ds.mem) bytes += ds.mem;
  if (!ops || !inverse || (st->history_max && bytes > st->history_max)) {
    cJSON_Delete(desc);
    cJSON_Delete(ops);
    cJSON_Delete(inverse);
    while (s->hist_len)
      drop_oldest(s);
    return;
  }
  if (s->hist_len == s->hist_cap) drop_oldest(s);
  struct history_entry *e =
      &s->hist[(s->hist_head + s->hist_len) % s->hist_cap];
  s->hist_len++;
  e->version = s->version;
  e->time_ms = isotime_now_ms();
  snprintf(e->origin, sizeof e->origin, "%s", origin);
  snprintf(e->sender, sizeof e->sender, "%s", sender ? sender : "");
  e->ops = ops;
  e->inverse = inverse;
  e->desc = desc;
  e->bytes = bytes;
  e->seq = ++st->seq;
  st->history_bytes += bytes;
  while (st->history_max && st->history_bytes > st->history_max &&
         evict_oldest(st))
    ;
}

int store_apply(struct state *s, const cJSON *ops, const char *origin,
                bool *changed, char *err, size_t errlen) {
  return store_apply_from(s, ops, origin, NULL, changed, err, errlen);
}

int store_apply_from(struct state *s, const cJSON *ops, const char *origin,
                     const char *sender, bool *changed, char *err,
                     size_t errlen) {
  *changed = false;
  if (!ops->child) return PATCH_OK;
  cJSON *inverse = NULL;
  struct patch_limits lim = {.size = s->size, .max_size = s->store->max_state};
  int rc = patch_apply_limited(&s->current, ops, &lim, &inverse, err, errlen);
  if (rc == PATCH_TOO_LARGE && lim.hit == PATCH_LIMIT_SIZE && err)
    snprintf(err, errlen,
             "the change would make the state larger than --max-state "
             "(%zu bytes as its file is written); nothing was applied",
             s->store->max_state);
  if (rc != PATCH_OK) return rc;
  s->size = lim.size;
  if (!lim.changed) {
    cJSON_Delete(inverse);
    return PATCH_OK;
  }
  s->version++;
  *changed = true;
  history_push(s, cJSON_Duplicate(ops, 1), inverse, origin, sender);
  return PATCH_OK;
}

int store_replace(struct state *s, cJSON *value, const char *origin,
                  cJSON **ops_out) {
  struct json_stats vs;
  json_stats(value, &vs);
  size_t size = vs.size == SIZE_MAX ? SIZE_MAX : vs.size + 1;
  if (vs.height > JSON_MAX_DEPTH ||
      (s->store->max_state && size > s->store->max_state)) {
    cJSON_Delete(value);
    return PATCH_TOO_LARGE;
  }
  cJSON *ops, *inverse;
  if (s->current) {
    ops = patch_diff(s->current, value);
    inverse = patch_diff(value, s->current);
  } else {
    ops = cJSON_CreateArray();
    inverse = cJSON_CreateArray();
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "op", "replace");
    cJSON_AddStringToObject(op, "path", "");
    /* A reference, not a copy: the first value of a large state is not
     * held twice while the caller logs the change. */
    cJSON_AddItemReferenceToObject(op, "value", value);
    cJSON_AddItemToArray(ops, op);
  }
  if (!ops || !inverse) {
    cJSON_Delete(ops);
    cJSON_Delete(inverse);
    cJSON_Delete(value);
    return PATCH_NOMEM;
  }
  if (!ops->child && s->current) {
    cJSON_Delete(inverse);
    cJSON_Delete(value);
    *ops_out = ops;
    return 0;
  }
  int created = s->current == NULL;
  cJSON_Delete(s->current);
  s->current = value;
  s->size = size;
  s->version++;
  *ops_out = ops;
  /* A state's first value has nothing to undo to: history starts after. */
  if (created)
    cJSON_Delete(inverse);
  else
    history_push(s, cJSON_Duplicate(ops, 1), inverse, origin, NULL);
  return 0;
}

const struct history_entry *store_history(const struct state *s, int i) {
  if (i < 0 || i >= s->hist_len) return NULL;
  return &s->hist[(s->hist_head + i) % s->hist_cap];
}

cJSON *store_value_at(const struct state *s, uint64_t version) {
  if (!s->current || version < 1 || version > s->version) return NULL;
  if (version == s->version) return cJSON_Duplicate(s->current, 1);
  /* Walk back from the newest entry, undoing each change after version;
   * the entries must reach from the current version down without a gap. */
  if (!s->hist_len ||
      store_history(s, s->hist_len - 1)->version != s->version ||
      version + 1 < store_history(s, 0)->version)
    return NULL;
  cJSON *doc = cJSON_Duplicate(s->current, 1);
  uint64_t want = s->version;
  for (int i = s->hist_len - 1; i >= 0 && doc; i--, want--) {
    const struct history_entry *e = store_history(s, i);
    if (e->version <= version) break;
    if (e->version != want || !e->inverse ||
        patch_apply(&doc, e->inverse, NULL, NULL, 0) != PATCH_OK) {
      cJSON_Delete(doc);
      return NULL;
    }
  }
  return doc;
}
