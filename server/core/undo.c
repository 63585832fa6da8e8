/* Undoing earlier versions, keeping the later ones: the path check, the
 * three-way merge, and the merge's own check. */
#include "undo.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "merge.h"
#include "patch.h"

/* Path comparisons one undo may make before it stops comparing and relies
 * on the merge's own check alone. */
#define UNDO_COMPARE_BUDGET 20000000L

int undo_paths_overlap(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;
  if (strncmp(a, b, n) != 0) return 0;
  return la == lb || (la > lb ? a : b)[n] == '/';
}

static const struct history_entry *entry_of(const struct state *s,
                                            uint64_t version) {
  if (!s->hist_len) return NULL;
  uint64_t first = store_history(s, 0)->version;
  if (version < first || version - first >= (uint64_t)s->hist_len) return NULL;
  const struct history_entry *e = store_history(s, (int)(version - first));
  return e && e->version == version ? e : NULL;
}

/* The paths one version changed: "path" of each op but test, and "from"
 * of a move. An append ("/items/-") is named by the index it landed at,
 * read from the inverse (which patch_apply builds one entry per op, last
 * first, when the patch has no move). */
struct paths {
  char **p;
  int n;
};

static void paths_free(struct paths *ps) {
  for (int i = 0; i < ps->n; i++)
    free(ps->p[i]);
  free(ps->p);
  ps->p = NULL;
  ps->n = 0;
}

static const char *str_item(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int paths_add(struct paths *ps, const char *p, int *cap) {
  if (!p) return 0;
  if (ps->n == *cap) {
    int c = *cap ? *cap * 2 : 8;
    char **np = realloc(ps->p, (size_t)c * sizeof *np);
    if (!np) return -1;
    ps->p = np;
    *cap = c;
  }
  if (!(ps->p[ps->n] = strdup(p))) return -1;
  ps->n++;
  return 0;
}

static int paths_of(const struct history_entry *e, struct paths *ps) {
  ps->p = NULL;
  ps->n = 0;
  int cap = 0, counted = 0, moves = 0;
  const cJSON *op;
  cJSON_ArrayForEach(op, e->ops) {
    const char *k = str_item(op, "op");
    counted += k && strcmp(k, "test") != 0;
    moves += k && !strcmp(k, "move");
  }
  /* The inverse entry of each op, when they pair up. */
  int paired = !moves && counted == cJSON_GetArraySize(e->inverse);
  const cJSON **inv = NULL;
  if (paired && counted) inv = calloc((size_t)counted, sizeof *inv);
  if (paired && counted && !inv) return -1;
  int i = counted;
  const cJSON *x;
  if (inv) cJSON_ArrayForEach(x, e->inverse) inv[--i] = x;
  i = 0;
  cJSON_ArrayForEach(op, e->ops) {
    const char *k = str_item(op, "op"), *path = str_item(op, "path");
    if (!k || !strcmp(k, "test")) continue;
    size_t len = path ? strlen(path) : 0;
    if (inv && path && len >= 2 && !strcmp(path + len - 2, "/-") &&
        str_item(inv[i], "path"))
      path = str_item(inv[i], "path");
    if (paths_add(ps, path, &cap) != 0 ||
        (!strcmp(k, "move") &&
         paths_add(ps, str_item(op, "from"), &cap) != 0)) {
      free(inv);
      paths_free(ps);
      return -1;
    }
    i++;
  }
  free(inv);
  return 0;
}

static int in_list(const uint64_t *v, int n, uint64_t x) {
  for (int i = 0; i < n; i++)
    if (v[i] == x) return 1;
  return 0;
}

static int add_conflict(struct undo_result *r, uint64_t version, uint64_t by,
                        const char *path) {
  struct undo_conflict *c =
      realloc(r->conflicts, (size_t)(r->nconflicts + 1) * sizeof *c);
  if (!c) return -1;
  r->conflicts = c;
  c[r->nconflicts].version = version;
  c[r->nconflicts].by = by;
  if (!(c[r->nconflicts].path = strdup(path))) return -1;
  r->nconflicts++;
  return 0;
}

/* The first later version (not being undone) whose paths overlap path, or
 * 0. budget counts comparisons. */
static uint64_t touched_by(const struct state *s, const struct undo_result *r,
                           uint64_t after, const char *path, long *budget) {
  for (uint64_t w = after + 1; w <= s->version; w++) {
    if (in_list(r->versions, r->nversions, w)) continue;
    const struct history_entry *e = entry_of(s, w);
    struct paths pw;
    if (!e || paths_of(e, &pw) != 0) continue;
    int hit = 0;
    for (int i = 0; i < pw.n && !hit && (*budget)-- > 0; i++)
      hit = undo_paths_overlap(pw.p[i], path);
    paths_free(&pw);
    if (hit) return w;
  }
  return 0;
}

/* The path check: a later version that changed what V changed. */
static int check_paths(const struct state *s, struct undo_result *r, uint64_t v,
                       long *budget) {
  struct paths pv;
  if (paths_of(entry_of(s, v), &pv) != 0) return -1;
  for (int i = 0; i<pv.n && * budget> 0; i++) {
    uint64_t by = touched_by(s, r, v, pv.p[i], budget);
    if (by) {
      int rc = add_conflict(r, v, by, pv.p[i]);
      paths_free(&pv);
      return rc;
    }
  }
  paths_free(&pv);
  return 0;
}

/* Whether every item of an array is an object with a unique "id" (a
 * string or a number). Small arrays only: the check is quadratic. */
static const cJSON *item_id(const cJSON *item) {
  const cJSON *id = cJSON_IsObject(item)
                        ? cJSON_GetObjectItemCaseSensitive(item, "id")
                        : NULL;
  return cJSON_IsString(id) || cJSON_IsNumber(id) ? id : NULL;
}

static const cJSON *find_by_id(const cJSON *arr, const cJSON *id) {
  for (const cJSON *c = arr->child; c; c = c->next) {
    const cJSON *cid = item_id(c);
    if (cid && json_equal(cid, id)) return c;
  }
  return NULL;
}

/* Equal values, where the order of object members and of items that carry
 * an id does not count (the merge orders those by one side or the other). */
static int same_content(const cJSON *a, const cJSON *b) {
  if (json_equal(a, b)) return 1;
  if (!a || !b || (a->type & 0xFF) != (b->type & 0xFF)) return 0;
  if (cJSON_IsObject(a)) {
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return 0;
    for (const cJSON *c = a->child; c; c = c->next)
      if (!same_content(c, cJSON_GetObjectItemCaseSensitive(b, c->string)))
        return 0;
    return 1;
  }
  if (!cJSON_IsArray(a)) return 0;
  int n = cJSON_GetArraySize(a);
  if (n != cJSON_GetArraySize(b)) return 0;
  if (n > 2000) return 0;
  for (const cJSON *c = a->child; c; c = c->next) {
    const cJSON *id = item_id(c);
    const cJSON *o = id ? find_by_id(b, id) : NULL;
    if (!o || !same_content(c, o)) return 0;
  }
  return 1;
}

static int cmp_desc(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return a < b ? 1 : a > b ? -1 : 0;
}

/* One version undone from *cur (replaced by the result). */
static int undo_one(const struct state *s, struct undo_result *r, uint64_t v,
                    cJSON **cur, long *budget) {
  cJSON *at = store_value_at(s, v), *before = store_value_at(s, v - 1);
  cJSON *res = at && before ? merge3(at, before, *cur) : NULL;
  cJSON *alt = res ? merge3(at, *cur, before) : NULL;
  int rc = alt ? 0 : -1;
  if (!rc && !same_content(res, alt)) {
    /* Both cannot be kept: name the first place they part, and the later
     * version that changed it (or a parent of it). */
    cJSON *d = patch_diff(res, alt);
    const char *path = d && d->child ? str_item(d->child, "path") : NULL;
    char *p = strdup(path ? path : "");
    uint64_t by = 0;
    while (p && !by) {
      by = touched_by(s, r, v, p, budget);
      char *slash = strrchr(p, '/');
      if (by || !slash) break;
      *slash = '\0';
    }
    for (uint64_t w = v + 1; !by && w <= s->version; w++)
      if (!in_list(r->versions, r->nversions, w)) by = w;
    rc = p ? add_conflict(r, v, by, path ? path : "") : -1;
    free(p);
    cJSON_Delete(d);
    cJSON_Delete(res);
    res = NULL;
  }
  cJSON_Delete(at);
  cJSON_Delete(before);
  cJSON_Delete(alt);
  if (res) {
    cJSON_Delete(*cur);
    *cur = res;
  }
  return rc;
}

int undo_compute(const struct state *s, const uint64_t *versions, int n,
                 struct undo_result *r) {
  memset(r, 0, sizeof *r);
  for (int i = 0; i < n && r->nversions < UNDO_MAX_VERSIONS; i++)
    if (!in_list(r->versions, r->nversions, versions[i]))
      r->versions[r->nversions++] = versions[i];
  qsort(r->versions, (size_t)r->nversions, sizeof *r->versions, cmp_desc);
  /* Each version, and the one before it, must still be known. */
  for (int i = 0; i < r->nversions; i++) {
    uint64_t v = r->versions[i];
    if (!s->current || v < 2 || v > s->version || !entry_of(s, v) ||
        !entry_of(s, s->version)) {
      r->bad = v;
      return UNDO_UNKNOWN_VERSION;
    }
  }
  long budget = UNDO_COMPARE_BUDGET;
  for (int i = 0; i < r->nversions; i++)
    if (check_paths(s, r, r->versions[i], &budget) != 0) return UNDO_NOMEM;
  if (r->nconflicts) return UNDO_CONFLICT;
  cJSON *cur = cJSON_Duplicate(s->current, 1);
  if (!cur) return UNDO_NOMEM;
  for (int i = 0; i < r->nversions; i++)
    if (undo_one(s, r, r->versions[i], &cur, &budget) != 0) {
      cJSON_Delete(cur);
      return UNDO_NOMEM;
    }
  if (r->nconflicts) {
    cJSON_Delete(cur);
    return UNDO_CONFLICT;
  }
  r->value = cur;
  return UNDO_OK;
}

void undo_result_free(struct undo_result *r) {
  cJSON_Delete(r->value);
  r->value = NULL;
  for (int i = 0; i < r->nconflicts; i++)
    free(r->conflicts[i].path);
  free(r->conflicts);
  r->conflicts = NULL;
  r->nconflicts = 0;
}
