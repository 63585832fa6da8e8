/* Walks over JSON trees: copy, equality, sizes and a key index. */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

cJSON *json_copy_value(const cJSON *v) {
  cJSON *d = cJSON_Duplicate(v, 1);
  if (d && d->string) {
    if (!(d->type & cJSON_StringIsConst)) cJSON_free(d->string);
    d->string = NULL;
    d->type &= ~cJSON_StringIsConst;
  }
  return d;
}

/* ---- Sizes -------------------------------------------------------------- */

/* What malloc hands out for n bytes, roughly: glibc's chunk header and its
 * 16-byte rounding. */
static size_t heap_bytes(size_t n) {
  return (n + 8 + 15) & ~(size_t)15;
}

static size_t scalar_size(const cJSON *v) {
  char num[32];
  switch (v->type & 0xFF) {
  case cJSON_False: return 5;
  case cJSON_True: return 4;
  case cJSON_Number: return (size_t)json_format_number(v->valuedouble, num);
  case cJSON_String: return json_string_size(v->valuestring);
  case cJSON_Raw: return v->valuestring ? strlen(v->valuestring) : 4;
  default: return 4;
  }
}

static int is_container(const cJSON *v) {
  int t = v->type & 0xFF;
  return t == cJSON_Array || t == cJSON_Object;
}

/* The walk keeps the chain of open containers on a stack: on the C stack for
 * every tree the server builds (JSON_MAX_DEPTH and a few wrapping levels),
 * on the heap beyond. */
void json_stats(const cJSON *v, struct json_stats *st) {
  memset(st, 0, sizeof *st);
  if (!v) {
    st->size = 4;
    st->nodes = 1;
    return;
  }
  const cJSON *local[JSON_MAX_DEPTH + 16], **stack = local;
  size_t cap = sizeof local / sizeof *local, r = 0;
  const cJSON *node = v;
  for (;;) {
    st->nodes++;
    st->mem += heap_bytes(sizeof(cJSON));
    if (node->string && !(node->type & cJSON_StringIsConst))
      st->mem += heap_bytes(strlen(node->string) + 1);
    if (node->valuestring && !(node->type & cJSON_IsReference))
      st->mem += heap_bytes(strlen(node->valuestring) + 1);
    if (r > 0) {
      /* A member: its own line, its key, a comma after the first. */
      const cJSON *parent = stack[r - 1];
      st->size += 1 + 2 * r;
      st->lines++;
      if ((parent->type & 0xFF) == cJSON_Object)
        st->size += json_string_size(node->string) + 2;
      if (node != parent->child) st->size++;
    }
    if (is_container(node)) {
      if ((int)r + 1 > st->height) st->height = (int)r + 1;
      if (node->child) {
        if (r == cap) {
          size_t ncap = cap * 2;
          const cJSON **s = malloc(ncap * sizeof *s);
          /* Only a tree far deeper than any the server builds gets here;
           * without memory its size is reported as unknown (SIZE_MAX). */
          if (!s) {
            if (stack != local) free(stack);
            st->size = st->mem = SIZE_MAX;
            return;
          }
          memcpy(s, stack, cap * sizeof *s);
          if (stack != local) free(stack);
          stack = s;
          cap = ncap;
        }
        st->size++; /* the opening bracket */
        stack[r++] = node;
        node = node->child;
        continue;
      }
      st->size += 2; /* [] or {} */
    } else {
      st->size += scalar_size(node);
    }
    while (r > 0 && !node->next) {
      node = stack[--r];
      st->size += 1 + 2 * r + 1; /* the closing line and bracket */
      st->lines++;
    }
    if (r == 0) break;
    node = node->next;
  }
  if (stack != local) free(stack);
}

size_t json_pretty_size(const cJSON *v) {
  struct json_stats st;
  json_stats(v, &st);
  return st.size == SIZE_MAX ? SIZE_MAX : st.size + 1;
}

/* ---- Key index ---------------------------------------------------------- */

static size_t key_hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    h = (h ^ *p) * 1099511628211ULL;
  return (size_t)(h ^ (h >> 29));
}

int json_keys_build(struct json_keys *ix, const cJSON *obj) {
  size_t n = 0, cap = 8;
  for (const cJSON *c = obj->child; c; c = c->next)
    n++;
  while (cap < 2 * n)
    cap *= 2;
  ix->slots = calloc(cap, sizeof *ix->slots);
  ix->mask = ix->slots ? cap - 1 : 0;
  if (!ix->slots) return -1;
  for (const cJSON *c = obj->child; c; c = c->next) {
    const char *k = c->string ? c->string : "";
    size_t i = key_hash(k) & ix->mask;
    while (ix->slots[i] && strcmp(ix->slots[i]->string, k) != 0)
      i = (i + 1) & ix->mask;
    if (!ix->slots[i]) ix->slots[i] = c;
  }
  return 0;
}

const cJSON *json_keys_find(const struct json_keys *ix, const char *key) {
  if (!ix->slots) return NULL;
  size_t i = key_hash(key) & ix->mask;
  while (ix->slots[i]) {
    if (strcmp(ix->slots[i]->string ? ix->slots[i]->string : "", key) == 0)
      return ix->slots[i];
    i = (i + 1) & ix->mask;
  }
  return NULL;
}

void json_keys_free(struct json_keys *ix) {
  free(ix->slots);
  ix->slots = NULL;
  ix->mask = 0;
}

/* ---- Equality ----------------------------------------------------------- */

static int equal(const cJSON *a, const cJSON *b, size_t *budget);

static int same_key(const cJSON *x, const cJSON *y) {
  return x->string && y->string && strcmp(x->string, y->string) == 0;
}

/* Charges n visits to the budget; 0 when it is spent. */
static int charge(size_t *budget, size_t n) {
  if (!budget) return 1;
  if (*budget < n) {
    *budget = 0;
    return 0;
  }
  *budget -= n;
  return 1;
}

/* Objects usually list their keys in the same order: walk both together,
 * and only where the orders part look the rest up, through a hash index
 * when there are many, so the cost stays linear in the smaller object. */
static int equal_objects(const cJSON *a, const cJSON *b, size_t *budget) {
  const cJSON *x = a->child, *y = b->child;
  for (; x && y && same_key(x, y); x = x->next, y = y->next) {
    int r = equal(x, y, budget);
    if (r != 1) return r;
  }
  if (!x && !y) return 1;
  size_t n = 0;
  const cJSON *p = x, *q = y;
  for (; p && q; p = p->next, q = q->next)
    n++;
  if (p || q) return 0; /* different member counts */
  if (!charge(budget, n)) return -1;
  struct json_keys ix = {NULL, 0};
  int indexed = n > 8 && json_keys_build(&ix, b) == 0;
  int r = 1;
  for (; x && r == 1; x = x->next) {
    const cJSON *m = indexed ? json_keys_find(&ix, x->string)
                             : cJSON_GetObjectItemCaseSensitive(b, x->string);
    r = m ? equal(x, m, budget) : 0;
  }
  json_keys_free(&ix);
  return r;
}

static int equal(const cJSON *a, const cJSON *b, size_t *budget) {
  if (!charge(budget, 1)) return -1;
  if (a == b) return 1;
  if (!a || !b) return 0;
  int ta = a->type & 0xFF, tb = b->type & 0xFF;
  if (ta != tb) return 0;
  switch (ta) {
  case cJSON_False:
  case cJSON_True:
  case cJSON_NULL: return 1;
  case cJSON_Number: return a->valuedouble == b->valuedouble;
  case cJSON_String:
    return strcmp(a->valuestring ? a->valuestring : "",
                  b->valuestring ? b->valuestring : "") == 0;
  case cJSON_Array: {
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next) {
      int r = equal(x, y, budget);
      if (r != 1) return r;
    }
    return !x && !y;
  }
  case cJSON_Object: return equal_objects(a, b, budget);
  default: return 0;
  }
}

int json_equal(const cJSON *a, const cJSON *b) {
  return equal(a, b, NULL) == 1;
}

int json_equal_within(const cJSON *a, const cJSON *b, size_t *budget) {
  return equal(a, b, budget);
}

/* Recursion here follows the depth of the values, which the server holds
 * to JSON_MAX_DEPTH. */
int json_identical(const cJSON *a, const cJSON *b) {
  if (a == b) return 1;
  if (!a || !b) return 0;
  int t = a->type & 0xFF;
  if (t != (b->type & 0xFF)) return 0;
  if (t != cJSON_Array && t != cJSON_Object) return equal(a, b, NULL) == 1;
  const cJSON *x = a->child, *y = b->child;
  for (; x && y; x = x->next, y = y->next)
    if ((t == cJSON_Object && !same_key(x, y)) || !json_identical(x, y))
      return 0;
  return !x && !y;
}
