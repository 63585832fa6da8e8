/* Three-way merge of JSON values. */
#include "merge.h"

#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Objects are merged by member name and arrays of objects by "id". Both
 * need a lookup per member of each side, so a small hash index keeps wide
 * objects and long lists linear. */
struct key {
  const char *s; /* a name or string id; NULL for a numeric id */
  double n;
};

struct slot {
  struct key k;
  const cJSON *item; /* NULL: empty slot */
};

struct index {
  struct slot *slots;
  size_t mask;
};

static uint64_t key_hash(const struct key *k) {
  uint64_t h = 1469598103934665603ULL;
  if (k->s) {
    for (const unsigned char *p = (const unsigned char *)k->s; *p; p++)
      h = (h ^ *p) * 1099511628211ULL;
    return h;
  }
  double n = k->n == 0 ? 0.0 : k->n; /* -0 and 0 are one id */
  uint64_t bits;
  memcpy(&bits, &n, sizeof bits);
  h = (h ^ bits) * 1099511628211ULL;
  return h ^ (h >> 31);
}

static int key_eq(const struct key *a, const struct key *b) {
  if (a->s || b->s) return a->s && b->s && strcmp(a->s, b->s) == 0;
  return a->n == b->n;
}

static struct slot *index_slot(const struct index *ix, const struct key *k) {
  size_t i = (size_t)key_hash(k) & ix->mask;
  while (ix->slots[i].item && !key_eq(&ix->slots[i].k, k))
    i = (i + 1) & ix->mask;
  return &ix->slots[i];
}

/* An array item's id: an object whose "id" is a string or a number. */
static int item_id(const cJSON *item, struct key *k) {
  const cJSON *id = cJSON_IsObject(item)
                        ? cJSON_GetObjectItemCaseSensitive(item, "id")
                        : NULL;
  if (cJSON_IsString(id))
    *k = (struct key){id->valuestring, 0};
  else if (cJSON_IsNumber(id))
    *k = (struct key){NULL, id->valuedouble};
  else
    return 0;
  return 1;
}

static int item_key(const cJSON *item, int by_id, struct key *k) {
  if (by_id) return item_id(item, k);
  *k = (struct key){item->string ? item->string : "", 0};
  return 1;
}

/* Returns 0, 1 if the container cannot be merged by id (an item without an
 * id, or a repeated id), or -1 on allocation failure. A repeated object key
 * keeps its first member, as lookups do. */
static int index_build(struct index *ix, const cJSON *c, int by_id) {
  size_t n = 0, cap = 8;
  for (const cJSON *x = c->child; x; x = x->next)
    n++;
  while (cap < 2 * n)
    cap *= 2;
  ix->slots = calloc(cap, sizeof *ix->slots);
  ix->mask = cap - 1;
  if (!ix->slots) return -1;
  for (const cJSON *x = c->child; x; x = x->next) {
    struct key k;
    if (!item_key(x, by_id, &k)) return 1;
    struct slot *s = index_slot(ix, &k);
    if (s->item && by_id) return 1;
    if (!s->item) *s = (struct slot){k, x};
  }
  return 0;
}

static const cJSON *index_find(const struct index *ix, const cJSON *item,
                               int by_id) {
  struct key k;
  item_key(item, by_id, &k);
  return index_slot(ix, &k)->item;
}

static int append(cJSON *out, const cJSON *like, cJSON *v) {
  if (!v) return -1;
  if (cJSON_IsArray(out))
    return cJSON_AddItemToArray(out, v) ? 0 : (cJSON_Delete(v), -1);
  return cJSON_AddItemToObject(out, like->string, v) ? 0
                                                     : (cJSON_Delete(v), -1);
}

/* Merges members (objects) or id'd items (arrays) one by one, in theirs'
 * order, then ours' additions. A member deleted on one side and modified on
 * the other is a true conflict, which the file's side wins, as everywhere
 * else: deleted in theirs means gone, modified in theirs means kept. */
static cJSON *merge_keyed(const struct index ix[3], const cJSON *ours,
                          const cJSON *theirs, int by_id) {
  cJSON *out = by_id ? cJSON_CreateArray() : cJSON_CreateObject();
  int rc = out ? 0 : -1;
  for (const cJSON *t = theirs->child; t && rc == 0; t = t->next) {
    const cJSON *b = index_find(&ix[0], t, by_id),
                *o = index_find(&ix[1], t, by_id);
    if (!by_id && index_find(&ix[2], t, 0) != t) continue; /* repeated key */
    if (o)
      rc = append(out, t, merge3(b, o, t));
    else if (!b || !json_equal(b, t))
      rc = append(out, t, json_copy_value(t));
  }
  for (const cJSON *o = ours->child; o && rc == 0; o = o->next) {
    if (index_find(&ix[2], o, by_id) || index_find(&ix[0], o, by_id)) continue;
    if (!by_id && index_find(&ix[1], o, 0) != o) continue;
    rc = append(out, o, json_copy_value(o));
  }
  if (rc == 0) return out;
  cJSON_Delete(out);
  return NULL;
}

/* Returns 1 (not mergeable this way) with *out untouched, or 0 with *out
 * the result (NULL on allocation failure). */
static int try_keyed(const cJSON *base, const cJSON *ours, const cJSON *theirs,
                     int by_id, cJSON **out) {
  struct index ix[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
  const cJSON *in[3] = {base, ours, theirs};
  int rc = 0;
  for (int i = 0; i < 3 && rc == 0; i++)
    rc = index_build(&ix[i], in[i], by_id);
  if (rc == 0)
    *out = merge_keyed(ix, ours, theirs, by_id);
  else if (rc < 0)
    *out = NULL;
  for (int i = 0; i < 3; i++)
    free(ix[i].slots);
  return rc > 0;
}

static cJSON *merge_elements(const cJSON *base, const cJSON *ours,
                             const cJSON *theirs) {
  cJSON *out = cJSON_CreateArray();
  const cJSON *b = base->child, *o = ours->child, *t = theirs->child;
  for (; out && t; b = b->next, o = o->next, t = t->next) {
    cJSON *v = merge3(b, o, t);
    if (!v || !cJSON_AddItemToArray(out, v)) {
      cJSON_Delete(v);
      cJSON_Delete(out);
      return NULL;
    }
  }
  return out;
}

static int same_length(const cJSON *a, const cJSON *b, const cJSON *c) {
  a = a->child, b = b->child, c = c->child;
  while (a && b && c)
    a = a->next, b = b->next, c = c->next;
  return !a && !b && !c;
}

cJSON *merge3(const cJSON *base, const cJSON *ours, const cJSON *theirs) {
  if (!theirs) return NULL;
  if (!base || !ours || json_equal(ours, base)) return json_copy_value(theirs);
  if (json_equal(theirs, base)) return json_copy_value(ours);
  cJSON *out = NULL;
  if (cJSON_IsObject(base) && cJSON_IsObject(ours) && cJSON_IsObject(theirs)) {
    try_keyed(base, ours, theirs, 0, &out);
    return out;
  }
  if (cJSON_IsArray(base) && cJSON_IsArray(ours) && cJSON_IsArray(theirs)) {
    if (!try_keyed(base, ours, theirs, 1, &out)) return out;
    if (same_length(base, ours, theirs))
      return merge_elements(base, ours, theirs);
  }
  return json_copy_value(theirs);
}
