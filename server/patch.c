/* JSON Patch (RFC 6902): validation, atomic in-place apply with an inverse,
 * and diff. */
#include "patch.h"

#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op_kind { OP_ADD, OP_REMOVE, OP_REPLACE, OP_MOVE, OP_COPY, OP_TEST };
static const char *const op_names[] = {"add",  "remove", "replace",
                                       "move", "copy",   "test"};

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

static int op_kind(const char *name) {
  for (int k = 0; k < (int)(sizeof op_names / sizeof *op_names); k++)
    if (strcmp(name, op_names[k]) == 0) return k;
  return -1;
}

static int member_count(const cJSON *obj, const char *key) {
  int n = 0;
  for (const cJSON *c = obj->child; c; c = c->next)
    if (c->string && strcmp(c->string, key) == 0) n++;
  return n;
}

/* ---- validation ---- */

static int validate_ptr(const cJSON *op, const char *member, int i, char *err,
                        size_t errlen) {
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(op, member);
  if (!p)
    return fail(PATCH_INVALID, err, errlen, "op %d: missing \"%s\"", i, member);
  if (!cJSON_IsString(p))
    return fail(PATCH_INVALID, err, errlen, "op %d: \"%s\" is not a string", i,
                member);
  if (!ptr_valid(p->valuestring))
    return fail(PATCH_INVALID, err, errlen,
                "op %d: \"%s\" is not a valid JSON Pointer: \"%s\"", i, member,
                p->valuestring);
  return PATCH_OK;
}

static int validate_op(const cJSON *op, int i, char *err, size_t errlen) {
  static const char *const members[] = {"op", "path", "from", "value"};
  if (!cJSON_IsObject(op))
    return fail(PATCH_INVALID, err, errlen, "op %d: not an object", i);
  /* RFC 6902 section 4 makes an op with a repeated member an error, and
   * which copy a parser keeps is not portable. */
  for (size_t m = 0; m < sizeof members / sizeof *members; m++)
    if (member_count(op, members[m]) > 1)
      return fail(PATCH_INVALID, err, errlen, "op %d: duplicate \"%s\" member",
                  i, members[m]);
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(op, "op");
  if (!name)
    return fail(PATCH_INVALID, err, errlen, "op %d: missing \"op\"", i);
  if (!cJSON_IsString(name))
    return fail(PATCH_INVALID, err, errlen, "op %d: \"op\" is not a string", i);
  int kind = op_kind(name->valuestring);
  if (kind < 0)
    return fail(PATCH_INVALID, err, errlen, "op %d: unknown op \"%s\"", i,
                name->valuestring);
  int rc = validate_ptr(op, "path", i, err, errlen);
  if (rc == PATCH_OK && (kind == OP_MOVE || kind == OP_COPY))
    rc = validate_ptr(op, "from", i, err, errlen);
  if (rc == PATCH_OK &&
      (kind == OP_ADD || kind == OP_REPLACE || kind == OP_TEST) &&
      !cJSON_GetObjectItemCaseSensitive(op, "value"))
    rc = fail(PATCH_INVALID, err, errlen, "op %d: %s needs a \"value\"", i,
              op_names[kind]);
  return rc;
}

int patch_validate(const cJSON *ops, char *err, size_t errlen) {
  if (!cJSON_IsArray(ops))
    return fail(PATCH_INVALID, err, errlen, "patch is not an array");
  int i = 0;
  for (const cJSON *op = ops->child; op; op = op->next, i++) {
    int rc = validate_op(op, i, err, errlen);
    if (rc != PATCH_OK) return rc;
  }
  return PATCH_OK;
}

/* ---- apply ----
 *
 * Every change to the document is one of three primitive steps, logged so
 * that a failing op can be undone exactly: a node linked into a container,
 * a node unlinked from one (with the sibling it preceded), and the root
 * swapped. Undoing the log last-first restores every pointer, so key order
 * survives a rollback without copying anything. Nodes an op throws away
 * (removed, replaced, overwritten) stay alive in the inverse entries: on
 * success they become the inverse patch's values, on failure the undo log
 * links them back. */

enum undo_kind { U_LINKED, U_UNLINKED, U_ROOT };

struct undo {
  enum undo_kind kind;
  cJSON *parent;
  cJSON *node; /* linked node, unlinked node, or new root */
  cJSON *next; /* U_UNLINKED: the sibling it preceded; U_ROOT: old root */
  char *key;   /* U_LINKED, U_ROOT: node's key before, restored on undo */
  int type;    /* and its type flags */
  int created; /* node was made by this patch: delete it on undo */
};

struct inv {
  enum op_kind op;
  char *path;
  char *from;
  cJSON *value; /* a discarded node, or a copy */
  int copied;
};

struct apply {
  cJSON **doc;
  struct undo *undo;
  size_t nundo, capundo;
  struct inv *inv;
  size_t ninv, capinv;
  int want_inverse;
  int index;
  char *err;
  size_t errlen;
};

static void list_unlink(cJSON *parent, cJSON *node) {
  if (node == parent->child)
    parent->child = node->next;
  else
    node->prev->next = node->next;
  if (node->next)
    node->next->prev = node->prev;
  else if (parent->child)
    parent->child->prev = node->prev;
  node->prev = node->next = NULL;
}

/* Links node before next, or at the end if next is NULL. cJSON keeps the
 * last child in the first child's prev. */
static void list_link(cJSON *parent, cJSON *node, cJSON *next) {
  if (!parent->child) {
    parent->child = node;
    node->prev = node;
    node->next = NULL;
  } else if (!next) {
    cJSON *last = parent->child->prev;
    last->next = node;
    node->prev = last;
    node->next = NULL;
    parent->child->prev = node;
  } else {
    node->next = next;
    node->prev = next->prev;
    if (next == parent->child)
      parent->child = node;
    else
      node->prev->next = node;
    next->prev = node;
  }
}

static int reserve_undo(struct apply *a) {
  if (a->nundo < a->capundo) return 0;
  size_t cap = a->capundo ? a->capundo * 2 : 16;
  struct undo *u = realloc(a->undo, cap * sizeof *u);
  if (!u) return PATCH_NOMEM;
  a->undo = u;
  a->capundo = cap;
  return 0;
}

/* Takes ownership of path and from; frees them on failure. */
static int push_inv(struct apply *a, enum op_kind op, char *path, char *from,
                    cJSON *value, int copied) {
  if (a->ninv == a->capinv) {
    size_t cap = a->capinv ? a->capinv * 2 : 16;
    struct inv *v = realloc(a->inv, cap * sizeof *v);
    if (!v) {
      free(path);
      free(from);
      if (copied) cJSON_Delete(value);
      return PATCH_NOMEM;
    }
    a->inv = v;
    a->capinv = cap;
  }
  a->inv[a->ninv++] = (struct inv){op, path, from, value, copied};
  return PATCH_OK;
}

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = cJSON_malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static int link_node(struct apply *a, cJSON *parent, cJSON *node, cJSON *next,
                     const char *key, int created) {
  char *k = NULL;
  if (key && !(k = dupstr(key))) return PATCH_NOMEM;
  if (reserve_undo(a)) {
    cJSON_free(k);
    return PATCH_NOMEM;
  }
  a->undo[a->nundo++] = (struct undo){U_LINKED,     parent,     node,   NULL,
                                      node->string, node->type, created};
  node->string = k;
  node->type &= ~cJSON_StringIsConst;
  list_link(parent, node, next);
  return PATCH_OK;
}

static int unlink_node(struct apply *a, cJSON *parent, cJSON *node) {
  if (reserve_undo(a)) return PATCH_NOMEM;
  a->undo[a->nundo++] =
      (struct undo){U_UNLINKED, parent, node, node->next, NULL, 0, 0};
  list_unlink(parent, node);
  return PATCH_OK;
}

static int set_root(struct apply *a, cJSON *node, int created) {
  if (reserve_undo(a)) return PATCH_NOMEM;
  a->undo[a->nundo++] = (struct undo){U_ROOT,       NULL,       node,   *a->doc,
                                      node->string, node->type, created};
  node->string = NULL;
  node->type &= ~cJSON_StringIsConst;
  *a->doc = node;
  return PATCH_OK;
}

static void restore_key(struct undo *u) {
  if (!(u->node->type & cJSON_StringIsConst)) cJSON_free(u->node->string);
  u->node->string = u->key;
  u->node->type = u->type;
}

static void rollback(struct apply *a) {
  while (a->nundo) {
    struct undo *u = &a->undo[--a->nundo];
    if (u->kind == U_UNLINKED) {
      list_link(u->parent, u->node, u->next);
      continue;
    }
    if (u->kind == U_LINKED)
      list_unlink(u->parent, u->node);
    else
      *a->doc = u->next;
    restore_key(u);
    if (u->created) cJSON_Delete(u->node);
  }
  for (size_t i = 0; i < a->ninv; i++)
    if (a->inv[i].copied) cJSON_Delete(a->inv[i].value);
}

static int conflict(struct apply *a, const char *fmt, const char *p1,
                    const char *p2) {
  char msg[200];
  snprintf(msg, sizeof msg, fmt, p1, p2);
  return fail(PATCH_CONFLICT, a->err, a->errlen, "op %d: %s", a->index, msg);
}

static char *path_with_index(const char *path, size_t index) {
  size_t head = (size_t)(strrchr(path, '/') - path);
  char *s = malloc(head + 24);
  if (s) snprintf(s, head + 24, "%.*s/%zu", (int)head, path, index);
  return s;
}

/* A location a value can be put at or taken from. */
struct loc {
  cJSON *parent; /* NULL for the root */
  char *key;     /* unescaped last token, for objects */
  cJSON *node;   /* what is there now, or NULL */
  size_t index;  /* for arrays (for "-" only when the inverse needs it) */
};

static int resolve(struct apply *a, const char *path, struct loc *l) {
  memset(l, 0, sizeof *l);
  if (*path == '\0') {
    l->node = *a->doc;
    return PATCH_OK;
  }
  int rc = ptr_parent(*a->doc, path, &l->parent, &l->key);
  if (rc == PATCH_CONFLICT)
    return conflict(a, "path \"%s\" not found", path, NULL);
  if (rc != PATCH_OK) return rc;
  if (cJSON_IsObject(l->parent)) {
    l->node = cJSON_GetObjectItemCaseSensitive(l->parent, l->key);
    return PATCH_OK;
  }
  /* cJSON arrays are linked lists: walk once, and no further than needed.
   * "-" is the end, which cJSON keeps in the first child's prev, so an
   * append costs nothing unless the inverse needs its concrete index. */
  if (strcmp(l->key, "-") == 0) {
    l->node = NULL;
    if (!a->want_inverse) return PATCH_OK;
    for (cJSON *c = l->parent->child; c; c = c->next)
      l->index++;
    return PATCH_OK;
  }
  if (ptr_index(l->key, &l->index) != 0)
    return conflict(a, "\"%s\": not an array index", path, NULL);
  l->node = l->parent->child;
  size_t i = 0;
  for (; l->node && i < l->index; i++)
    l->node = l->node->next;
  if (i < l->index)
    return conflict(a, "\"%s\": index out of range", path, NULL);
  return PATCH_OK;
}

/* Puts node at path: "add" semantics (arrays insert, objects set or
 * overwrite in place, "" swaps the root). *discarded receives what was
 * overwritten; *where the concrete path (caller frees). */
static int put(struct apply *a, const char *path, cJSON *node, int created,
               cJSON **discarded, char **where) {
  struct loc l;
  *discarded = NULL;
  *where = NULL;
  int rc = resolve(a, path, &l);
  if (rc == PATCH_OK && l.parent && cJSON_IsArray(l.parent) && a->want_inverse)
    *where = path_with_index(path, l.index);
  else if (rc == PATCH_OK)
    *where = strdup(path);
  if (rc == PATCH_OK && !*where) rc = PATCH_NOMEM;
  if (rc == PATCH_OK && !l.parent) {
    rc = set_root(a, node, created);
    if (rc == PATCH_OK) *discarded = l.node;
  } else if (rc == PATCH_OK && cJSON_IsArray(l.parent)) {
    rc = link_node(a, l.parent, node, l.node, NULL, created);
  } else if (rc == PATCH_OK) {
    cJSON *next = l.node ? l.node->next : NULL;
    if (l.node && (rc = unlink_node(a, l.parent, l.node)) == PATCH_OK)
      *discarded = l.node;
    if (rc == PATCH_OK) rc = link_node(a, l.parent, node, next, l.key, created);
  }
  free(l.key);
  if (rc != PATCH_OK) {
    free(*where);
    *where = NULL;
    if (created) cJSON_Delete(node);
  }
  return rc;
}

/* Finds an existing value and unlinks it. */
static int take(struct apply *a, const char *path, cJSON **node, cJSON **next,
                cJSON **parent, char **key) {
  struct loc l;
  int rc = resolve(a, path, &l);
  if (rc == PATCH_OK && !l.node)
    rc = conflict(a, "path \"%s\" not found", path, NULL);
  if (rc == PATCH_OK && !l.parent)
    rc = fail(PATCH_CONFLICT, a->err, a->errlen,
              "op %d: cannot remove the whole document", a->index);
  if (rc == PATCH_OK) {
    *node = l.node;
    *next = l.node->next;
    *parent = l.parent;
    rc = unlink_node(a, l.parent, l.node);
  }
  if (rc == PATCH_OK && key)
    *key = l.key;
  else
    free(l.key);
  return rc;
}

/* add and copy: the inverse removes the new value or restores the old. */
static int op_add(struct apply *a, const char *path, cJSON *value) {
  cJSON *old;
  char *where;
  if (!value) return PATCH_NOMEM;
  int rc = put(a, path, value, 1, &old, &where);
  if (rc != PATCH_OK) return rc;
  if (old) return push_inv(a, OP_REPLACE, where, NULL, old, 0);
  return push_inv(a, OP_REMOVE, where, NULL, NULL, 0);
}

static int op_remove(struct apply *a, const char *path) {
  cJSON *node, *next, *parent;
  int rc = take(a, path, &node, &next, &parent, NULL);
  char *p = rc == PATCH_OK ? strdup(path) : NULL;
  if (rc == PATCH_OK && !p) rc = PATCH_NOMEM;
  return rc == PATCH_OK ? push_inv(a, OP_ADD, p, NULL, node, 0) : rc;
}

static int op_replace(struct apply *a, const char *path, cJSON *value) {
  cJSON *old = NULL, *next, *parent;
  char *key = NULL, *p = strdup(path);
  int rc = value && p ? PATCH_OK : PATCH_NOMEM;
  if (rc == PATCH_OK && *path == '\0') {
    old = *a->doc;
    rc = set_root(a, value, 1);
  } else if (rc == PATCH_OK) {
    rc = take(a, path, &old, &next, &parent, &key);
    if (rc == PATCH_OK)
      rc = link_node(a, parent, value, next,
                     cJSON_IsObject(parent) ? key : NULL, 1);
  }
  free(key);
  if (rc == PATCH_OK) return push_inv(a, OP_REPLACE, p, NULL, old, 0);
  cJSON_Delete(value); /* never linked when anything failed */
  free(p);
  return rc;
}

static int is_proper_prefix(const char *prefix, const char *path) {
  size_t n = strlen(prefix);
  return strncmp(prefix, path, n) == 0 && path[n] == '/';
}

/* The inverse of a move is normally a move back (plus re-adding what the
 * move overwrote). When the target was an ancestor of the source, "move
 * back" would be a move into its own child, which RFC 6902 forbids, so the
 * inverse restores the target's old value and adds a copy of the node. */
static int op_move(struct apply *a, const char *from, const char *path) {
  cJSON *node, *next, *parent, *old;
  char *where;
  if (strcmp(from, path) == 0)
    return ptr_get(*a->doc, from)
               ? PATCH_OK
               : conflict(a, "from \"%s\" not found", from, NULL);
  if (is_proper_prefix(from, path))
    return conflict(a, "cannot move \"%s\" into its own child \"%s\"", from,
                    path);
  int rc = take(a, from, &node, &next, &parent, NULL);
  if (rc == PATCH_OK) rc = put(a, path, node, 0, &old, &where);
  if (rc != PATCH_OK) return rc;
  /* Entries are pushed in reverse: the inverse is built last entry first. */
  if (is_proper_prefix(where, from)) {
    cJSON *copy = a->want_inverse ? json_copy_value(node) : NULL;
    char *f = strdup(from);
    rc = f && (copy || !a->want_inverse) ? PATCH_OK : PATCH_NOMEM;
    if (rc == PATCH_OK)
      rc = push_inv(a, OP_ADD, f, NULL, copy, 1);
    else
      free(f), cJSON_Delete(copy);
    if (rc != PATCH_OK) return free(where), rc;
    return push_inv(a, old ? OP_REPLACE : OP_REMOVE, where, NULL, old, 0);
  }
  char *f = strdup(from), *w = old ? strdup(where) : NULL;
  rc = f && (w || !old) ? PATCH_OK : PATCH_NOMEM;
  if (rc == PATCH_OK && old)
    rc = push_inv(a, OP_ADD, w, NULL, old, 0);
  else
    free(w);
  if (rc == PATCH_OK) return push_inv(a, OP_MOVE, f, where, NULL, 0);
  free(f);
  free(where);
  return rc;
}

static int op_test(struct apply *a, const char *path, const cJSON *value) {
  cJSON *node = ptr_get(*a->doc, path);
  if (!node) return conflict(a, "path \"%s\" not found", path, NULL);
  if (!json_equal(node, value))
    return conflict(a, "test failed at \"%s\"", path, NULL);
  return PATCH_OK;
}

static int apply_op(struct apply *a, const cJSON *op) {
  const char *path = cJSON_GetObjectItemCaseSensitive(op, "path")->valuestring;
  const cJSON *fromj = cJSON_GetObjectItemCaseSensitive(op, "from");
  const cJSON *value = cJSON_GetObjectItemCaseSensitive(op, "value");
  const char *from = fromj ? fromj->valuestring : NULL;
  cJSON *src;
  switch (op_kind(cJSON_GetObjectItemCaseSensitive(op, "op")->valuestring)) {
  case OP_ADD: return op_add(a, path, json_copy_value(value));
  case OP_REMOVE: return op_remove(a, path);
  case OP_REPLACE: return op_replace(a, path, json_copy_value(value));
  case OP_MOVE: return op_move(a, from, path);
  case OP_COPY:
    src = ptr_get(*a->doc, from);
    return src ? op_add(a, path, json_copy_value(src))
               : conflict(a, "from \"%s\" not found", from, NULL);
  case OP_TEST: return op_test(a, path, value);
  }
  return PATCH_INVALID;
}

static cJSON *inv_op(const struct inv *v, char **value_key) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddStringToObject(o, "op", op_names[v->op]) ||
      !cJSON_AddStringToObject(o, "path", v->path) ||
      (v->from && !cJSON_AddStringToObject(o, "from", v->from)) ||
      (v->value && !(*value_key = dupstr("value")))) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* Builds the inverse in two steps: everything that can fail first, then
 * linking the discarded nodes in, which cannot, so a failure leaves them
 * where rollback expects them. Entries are read last first. */
static int build_inverse(struct apply *a, cJSON **out) {
  cJSON *arr = cJSON_CreateArray();
  char **keys = calloc(a->ninv + 1, sizeof *keys);
  int ok = arr && keys;
  for (size_t i = a->ninv; ok && i-- > 0;) {
    cJSON *o = inv_op(&a->inv[i], &keys[i]);
    if (o) list_link(arr, o, NULL);
    ok = o != NULL;
  }
  if (!ok) {
    for (size_t i = 0; keys && i < a->ninv; i++)
      cJSON_free(keys[i]);
    free(keys);
    cJSON_Delete(arr);
    return PATCH_NOMEM;
  }
  cJSON *o = arr->child;
  for (size_t i = a->ninv; i-- > 0; o = o->next) {
    cJSON *v = a->inv[i].value;
    if (!v) continue;
    if (!(v->type & cJSON_StringIsConst)) cJSON_free(v->string);
    v->string = keys[i];
    v->type &= ~cJSON_StringIsConst;
    list_link(o, v, NULL);
  }
  free(keys);
  *out = arr;
  return PATCH_OK;
}

static void finish(struct apply *a, int ok) {
  for (size_t i = 0; ok && i < a->nundo; i++)
    if (a->undo[i].kind != U_UNLINKED &&
        !(a->undo[i].type & cJSON_StringIsConst))
      cJSON_free(a->undo[i].key);
  for (size_t i = 0; i < a->ninv; i++) {
    free(a->inv[i].path);
    free(a->inv[i].from);
  }
  free(a->undo);
  free(a->inv);
}

int patch_apply(cJSON **doc, const cJSON *ops, cJSON **inverse, char *err,
                size_t errlen) {
  int rc = patch_validate(ops, err, errlen);
  if (rc != PATCH_OK) return rc;
  struct apply a = {.doc = doc,
                    .want_inverse = inverse != NULL,
                    .err = err,
                    .errlen = errlen};
  for (const cJSON *op = ops->child; op; op = op->next, a.index++)
    if ((rc = apply_op(&a, op)) != PATCH_OK) break;
  if (rc == PATCH_OK && inverse) rc = build_inverse(&a, inverse);
  if (rc == PATCH_NOMEM) fail(rc, err, errlen, "out of memory");
  if (rc != PATCH_OK) {
    rollback(&a);
  } else if (!inverse) {
    for (size_t i = 0; i < a.ninv; i++)
      cJSON_Delete(a.inv[i].value);
  }
  finish(&a, rc == PATCH_OK);
  return rc;
}

/* ---- diff ---- */

struct differ {
  cJSON *ops;
  struct ptr_buf path;
  int nomem;
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

/* Finds key among obj's members, starting at *cursor and wrapping around.
 * Two versions of one object usually list their keys in the same order, so
 * the search is usually a single step and a diff stays linear. */
static const cJSON *find_key(const cJSON *obj, const char *key,
                             const cJSON **cursor) {
  const cJSON *start = *cursor ? *cursor : obj->child, *c = start;
  if (!c) return NULL;
  do {
    if (c->string && strcmp(c->string, key) == 0) {
      *cursor = c->next;
      return c;
    }
    c = c->next ? c->next : obj->child;
  } while (c != start);
  return NULL;
}

static void diff_value(struct differ *d, const cJSON *a, const cJSON *b);

static void diff_object(struct differ *d, const cJSON *a, const cJSON *b) {
  size_t mark = d->path.len;
  const cJSON *cursor = NULL;
  for (const cJSON *x = a->child; x && !d->nomem; x = x->next) {
    const cJSON *y = find_key(b, x->string, &cursor);
    if (ptr_push(&d->path, x->string))
      d->nomem = 1;
    else if (!y)
      emit(d, "remove", NULL);
    else
      diff_value(d, x, y);
    ptr_truncate(&d->path, mark);
  }
  cursor = NULL;
  for (const cJSON *y = b->child; y && !d->nomem; y = y->next) {
    if (find_key(a, y->string, &cursor)) continue;
    if (ptr_push(&d->path, y->string))
      d->nomem = 1;
    else
      emit(d, "add", y);
    ptr_truncate(&d->path, mark);
  }
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
static void diff_array(struct differ *d, const cJSON *a, const cJSON *b) {
  size_t na = count(a), nb = count(b), pre = 0, suf = 0, mark = d->path.len;
  const cJSON *x = a->child, *y = b->child;
  while (x && y && json_equal(x, y))
    x = x->next, y = y->next, pre++;
  const cJSON *xe = a->child ? a->child->prev : NULL;
  const cJSON *ye = b->child ? b->child->prev : NULL;
  while (pre + suf < na && pre + suf < nb && json_equal(xe, ye))
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
  struct differ d = {cJSON_CreateArray(), {NULL, 0, 0}, 0};
  if (!d.ops) return NULL;
  diff_value(&d, a, b);
  free(d.path.s);
  if (!d.nomem) return d.ops;
  cJSON_Delete(d.ops);
  return NULL;
}
