/* JSON Patch (RFC 6902): atomic in-place apply with an inverse. Checking
 * ops is in patch_validate.c, the diff in patch_diff.c. */
#include "patch.h"

#include "json.h"
#include "patch_index.h"
#include "patch_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- apply ----
 *
 * Every change to the document is one of three primitive steps, logged so
 * that a failing op can be undone exactly: a node linked into a container,
 * a node unlinked from one (with the sibling it preceded), and the root
 * swapped. Undoing the log last-first restores every pointer, so key order
 * survives a rollback without copying anything. Nodes an op throws away
 * (removed, replaced, overwritten) stay alive in the inverse entries: on
 * success they become the inverse patch's values, on failure the undo log
 * links them back.
 *
 * Lookups go through a per-patch index (patch_index.h), so a patch of n ops
 * on a list of n items is not quadratic. Limits are checked before a value
 * is copied in: the depth of every value put into the document, and, for
 * patch_apply_limited, the document's printed size (kept up to date from
 * the sizes of what each op adds and removes) and the bytes copied. */

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
  struct pindex *px;
  int track;        /* sizes are tracked (patch_apply_limited) */
  size_t size;      /* json_pretty_size of the document, while tracked */
  size_t cap;       /* the largest size allowed between ops; 0: none */
  size_t work;      /* bytes copied, or measured to move */
  size_t max_work;  /* SIZE_MAX: not yet worked out (work_limit) */
  const cJSON *ops; /* the patch, for max_work */
  size_t size0;     /* the tracked size before the first op */
  int changed;
  int hit; /* the limit that refused the patch */
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

/* index: the position in an array (SIZE_MAX: the end); unused for
 * objects. */
static int link_node(struct apply *a, cJSON *parent, cJSON *node, cJSON *next,
                     const char *key, int created, size_t index) {
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
  if (cJSON_IsArray(parent))
    pindex_inserted(a->px, parent, index, node);
  else
    pindex_linked(a->px, parent, node);
  return PATCH_OK;
}

static int unlink_node(struct apply *a, cJSON *parent, cJSON *node,
                       size_t index) {
  if (reserve_undo(a)) return PATCH_NOMEM;
  a->undo[a->nundo++] =
      (struct undo){U_UNLINKED, parent, node, node->next, NULL, 0, 0};
  list_unlink(parent, node);
  if (cJSON_IsArray(parent))
    pindex_removed(a->px, parent, index);
  else
    pindex_unlinked(a->px, parent, node);
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
  return patch__fail(PATCH_CONFLICT, a->err, a->errlen, "op %d: %s", a->index,
                     msg);
}

static char *path_with_index(const char *path, size_t index) {
  size_t head = (size_t)(strrchr(path, '/') - path);
  char *s = malloc(head + 24);
  if (s) snprintf(s, head + 24, "%.*s/%zu", (int)head, path, index);
  return s;
}

/* ---- limits ---- */

static int too_deep(struct apply *a, size_t level, int height) {
  if (level + (size_t)height <= JSON_MAX_DEPTH) return PATCH_OK;
  a->hit = PATCH_LIMIT_DEPTH;
  return patch__fail(PATCH_TOO_LARGE, a->err, a->errlen,
                     "op %d: the result would be nested deeper than %d levels",
                     a->index, JSON_MAX_DEPTH);
}

/* Sets the tracked size to size - sub + add, if that is within the cap. */
static int resize(struct apply *a, size_t add, size_t sub) {
  if (!a->track) return PATCH_OK;
  size_t s = a->size > sub ? a->size - sub : 0;
  s = s > SIZE_MAX - add ? SIZE_MAX : s + add;
  if (a->cap && s > a->cap) {
    a->hit = PATCH_LIMIT_SIZE;
    return patch__fail(
        PATCH_TOO_LARGE, a->err, a->errlen,
        "op %d: the document would grow past twice its size limit "
        "(%zu bytes)",
        a->index, a->cap / 2);
  }
  a->size = s;
  return PATCH_OK;
}

static size_t sat_add(size_t x, size_t y) {
  return x > SIZE_MAX - y ? SIZE_MAX : x + y;
}

/* The work limit needs the patch's printed size: measured at the first
 * copy or move, so a patch without them never walks itself. */
static size_t work_limit(struct apply *a) {
  if (a->max_work == SIZE_MAX) {
    size_t base = sat_add(a->size0, json_pretty_size(a->ops));
    a->max_work =
        sat_add(base > SIZE_MAX / 4 ? SIZE_MAX : 4 * base, (size_t)1 << 20);
  }
  return a->max_work;
}

static int charge(struct apply *a, size_t bytes) {
  if (!a->track) return PATCH_OK;
  a->work = a->work > SIZE_MAX - bytes ? SIZE_MAX : a->work + bytes;
  if (a->work <= work_limit(a)) return PATCH_OK;
  a->hit = PATCH_LIMIT_WORK;
  return patch__fail(PATCH_TOO_LARGE, a->err, a->errlen,
                     "op %d: the patch copies more than %zu bytes of values (4 "
                     "times the state and the patch, plus 1 MiB)",
                     a->index, a->max_work);
}

/* The printed bytes of a value at nesting level lvl. */
static size_t value_bytes(const struct json_stats *v, size_t lvl) {
  return v->size + 2 * lvl * v->lines;
}

/* The bytes a member at level lvl takes in its container: its line, its
 * key, its value, and a comma, or, when it is the only member, the
 * container's closing line. */
static size_t member_bytes(const cJSON *parent, const char *key,
                           const struct json_stats *v, size_t lvl, int only) {
  size_t n = 1 + 2 * lvl + value_bytes(v, lvl);
  if (cJSON_IsObject(parent)) n += json_string_size(key) + 2;
  return n + (only ? 1 + 2 * (lvl - 1) : 1);
}

static int measure(const cJSON *v, struct json_stats *st) {
  json_stats(v, st);
  return st->size == SIZE_MAX ? PATCH_NOMEM : PATCH_OK;
}

/* ---- locations ---- */

/* A location a value can be put at or taken from. */
struct loc {
  cJSON *parent; /* NULL for the root */
  char *key;     /* unescaped last token (owned) */
  cJSON *node;   /* what is there now, or NULL */
  size_t index;  /* arrays: the position; SIZE_MAX for "-" when unknown */
  size_t level;  /* tokens in the path: how many containers hold it */
};

static size_t path_level(const char *path) {
  size_t n = 0;
  for (; *path; path++)
    n += *path == '/';
  return n;
}

static cJSON *child(struct apply *a, cJSON *c, const char *tok) {
  if (cJSON_IsObject(c)) return pindex_member(a->px, c, tok);
  size_t i;
  cJSON *n = NULL;
  if (!cJSON_IsArray(c) || ptr_index(tok, &i) != 0 ||
      pindex_element(a->px, c, i, &n) != 0)
    return NULL;
  return n;
}

/* Finds the location path names. On failure nothing is left to free. */
static int resolve(struct apply *a, const char *path, struct loc *l) {
  memset(l, 0, sizeof *l);
  l->index = SIZE_MAX;
  if (*path == '\0') {
    l->node = *a->doc;
    return PATCH_OK;
  }
  char *tok = malloc(strlen(path) + 1);
  if (!tok) return PATCH_NOMEM;
  cJSON *node = *a->doc;
  for (const char *p = path;;) {
    p = ptr_token(p + 1, tok);
    l->level++;
    if (*p == '\0') break;
    if (!(node = child(a, node, tok))) break;
  }
  if (!cJSON_IsObject(node) && !cJSON_IsArray(node)) {
    free(tok);
    return conflict(a, "path \"%s\" not found", path, NULL);
  }
  l->parent = node;
  l->key = tok;
  if (cJSON_IsObject(node)) {
    l->node = pindex_member(a->px, node, tok);
    return PATCH_OK;
  }
  /* "-" is the end, which cJSON keeps in the first child's prev, so an
   * append needs no index unless the inverse names it. */
  if (strcmp(tok, "-") == 0) {
    if (a->want_inverse) l->index = pindex_count(a->px, node);
    return PATCH_OK;
  }
  const char *why = NULL;
  if (ptr_index(tok, &l->index) != 0)
    why = "\"%s\": not an array index";
  else if (pindex_element(a->px, node, l->index, &l->node) != 0)
    why = "\"%s\": index out of range";
  if (!why) return PATCH_OK;
  free(tok);
  l->key = NULL;
  return conflict(a, why, path, NULL);
}

/* Puts node at the resolved location l: "add" semantics (arrays insert,
 * objects set or overwrite in place, "" swaps the root). *discarded
 * receives what was overwritten; *where the concrete path (caller frees). */
static int put_at(struct apply *a, const struct loc *l, const char *path,
                  cJSON *node, int created, cJSON **discarded, char **where) {
  int rc = PATCH_OK;
  *discarded = NULL;
  *where = l->parent && cJSON_IsArray(l->parent) && a->want_inverse
               ? path_with_index(path, l->index)
               : strdup(path);
  if (!*where) rc = PATCH_NOMEM;
  if (rc == PATCH_OK && !l->parent) {
    rc = set_root(a, node, created);
    if (rc == PATCH_OK) *discarded = l->node;
  } else if (rc == PATCH_OK && cJSON_IsArray(l->parent)) {
    rc = link_node(a, l->parent, node, l->node, NULL, created, l->index);
  } else if (rc == PATCH_OK) {
    cJSON *next = l->node ? l->node->next : NULL;
    if (l->node && (rc = unlink_node(a, l->parent, l->node, 0)) == PATCH_OK)
      *discarded = l->node;
    if (rc == PATCH_OK)
      rc = link_node(a, l->parent, node, next, l->key, created, 0);
  }
  if (rc != PATCH_OK) {
    free(*where);
    *where = NULL;
    if (created) cJSON_Delete(node);
  }
  return rc;
}

/* Unlinks the existing value at l. */
static int take_at(struct apply *a, const struct loc *l, const char *path) {
  if (!l->node) return conflict(a, "path \"%s\" not found", path, NULL);
  if (!l->parent)
    return patch__fail(PATCH_CONFLICT, a->err, a->errlen,
                       "op %d: cannot remove the whole document", a->index);
  return unlink_node(a, l->parent, l->node, l->index);
}

/* The size change of putting a value with stats v at l ("add"). */
static int resize_put(struct apply *a, const struct loc *l,
                      const struct json_stats *v,
                      const struct json_stats *full) {
  if (!a->track) return PATCH_OK;
  if (!l->parent) return resize(a, full->size + 1, a->size);
  if (l->node && cJSON_IsObject(l->parent)) {
    struct json_stats old;
    int rc = measure(l->node, &old);
    return rc ? rc
              : resize(a, value_bytes(v, l->level),
                       value_bytes(&old, l->level));
  }
  return resize(
      a, member_bytes(l->parent, l->key, v, l->level, !l->parent->child), 0);
}

/* add and copy: src (a value of the patch, or of the document for copy) is
 * measured, checked and only then copied in. The inverse removes the new
 * value or restores the old. */
static int put_value(struct apply *a, const char *path, const cJSON *src,
                     int is_copy) {
  struct json_stats vs;
  struct loc l;
  cJSON *old, *node = NULL;
  char *where;
  int rc = measure(src, &vs);
  if (rc == PATCH_OK && is_copy) rc = charge(a, vs.size);
  if (rc == PATCH_OK) rc = resolve(a, path, &l);
  if (rc != PATCH_OK) return rc;
  rc = too_deep(a, l.level, vs.height);
  if (rc == PATCH_OK) rc = resize_put(a, &l, &vs, &vs);
  if (rc == PATCH_OK && !(node = json_copy_value(src))) rc = PATCH_NOMEM;
  int same = rc == PATCH_OK && l.node &&
             (!l.parent || cJSON_IsObject(l.parent)) &&
             json_identical(l.node, src);
  if (rc == PATCH_OK) rc = put_at(a, &l, path, node, 1, &old, &where);
  free(l.key);
  if (rc != PATCH_OK) return rc;
  if (!same) a->changed = 1;
  if (old) return push_inv(a, OP_REPLACE, where, NULL, old, 0);
  return push_inv(a, OP_REMOVE, where, NULL, NULL, 0);
}

static int op_remove(struct apply *a, const char *path) {
  struct loc l;
  int rc = resolve(a, path, &l);
  if (rc != PATCH_OK) return rc;
  cJSON *node = l.node;
  if (a->track && node && l.parent) {
    struct json_stats vs;
    rc = measure(node, &vs);
    if (rc == PATCH_OK)
      rc = resize(a, 0,
                  member_bytes(l.parent, l.key, &vs, l.level,
                               l.parent->child == node && !node->next));
  }
  if (rc == PATCH_OK) rc = take_at(a, &l, path);
  free(l.key);
  char *p = rc == PATCH_OK ? strdup(path) : NULL;
  if (rc == PATCH_OK && !p) rc = PATCH_NOMEM;
  if (rc != PATCH_OK) return rc;
  a->changed = 1;
  return push_inv(a, OP_ADD, p, NULL, node, 0);
}

static int op_replace(struct apply *a, const char *path, const cJSON *value) {
  struct json_stats vs, old;
  struct loc l;
  cJSON *copy = NULL, *prev = NULL;
  int rc = measure(value, &vs);
  if (rc == PATCH_OK) rc = resolve(a, path, &l);
  if (rc != PATCH_OK) return rc;
  if (!l.node) rc = conflict(a, "path \"%s\" not found", path, NULL);
  if (rc == PATCH_OK) rc = too_deep(a, l.level, vs.height);
  if (rc == PATCH_OK && a->track && !l.parent)
    rc = resize(a, vs.size + 1, a->size);
  else if (rc == PATCH_OK && a->track && (rc = measure(l.node, &old)) == 0)
    rc = resize(a, value_bytes(&vs, l.level), value_bytes(&old, l.level));
  int same = rc == PATCH_OK && json_identical(l.node, value);
  char *p = rc == PATCH_OK ? strdup(path) : NULL;
  if (rc == PATCH_OK && (!p || !(copy = json_copy_value(value))))
    rc = PATCH_NOMEM;
  if (rc == PATCH_OK && !l.parent) {
    prev = *a->doc;
    rc = set_root(a, copy, 1);
  } else if (rc == PATCH_OK) {
    prev = l.node;
    cJSON *next = l.node->next;
    rc = take_at(a, &l, path);
    if (rc == PATCH_OK)
      rc = link_node(a, l.parent, copy, next,
                     cJSON_IsObject(l.parent) ? l.key : NULL, 1, l.index);
  }
  free(l.key);
  if (rc != PATCH_OK) {
    cJSON_Delete(copy); /* never linked when anything failed */
    free(p);
    return rc;
  }
  if (!same) a->changed = 1;
  return push_inv(a, OP_REPLACE, p, NULL, prev, 0);
}

static int is_proper_prefix(const char *prefix, const char *path) {
  size_t n = strlen(prefix);
  return strncmp(prefix, path, n) == 0 && path[n] == '/';
}

/* The size and depth bookkeeping of a move: a node moved at the same level
 * keeps its printed size, so only its line, key and comma move with it;
 * one moved to another level (or to the root) is measured, and that walk
 * counts as work. Returns the stats to account the node with. */
static int move_stats(struct apply *a, const struct loc *f, const char *path,
                      struct json_stats *v, struct json_stats *full) {
  size_t to = path_level(path);
  memset(v, 0, sizeof *v);
  memset(full, 0, sizeof *full);
  if (to == f->level && *path) return PATCH_OK;
  if (!a->track && to <= f->level) return PATCH_OK;
  int rc = measure(f->node, full);
  if (rc == PATCH_OK) rc = charge(a, full->size);
  if (rc == PATCH_OK && to > f->level) rc = too_deep(a, to, full->height);
  v->lines = to == f->level ? 0 : full->lines;
  return rc;
}

/* The inverse of a move is normally a move back (plus re-adding what the
 * move overwrote). When the target was an ancestor of the source, "move
 * back" would be a move into its own child, which RFC 6902 forbids, so the
 * inverse restores the target's old value and adds a copy of the node. */
static int op_move(struct apply *a, const char *from, const char *path) {
  struct json_stats v, full;
  struct loc f, l;
  cJSON *node, *old;
  char *where;
  if (strcmp(from, path) == 0) {
    int rc = resolve(a, from, &f);
    free(f.key);
    if (rc == PATCH_OK && !f.node)
      rc = conflict(a, "from \"%s\" not found", from, NULL);
    return rc;
  }
  if (is_proper_prefix(from, path))
    return conflict(a, "cannot move \"%s\" into its own child \"%s\"", from,
                    path);
  int rc = resolve(a, from, &f);
  if (rc != PATCH_OK) return rc;
  node = f.node;
  if (!node) rc = conflict(a, "path \"%s\" not found", from, NULL);
  if (rc == PATCH_OK && f.parent) rc = move_stats(a, &f, path, &v, &full);
  if (rc == PATCH_OK && a->track && f.parent)
    rc = resize(a, 0,
                member_bytes(f.parent, f.key, &v, f.level,
                             f.parent->child == node && !node->next));
  if (rc == PATCH_OK) rc = take_at(a, &f, from);
  free(f.key);
  if (rc == PATCH_OK) rc = resolve(a, path, &l);
  if (rc != PATCH_OK) return rc;
  rc = resize_put(a, &l, &v, &full);
  if (rc == PATCH_OK) rc = put_at(a, &l, path, node, 0, &old, &where);
  free(l.key);
  if (rc != PATCH_OK) return rc;
  a->changed = 1;
  /* Entries are pushed in reverse: the inverse is built last entry first. */
  if (is_proper_prefix(where, from)) {
    cJSON *copy = a->want_inverse ? json_copy_value(node) : NULL;
    char *fr = strdup(from);
    rc = fr && (copy || !a->want_inverse) ? PATCH_OK : PATCH_NOMEM;
    if (rc == PATCH_OK)
      rc = push_inv(a, OP_ADD, fr, NULL, copy, 1);
    else
      free(fr), cJSON_Delete(copy);
    if (rc != PATCH_OK) return free(where), rc;
    return push_inv(a, old ? OP_REPLACE : OP_REMOVE, where, NULL, old, 0);
  }
  char *fr = strdup(from), *w = old ? strdup(where) : NULL;
  rc = fr && (w || !old) ? PATCH_OK : PATCH_NOMEM;
  if (rc == PATCH_OK && old)
    rc = push_inv(a, OP_ADD, w, NULL, old, 0);
  else
    free(w);
  if (rc == PATCH_OK) return push_inv(a, OP_MOVE, fr, where, NULL, 0);
  free(fr);
  free(where);
  return rc;
}

static int op_copy(struct apply *a, const char *from, const char *path) {
  struct loc f;
  int rc = resolve(a, from, &f);
  free(f.key);
  if (rc != PATCH_OK) return rc;
  if (!f.node) return conflict(a, "from \"%s\" not found", from, NULL);
  return put_value(a, path, f.node, 1);
}

static int op_test(struct apply *a, const char *path, const cJSON *value) {
  struct loc l;
  int rc = resolve(a, path, &l);
  free(l.key);
  if (rc != PATCH_OK) return rc;
  if (!l.node) return conflict(a, "path \"%s\" not found", path, NULL);
  if (!json_equal(l.node, value))
    return conflict(a, "test failed at \"%s\"", path, NULL);
  return PATCH_OK;
}

static int apply_op(struct apply *a, const cJSON *op) {
  const char *path = cJSON_GetObjectItemCaseSensitive(op, "path")->valuestring;
  const cJSON *fromj = cJSON_GetObjectItemCaseSensitive(op, "from");
  const cJSON *value = cJSON_GetObjectItemCaseSensitive(op, "value");
  const char *from = fromj ? fromj->valuestring : NULL;
  switch (
      patch__op_kind(cJSON_GetObjectItemCaseSensitive(op, "op")->valuestring)) {
  case OP_ADD: return put_value(a, path, value, 0);
  case OP_REMOVE: return op_remove(a, path);
  case OP_REPLACE: return op_replace(a, path, value);
  case OP_MOVE: return op_move(a, from, path);
  case OP_COPY: return op_copy(a, from, path);
  case OP_TEST: return op_test(a, path, value);
  }
  return PATCH_INVALID;
}

static cJSON *inv_op(const struct inv *v, char **value_key) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddStringToObject(o, "op", patch__op_names[v->op]) ||
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
  pindex_free(a->px);
}

int patch_apply_limited(cJSON **doc, const cJSON *ops, struct patch_limits *lim,
                        cJSON **inverse, char *err, size_t errlen) {
  if (lim) lim->changed = 0, lim->hit = PATCH_LIMIT_NONE;
  int rc = patch_validate(ops, err, errlen);
  if (rc != PATCH_OK) {
    if (lim && !lim->size) lim->size = json_pretty_size(*doc);
    return rc;
  }
  struct apply a = {.doc = doc,
                    .want_inverse = inverse != NULL,
                    .err = err,
                    .errlen = errlen,
                    .px = pindex_new()};
  if (lim) {
    a.track = 1;
    a.size = lim->size ? lim->size : json_pretty_size(*doc);
    a.cap = lim->max_size ? sat_add(lim->max_size, lim->max_size) : 0;
    a.ops = ops;
    a.size0 = a.size;
    a.max_work = SIZE_MAX; /* worked out when first needed */
  }
  size_t size_before = a.size;
  for (const cJSON *op = ops->child; op; op = op->next, a.index++)
    if ((rc = apply_op(&a, op)) != PATCH_OK) break;
  if (rc == PATCH_OK && lim && lim->max_size && a.size > lim->max_size) {
    a.hit = PATCH_LIMIT_SIZE;
    rc = patch__fail(
        PATCH_TOO_LARGE, err, errlen,
        "the document would be %zu bytes, over its size limit of %zu", a.size,
        lim->max_size);
  }
  if (rc == PATCH_OK && inverse) rc = build_inverse(&a, inverse);
  if (rc == PATCH_NOMEM) patch__fail(rc, err, errlen, "out of memory");
  if (rc != PATCH_OK) {
    rollback(&a);
  } else if (!inverse) {
    for (size_t i = 0; i < a.ninv; i++)
      cJSON_Delete(a.inv[i].value);
  }
  if (lim) {
    lim->size = rc == PATCH_OK ? a.size : size_before;
    lim->changed = rc == PATCH_OK && a.changed;
    lim->hit = rc == PATCH_TOO_LARGE ? a.hit : PATCH_LIMIT_NONE;
  }
  finish(&a, rc == PATCH_OK);
  return rc;
}

int patch_apply(cJSON **doc, const cJSON *ops, cJSON **inverse, char *err,
                size_t errlen) {
  return patch_apply_limited(doc, ops, NULL, inverse, err, errlen);
}
