/* The strict check: a patch's paths against the paths changed since its
 * base. */
#include "strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int strict_overlaps(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > lb) {
    const char *t = a;
    a = b;
    b = t;
    size_t n = la;
    la = lb;
    lb = n;
  }
  /* a is the shorter: equal, or a prefix of b that ends at a '/'. */
  return memcmp(a, b, la) == 0 && (la == lb || b[la] == '/');
}

/* --- the patch's paths as a tree of tokens ------------------------------- */

struct pnode {
  const char *tok; /* escaped, as in the pointer: "~0"/"~1" are canonical */
  uint32_t len;
  uint32_t parent;
  uint64_t max_index; /* the highest array index among the children */
  unsigned char end;  /* a path of the patch ends here */
  unsigned char has_index;
};

struct pathset {
  struct pnode *nodes; /* 0 is the root, the pointer "" */
  uint32_t n;
  uint32_t *slots; /* node + 1, 0: empty */
  uint32_t mask;
  uint32_t seed;
};

static uint32_t tok_hash(const struct pathset *ps, uint32_t parent,
                         const char *t, uint32_t len) {
  uint32_t h = ps->seed ^ (parent * 0x9E3779B1u);
  for (uint32_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)t[i]) * 16777619u;
  return h ^ (h >> 15);
}

/* The child of parent called t, made if add; UINT32_MAX if none. */
static uint32_t child(struct pathset *ps, uint32_t parent, const char *t,
                      uint32_t len, int add) {
  uint32_t i = tok_hash(ps, parent, t, len) & ps->mask;
  for (;; i = (i + 1) & ps->mask) {
    uint32_t k = ps->slots[i];
    if (!k) break;
    const struct pnode *p = &ps->nodes[k - 1];
    if (p->parent == parent && p->len == len && memcmp(p->tok, t, len) == 0)
      return k - 1;
  }
  if (!add) return UINT32_MAX;
  struct pnode *p = &ps->nodes[ps->n];
  memset(p, 0, sizeof *p);
  p->tok = t;
  p->len = len;
  p->parent = parent;
  ps->slots[i] = ++ps->n;
  return ps->n - 1;
}

/* An array index token ("0", "17"; not "-", not "01"): 1 and *out. */
static int as_index(const char *t, uint32_t len, uint64_t *out) {
  if (len == 0 || len > 19 || (t[0] == '0' && len > 1)) return 0;
  uint64_t v = 0;
  for (uint32_t i = 0; i < len; i++) {
    if (t[i] < '0' || t[i] > '9') return 0;
    v = v * 10 + (uint64_t)(t[i] - '0');
  }
  *out = v;
  return 1;
}

static uint32_t count_tokens(const char *p) {
  uint32_t n = 0;
  for (; *p; p++)
    n += *p == '/';
  return n;
}

static void add_path(struct pathset *ps, const char *p) {
  uint32_t node = 0;
  while (*p == '/') {
    const char *t = ++p;
    while (*p && *p != '/')
      p++;
    uint32_t len = (uint32_t)(p - t);
    uint32_t next = child(ps, node, t, len, 1);
    uint64_t idx;
    if (as_index(t, len, &idx) &&
        (!ps->nodes[node].has_index || idx > ps->nodes[node].max_index)) {
      ps->nodes[node].has_index = 1;
      ps->nodes[node].max_index = idx;
    }
    node = next;
  }
  ps->nodes[node].end = 1;
}

/* Whether the changed path p overlaps a path of the set. With shift, p
 * inserted or removed an array element: every index from p's last token
 * on moved, so the paths at those indices overlap too. */
static int meets(struct pathset *ps, const char *p, int shift) {
  uint32_t node = 0;
  if (ps->nodes[0].end) return 1;
  while (*p == '/') {
    const char *t = ++p;
    while (*p && *p != '/')
      p++;
    uint32_t len = (uint32_t)(p - t);
    uint64_t idx;
    if (shift && !*p && as_index(t, len, &idx)) {
      const struct pnode *parent = &ps->nodes[node];
      return parent->has_index && parent->max_index >= idx;
    }
    node = child(ps, node, t, len, 0);
    if (node == UINT32_MAX) return 0;
    if (ps->nodes[node].end) return 1;
  }
  return 1; /* a path of the patch lies at or below p */
}

static const char *str_member(const cJSON *op, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int pathset_build(struct pathset *ps, const cJSON *ops) {
  memset(ps, 0, sizeof *ps);
  size_t total = 1;
  for (const cJSON *op = ops->child; op; op = op->next) {
    const char *path = str_member(op, "path"), *from = str_member(op, "from");
    if (path) total += count_tokens(path);
    if (from) total += count_tokens(from);
    if (total > UINT32_MAX / 4) return -1;
  }
  uint32_t cap = 16;
  while (cap < 2 * total)
    cap *= 2;
  ps->nodes = malloc(total * sizeof *ps->nodes);
  ps->slots = calloc(cap, sizeof *ps->slots);
  if (!ps->nodes || !ps->slots) return -1;
  ps->mask = cap - 1;
  /* Unpredictable, so no chosen set of keys lands in one chain. */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ps->seed = (uint32_t)ts.tv_nsec * 2654435761u ^
             (uint32_t)((uintptr_t)ps->slots >> 4);
  memset(&ps->nodes[0], 0, sizeof ps->nodes[0]);
  ps->n = 1;
  for (const cJSON *op = ops->child; op; op = op->next) {
    const char *path = str_member(op, "path"), *from = str_member(op, "from");
    if (path) add_path(ps, path);
    if (from) add_path(ps, from);
  }
  return 0;
}

static void pathset_free(struct pathset *ps) {
  free(ps->nodes);
  free(ps->slots);
}

/* --- the check ----------------------------------------------------------- */

/* The first path of e's ops that meets the set, or NULL. */
static const char *entry_meets(struct pathset *ps, const cJSON *ops) {
  for (const cJSON *op = ops ? ops->child : NULL; op; op = op->next) {
    const char *kind = str_member(op, "op");
    const char *path = str_member(op, "path");
    if (!kind || !path || strcmp(kind, "test") == 0) continue;
    int inserts = strcmp(kind, "add") == 0 || strcmp(kind, "copy") == 0 ||
                  strcmp(kind, "move") == 0;
    int removes = strcmp(kind, "remove") == 0;
    if (meets(ps, path, inserts || removes)) return path;
    if (strcmp(kind, "move") == 0) {
      const char *from = str_member(op, "from");
      if (from && meets(ps, from, 1)) return from;
    }
  }
  return NULL;
}

int strict_check(const struct state *s, uint64_t base, const char *sender,
                 const cJSON *ops, struct strict_conflict *c) {
  if (base == s->version) return STRICT_OK;
  if (base > s->version) return STRICT_UNKNOWN;
  /* The entries after base, newest first; they must reach back to base
   * without a gap (history is dropped oldest first). */
  int first = s->hist_len;
  uint64_t want = s->version;
  while (first > 0 && store_history(s, first - 1)->version > base) {
    if (store_history(s, first - 1)->version != want) return STRICT_UNKNOWN;
    first--;
    want--;
  }
  if (want != base) return STRICT_UNKNOWN;
  if (sender && !*sender) sender = NULL;
  struct pathset ps;
  if (pathset_build(&ps, ops) != 0) {
    pathset_free(&ps);
    return STRICT_NOMEM;
  }
  int rc = STRICT_OK;
  for (int i = first; i < s->hist_len && rc == STRICT_OK; i++) {
    const struct history_entry *e = store_history(s, i);
    if (sender && strcmp(e->sender, sender) == 0) continue;
    const char *path = entry_meets(&ps, e->ops);
    if (!path) continue;
    rc = STRICT_STALE;
    if (c) {
      c->version = e->version;
      snprintf(c->origin, sizeof c->origin, "%s", e->origin);
      size_t n = strlen(path);
      if (n < sizeof c->path)
        memcpy(c->path, path, n + 1);
      else
        snprintf(c->path, sizeof c->path, "%.*s...", (int)sizeof c->path - 4,
                 path);
    }
  }
  pathset_free(&ps);
  return rc;
}
