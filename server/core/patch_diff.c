/* JSON Patch (RFC 6902): the diff of two values. */
#include "patch.h"

#include "json.h"

#include <stdlib.h>
#include <string.h>

/* The diff walks both values once, element by element, so it is linear in
 * their size with two exceptions it guards against: objects whose keys come
 * in another order (looked up through a hash index), and the equality
 * checks that trim a common prefix and suffix off an array, which may walk
 * the same subtree again at every level of a deep nest. Those checks share
 * a budget of twice the nodes of both values; once it is spent, arrays are
 * diffed position by position, which is still a correct patch, only a
 * larger one. */

struct differ {
  cJSON *ops;
  struct ptr_buf path;
  int nomem;
  const cJSON *a, *b;
  int budget_set;
  size_t budget; /* visits left for trimming compares */
};

static void emit(struct differ *d, const char *op, const cJSON *value) {
  if (d->nomem) return;
  cJSON *o = cJSON_CreateObject();
  cJSON *v = value ? json_copy_value(value) : NULL;
  if (o && (!value || v) && cJSON_AddStringToObject(o, "op", op) &&
      cJSON_AddStringToObject(o, "path", d->path.s ? d->path.s : "") &&
      (!v || cJSON_AddItemToObject(o, "value", v))) {
    cJSON_AddItemToArray(d->ops, o);
    return;
  }
  if (v && !v->string) cJSON_Delete(v);
  cJSON_Delete(o);
  d->nomem = 1;
}

/* Looks keys up in one object. Two versions of an object usually list
 * their keys in the same order, so the member after the last one found is
 * tried first and the search is usually a single step; after a miss, a
 * small object is searched through and a large one indexed. */
struct finder {
  const cJSON *obj, *cursor;
  struct json_keys ix;
  int mode; /* 0: cursor; 1: small, search; 2: indexed */
};

static const cJSON *find_key(struct finder *f, const char *key) {
  if (f->mode == 2) return json_keys_find(&f->ix, key);
  const cJSON *c = f->cursor ? f->cursor : f->obj->child;
  if (c && c->string && strcmp(c->string, key) == 0) {
    f->cursor = c->next;
    return c;
  }
  if (f->mode == 0) {
    int n = 0;
    for (const cJSON *x = f->obj->child; x && n <= 8; x = x->next)
      n++;
    f->mode = n > 8 && json_keys_build(&f->ix, f->obj) == 0 ? 2 : 1;
    if (f->mode == 2) return json_keys_find(&f->ix, key);
  }
  /* Small (or no memory for an index): look everywhere. */
  for (c = f->obj->child; c; c = c->next)
    if (c->string && strcmp(c->string, key) == 0) {
      f->cursor = c->next;
      return c;
    }
  return NULL;
}

static void diff_value(struct differ *d, const cJSON *a, const cJSON *b);

static void diff_object(struct differ *d, const cJSON *a, const cJSON *b) {
  size_t mark = d->path.len;
  struct finder fb = {b, NULL, {NULL, 0}, 0}, fa = {a, NULL, {NULL, 0}, 0};
  for (const cJSON *x = a->child; x && !d->nomem; x = x->next) {
    const cJSON *y = find_key(&fb, x->string);
    if (ptr_push(&d->path, x->string))
      d->nomem = 1;
    else if (!y)
      emit(d, "remove", NULL);
    else
      diff_value(d, x, y);
    ptr_truncate(&d->path, mark);
  }
  for (const cJSON *y = b->child; y && !d->nomem; y = y->next) {
    if (find_key(&fa, y->string)) continue;
    if (ptr_push(&d->path, y->string))
      d->nomem = 1;
    else
      emit(d, "add", y);
    ptr_truncate(&d->path, mark);
  }
  json_keys_free(&fa.ix);
  json_keys_free(&fb.ix);
}

static size_t count(const cJSON *arr) {
  size_t n = 0;
  for (const cJSON *c = arr->child; c; c = c->next)
    n++;
  return n;
}

/* Trims the common prefix and suffix, diffs the overlap element by element
 * (so a field changed inside one item is one small op), then adds or
 * removes the rest; removals go from the highest index down so that each
 * index is still valid when its op applies. */
static size_t count_nodes(const cJSON *v) {
  size_t n = 1;
  for (const cJSON *c = v->child; c; c = c->next)
    n += c->child ? count_nodes(c) : 1;
  return n;
}

static int trim_equal(struct differ *d, const cJSON *x, const cJSON *y) {
  if (!d->budget_set) {
    d->budget = 2 * (count_nodes(d->a) + count_nodes(d->b)) + 1024;
    d->budget_set = 1;
  }
  return json_equal_within(x, y, &d->budget) == 1;
}

static void diff_array(struct differ *d, const cJSON *a, const cJSON *b) {
  size_t na = count(a), nb = count(b), pre = 0, suf = 0, mark = d->path.len;
  const cJSON *x = a->child, *y = b->child;
  while (x && y && trim_equal(d, x, y))
    x = x->next, y = y->next, pre++;
  const cJSON *xe = a->child ? a->child->prev : NULL;
  const cJSON *ye = b->child ? b->child->prev : NULL;
  while (pre + suf < na && pre + suf < nb && trim_equal(d, xe, ye))
    xe = xe->prev, ye = ye->prev, suf++;
  size_t ma = na - pre - suf, mb = nb - pre - suf, m = ma < mb ? ma : mb;
  for (size_t k = 0; k < m && !d->nomem; k++, x = x->next, y = y->next) {
    if (ptr_push_index(&d->path, pre + k))
      d->nomem = 1;
    else
      diff_value(d, x, y);
    ptr_truncate(&d->path, mark);
  }
  for (size_t k = m; k < mb && !d->nomem; k++, y = y->next) {
    if (ptr_push_index(&d->path, pre + k))
      d->nomem = 1;
    else
      emit(d, "add", y);
    ptr_truncate(&d->path, mark);
  }
  for (size_t k = ma; k > m && !d->nomem; k--) {
    if (ptr_push_index(&d->path, pre + k - 1))
      d->nomem = 1;
    else
      emit(d, "remove", NULL);
    ptr_truncate(&d->path, mark);
  }
}

static void diff_value(struct differ *d, const cJSON *a, const cJSON *b) {
  int ta = a->type & 0xFF, tb = b->type & 0xFF;
  if (ta != tb)
    emit(d, "replace", b);
  else if (ta == cJSON_Object)
    diff_object(d, a, b);
  else if (ta == cJSON_Array)
    diff_array(d, a, b);
  else if (!json_equal(a, b))
    emit(d, "replace", b);
}

cJSON *patch_diff(const cJSON *a, const cJSON *b) {
  return patch_diff_at(a, b, "");
}

cJSON *patch_diff_at(const cJSON *a, const cJSON *b, const char *prefix) {
  struct differ d = {cJSON_CreateArray(), {NULL, 0, 0}, 0, a, b, 0, 0};
  if (!d.ops) return NULL;
  size_t n = strlen(prefix);
  if (n) {
    d.path.cap = n + 64;
    if (!(d.path.s = malloc(d.path.cap))) {
      cJSON_Delete(d.ops);
      return NULL;
    }
    memcpy(d.path.s, prefix, n + 1);
    d.path.len = n;
  }
  diff_value(&d, a, b);
  free(d.path.s);
  if (!d.nomem) return d.ops;
  cJSON_Delete(d.ops);
  return NULL;
}
