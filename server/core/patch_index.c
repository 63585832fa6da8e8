/* Per-patch indexes of objects (a hash set of members by key) and arrays
 * (an implicit treap: a balanced tree ordered by position, so the element
 * at an index is found, inserted or removed in O(log n)). */
#include "patch_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NIL UINT32_MAX

struct tnode {
  cJSON *item;
  uint32_t prio, size, l, r;
};

struct treap {
  struct tnode *n; /* NULL: no tree */
  uint32_t cap, used, free_list, root;
};

struct entry {
  const cJSON *c;
  unsigned seen; /* lookups so far: the second one builds the index */
  int counted;   /* arrays: count is known */
  size_t count;
  struct treap t;      /* arrays */
  const cJSON **slots; /* objects: NULL, a member, or TOMB */
  size_t mask, filled; /* filled counts members and tombstones */
};

struct pindex {
  struct entry *e;
  size_t ne, cape;
  uint32_t *map; /* entry index + 1, 0 for an empty slot */
  size_t mapmask;
  uint32_t rng;
};

static const char tomb_mark;
#define TOMB ((const cJSON *)(const void *)&tomb_mark)

struct pindex *pindex_new(void) {
  struct pindex *px = calloc(1, sizeof *px);
  if (!px) return NULL;
  /* Priorities an attacker cannot predict, so no order of inserts can
   * unbalance a tree. */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  px->rng = (uint32_t)ts.tv_nsec ^ (uint32_t)((uintptr_t)px >> 4) ^
            (uint32_t)ts.tv_sec * 2654435761u;
  if (!px->rng) px->rng = 1;
  return px;
}

void pindex_free(struct pindex *px) {
  if (!px) return;
  for (size_t i = 0; i < px->ne; i++) {
    free(px->e[i].t.n);
    free(px->e[i].slots);
  }
  free(px->e);
  free(px->map);
  free(px);
}

static uint32_t next_rand(struct pindex *px) {
  uint32_t x = px->rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return px->rng = x;
}

/* ---- containers to entries ---------------------------------------------- */

static size_t ptr_hash(const void *p) {
  uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
  return (size_t)(h >> 17);
}

static int map_grow(struct pindex *px) {
  size_t cap = px->map ? (px->mapmask + 1) * 2 : 64;
  uint32_t *map = calloc(cap, sizeof *map);
  if (!map) return -1;
  for (size_t i = 0; i < px->ne; i++) {
    size_t j = ptr_hash(px->e[i].c) & (cap - 1);
    while (map[j])
      j = (j + 1) & (cap - 1);
    map[j] = (uint32_t)i + 1;
  }
  free(px->map);
  px->map = map;
  px->mapmask = cap - 1;
  return 0;
}

/* The entry of c, created if create; NULL if there is none (or no
 * memory). The pointer is valid until the next entry is created. */
static struct entry *entry_of(struct pindex *px, const cJSON *c, int create) {
  if (!px) return NULL;
  if (px->map) {
    size_t j = ptr_hash(c) & px->mapmask;
    for (; px->map[j]; j = (j + 1) & px->mapmask)
      if (px->e[px->map[j] - 1].c == c) return &px->e[px->map[j] - 1];
  }
  if (!create || px->ne >= UINT32_MAX - 1) return NULL;
  if ((!px->map || (px->ne + 1) * 2 > px->mapmask + 1) && map_grow(px))
    return NULL;
  if (px->ne == px->cape) {
    size_t cap = px->cape ? px->cape * 2 : 16;
    struct entry *e = realloc(px->e, cap * sizeof *e);
    if (!e) return NULL;
    px->e = e;
    px->cape = cap;
  }
  struct entry *e = &px->e[px->ne];
  memset(e, 0, sizeof *e);
  e->c = c;
  e->t.root = NIL;
  size_t j = ptr_hash(c) & px->mapmask;
  while (px->map[j])
    j = (j + 1) & px->mapmask;
  px->map[j] = (uint32_t)++px->ne;
  return e;
}

/* ---- objects ------------------------------------------------------------ */

static size_t key_hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    h = (h ^ *p) * 1099511628211ULL;
  return (size_t)(h ^ (h >> 29));
}

static void obj_place(struct entry *e, const cJSON *node) {
  size_t i = key_hash(node->string) & e->mask;
  while (e->slots[i] && e->slots[i] != TOMB)
    i = (i + 1) & e->mask;
  if (!e->slots[i]) e->filled++;
  e->slots[i] = node;
}

/* Indexes obj's members (the first of a repeated key wins, as in cJSON). */
static int obj_build(struct entry *e, const cJSON *obj) {
  size_t n = 0, cap = 16;
  for (const cJSON *c = obj->child; c; c = c->next)
    n++;
  while (cap < 2 * n + 2)
    cap *= 2;
  free(e->slots);
  e->slots = calloc(cap, sizeof *e->slots);
  e->mask = cap - 1;
  e->filled = 0;
  if (!e->slots) return -1;
  for (const cJSON *c = obj->child; c; c = c->next) {
    if (!c->string) continue;
    size_t i = key_hash(c->string) & e->mask;
    while (e->slots[i] && strcmp(e->slots[i]->string, c->string) != 0)
      i = (i + 1) & e->mask;
    if (!e->slots[i]) {
      e->slots[i] = c;
      e->filled++;
    }
  }
  return 0;
}

static const cJSON **obj_slot(const struct entry *e, const char *key) {
  size_t i = key_hash(key) & e->mask;
  for (; e->slots[i]; i = (i + 1) & e->mask)
    if (e->slots[i] != TOMB && strcmp(e->slots[i]->string, key) == 0)
      return &e->slots[i];
  return NULL;
}

cJSON *pindex_member(struct pindex *px, const cJSON *obj, const char *key) {
  struct entry *e = entry_of(px, obj, 1);
  if (e && !e->slots && ++e->seen >= 2 && obj_build(e, obj) != 0) {
    free(e->slots);
    e->slots = NULL;
  }
  if (e && e->slots) {
    const cJSON **s = obj_slot(e, key);
    return s ? (cJSON *)*s : NULL;
  }
  return cJSON_GetObjectItemCaseSensitive(obj, key);
}

void pindex_linked(struct pindex *px, const cJSON *obj, const cJSON *node) {
  struct entry *e = entry_of(px, obj, 0);
  if (!e || !e->slots || !node->string) return;
  if ((e->filled + 1) * 4 > (e->mask + 1) * 3) {
    /* Full of members and tombstones: build afresh (node is linked). */
    if (obj_build(e, obj) != 0) {
      free(e->slots);
      e->slots = NULL;
    }
    return;
  }
  obj_place(e, node);
}

void pindex_unlinked(struct pindex *px, const cJSON *obj, const cJSON *node) {
  struct entry *e = entry_of(px, obj, 0);
  if (!e || !e->slots || !node->string) return;
  const cJSON **s = obj_slot(e, node->string);
  if (s && *s == node) *s = TOMB;
}

/* ---- arrays ------------------------------------------------------------- */

static uint32_t tsize(const struct treap *t, uint32_t i) {
  return i == NIL ? 0 : t->n[i].size;
}

static void tupdate(struct treap *t, uint32_t i) {
  t->n[i].size = 1 + tsize(t, t->n[i].l) + tsize(t, t->n[i].r);
}

/* Splits the tree at root into its first k elements (*a) and the rest. The
 * recursion is as deep as the tree, O(log n) with random priorities. */
static void tsplit(struct treap *t, uint32_t root, uint32_t k, uint32_t *a,
                   uint32_t *b) {
  if (root == NIL) {
    *a = *b = NIL;
    return;
  }
  uint32_t left = tsize(t, t->n[root].l);
  if (left >= k) {
    tsplit(t, t->n[root].l, k, a, &t->n[root].l);
    *b = root;
  } else {
    tsplit(t, t->n[root].r, k - left - 1, &t->n[root].r, b);
    *a = root;
  }
  tupdate(t, root);
}

static uint32_t tmerge(struct treap *t, uint32_t a, uint32_t b) {
  if (a == NIL) return b;
  if (b == NIL) return a;
  if (t->n[a].prio > t->n[b].prio) {
    t->n[a].r = tmerge(t, t->n[a].r, b);
    tupdate(t, a);
    return a;
  }
  t->n[b].l = tmerge(t, a, t->n[b].l);
  tupdate(t, b);
  return b;
}

static uint32_t tnew(struct pindex *px, struct treap *t, cJSON *item) {
  uint32_t i;
  if (t->free_list != NIL) {
    i = t->free_list;
    t->free_list = t->n[i].r;
  } else {
    if (t->used == t->cap) {
      if (t->cap > UINT32_MAX / 2 - 1) return NIL;
      uint32_t cap = t->cap * 2;
      struct tnode *n = realloc(t->n, (size_t)cap * sizeof *n);
      if (!n) return NIL;
      t->n = n;
      t->cap = cap;
    }
    i = t->used++;
  }
  t->n[i] = (struct tnode){item, next_rand(px), 1, NIL, NIL};
  return i;
}

static void tdrop(struct entry *e) {
  free(e->t.n);
  e->t.n = NULL;
  e->t.root = NIL;
}

/* Builds the tree of arr's elements in one pass: a Cartesian tree on
 * (position, random priority), kept on a stack of its right spine. A node
 * leaves the stack only once its subtree is complete, so its size is set
 * then. */
static int tbuild(struct pindex *px, struct entry *e, const cJSON *arr) {
  size_t n = 0;
  for (const cJSON *c = arr->child; c; c = c->next)
    n++;
  if (n >= UINT32_MAX / 4) return -1;
  uint32_t cap = (uint32_t)n + (uint32_t)n / 2 + 16;
  struct treap *t = &e->t;
  t->n = malloc((size_t)cap * sizeof *t->n);
  uint32_t *stack = malloc((n + 1) * sizeof *stack);
  if (!t->n || !stack) {
    free(stack);
    tdrop(e);
    return -1;
  }
  t->cap = cap;
  t->used = 0;
  t->free_list = NIL;
  size_t sp = 0;
  for (cJSON *c = arr->child; c; c = c->next) {
    uint32_t x = tnew(px, t, c), last = NIL;
    while (sp > 0 && t->n[stack[sp - 1]].prio < t->n[x].prio) {
      last = stack[--sp];
      tupdate(t, last);
    }
    t->n[x].l = last;
    if (sp > 0) t->n[stack[sp - 1]].r = x;
    stack[sp++] = x;
  }
  while (sp > 0)
    tupdate(t, stack[--sp]);
  t->root = n ? stack[0] : NIL;
  free(stack);
  e->counted = 1;
  e->count = n;
  return 0;
}

static cJSON *tget(const struct treap *t, size_t i) {
  uint32_t u = t->root;
  while (u != NIL) {
    uint32_t left = tsize(t, t->n[u].l);
    if (i < left) {
      u = t->n[u].l;
    } else if (i == left) {
      return t->n[u].item;
    } else {
      i -= left + 1;
      u = t->n[u].r;
    }
  }
  return NULL;
}

int pindex_element(struct pindex *px, const cJSON *arr, size_t i,
                   cJSON **node) {
  struct entry *e = entry_of(px, arr, 1);
  if (e && !e->t.n && ++e->seen >= 2) tbuild(px, e, arr);
  if (e && e->t.n) {
    if (i > e->count) return -1;
    *node = i == e->count ? NULL : tget(&e->t, i);
    return 0;
  }
  cJSON *c = arr->child;
  size_t k = 0;
  for (; c && k < i; k++)
    c = c->next;
  if (k < i) return -1;
  if (!c && e) {
    e->counted = 1;
    e->count = k;
  }
  *node = c;
  return 0;
}

size_t pindex_count(struct pindex *px, const cJSON *arr) {
  struct entry *e = entry_of(px, arr, 1);
  if (e && e->counted) return e->count;
  size_t n = 0;
  for (const cJSON *c = arr->child; c; c = c->next)
    n++;
  if (e) {
    e->counted = 1;
    e->count = n;
  }
  return n;
}

void pindex_inserted(struct pindex *px, const cJSON *arr, size_t i,
                     cJSON *node) {
  struct entry *e = entry_of(px, arr, 0);
  if (!e || !e->counted) return;
  if (i == SIZE_MAX || i > e->count) i = e->count;
  e->count++;
  if (!e->t.n) return;
  uint32_t x = tnew(px, &e->t, node), a, b;
  if (x == NIL) {
    tdrop(e);
    return;
  }
  tsplit(&e->t, e->t.root, (uint32_t)i, &a, &b);
  e->t.root = tmerge(&e->t, tmerge(&e->t, a, x), b);
}

void pindex_removed(struct pindex *px, const cJSON *arr, size_t i) {
  struct entry *e = entry_of(px, arr, 0);
  if (!e || !e->counted || i >= e->count) return;
  e->count--;
  if (!e->t.n) return;
  uint32_t a, b, m, c;
  tsplit(&e->t, e->t.root, (uint32_t)i, &a, &b);
  tsplit(&e->t, b, 1, &m, &c);
  if (m != NIL) {
    e->t.n[m].r = e->t.free_list;
    e->t.free_list = m;
  }
  e->t.root = tmerge(&e->t, a, c);
}
