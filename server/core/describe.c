/* Short descriptions of a change: labels that name array items by id, and
 * values cut to a few dozen bytes. */
#include "describe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "pointer.h"

#define ARROW "\xe2\x86\x92"    /* → */
#define ELLIPSIS "\xe2\x80\xa6" /* … */

/* A patch of more ops than this is described without old values or the
 * index shifts of later ops: a patch that long is read as a summary. */
#define DESCRIBE_MAP_MAX 10000
/* The later ops whose index shifts are followed (each is split into its
 * tokens once): a described op's item is named right unless more than
 * this many ops of the same patch come after it. */
#define DESCRIBE_SHIFT_MAX 256

/* --- bounded text --------------------------------------------------------- */

struct out {
  char *buf;
  size_t len, max; /* max: bytes of text, not counting the "…" */
  int full;
};

/* Appends n bytes of s, or as many as fit without splitting a UTF-8
 * sequence; once something did not fit, nothing more is appended. */
static void put(struct out *o, const char *s, size_t n) {
  if (o->full) return;
  if (o->len + n > o->max) {
    size_t fit = o->max - o->len;
    while (fit > 0 && ((unsigned char)s[fit] & 0xC0) == 0x80)
      fit--;
    memcpy(o->buf + o->len, s, fit);
    o->len += fit;
    o->full = 1;
    return;
  }
  memcpy(o->buf + o->len, s, n);
  o->len += n;
}

static void puts_(struct out *o, const char *s) {
  put(o, s, strlen(s));
}

static void put_string(struct out *o, const char *s) {
  put(o, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p && !o->full;) {
    const unsigned char *run = p;
    while (*p && *p >= 0x20 && *p != '"' && *p != '\\')
      p++;
    if (p > run) put(o, (const char *)run, (size_t)(p - run));
    if (!*p || o->full) break;
    char esc[8];
    switch (*p) {
    case '"': strcpy(esc, "\\\""); break;
    case '\\': strcpy(esc, "\\\\"); break;
    case '\n': strcpy(esc, "\\n"); break;
    case '\t': strcpy(esc, "\\t"); break;
    case '\r': strcpy(esc, "\\r"); break;
    default: snprintf(esc, sizeof esc, "\\u%04x", *p);
    }
    puts_(o, esc);
    p++;
  }
  put(o, "\"", 1);
}

/* Each level writes at least one byte before it recurses, so the depth is
 * bounded by o->max. */
static void put_value(struct out *o, const cJSON *v) {
  if (o->full) return;
  char num[32];
  if (!v || cJSON_IsNull(v)) {
    puts_(o, "null");
  } else if (cJSON_IsTrue(v)) {
    puts_(o, "true");
  } else if (cJSON_IsFalse(v)) {
    puts_(o, "false");
  } else if (cJSON_IsNumber(v)) {
    put(o, num, (size_t)json_format_number(v->valuedouble, num));
  } else if (cJSON_IsString(v)) {
    put_string(o, v->valuestring);
  } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
    int obj = cJSON_IsObject(v);
    put(o, obj ? "{" : "[", 1);
    for (const cJSON *c = v->child; c && !o->full; c = c->next) {
      if (c != v->child) put(o, ",", 1);
      if (obj) {
        put_string(o, c->string ? c->string : "");
        put(o, ":", 1);
      }
      put_value(o, c);
    }
    put(o, obj ? "}" : "]", 1);
  }
}

/* Ends o's text with "…" if it was cut. buf holds max + 8 bytes. */
static void finish(struct out *o) {
  if (o->full) {
    memcpy(o->buf + o->len, ELLIPSIS, 3);
    o->len += 3;
  }
  o->buf[o->len] = '\0';
}

void describe_value(const cJSON *v, size_t max, char *out, size_t outlen) {
  if (outlen < 8) {
    if (outlen) out[0] = '\0';
    return;
  }
  if (max + 8 > outlen) max = outlen - 8;
  struct out o = {out, 0, max, 0};
  put_value(&o, v);
  finish(&o);
}

/* --- labels -------------------------------------------------------------- */

static int is_identifier(const char *s) {
  if (!*s || (*s >= '0' && *s <= '9')) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '_' || *s == '$'))
      return 0;
  return 1;
}

static void put_key(struct out *o, const char *key) {
  if (is_identifier(key)) {
    if (o->len) put(o, ".", 1);
    puts_(o, key);
    return;
  }
  put(o, "[", 1);
  struct out k = *o;
  size_t room = o->max - o->len;
  k.max = o->len + (room < 40 ? room : 40);
  put_string(&k, key);
  o->len = k.len;
  if (k.full && !o->full) puts_(o, ELLIPSIS "\"");
  put(o, "]", 1);
}

/* "[id=3]", "[key=\"a\"]", "[name=\"Ada\"]" for an item that has one of
 * those members as a number or a string; else "[index]". */
static void put_item(struct out *o, const cJSON *item, const char *index) {
  static const char *const names[] = {"id", "key", "name"};
  for (size_t i = 0; cJSON_IsObject(item) && i < 3; i++) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(item, names[i]);
    if (!cJSON_IsNumber(m) && !cJSON_IsString(m)) continue;
    char v[48];
    describe_value(m, 32, v, sizeof v);
    put(o, "[", 1);
    puts_(o, names[i]);
    put(o, "=", 1);
    puts_(o, v);
    put(o, "]", 1);
    return;
  }
  put(o, "[", 1);
  puts_(o, index);
  put(o, "]", 1);
}

/* A path split into its unescaped tokens. */
struct path {
  char **tok;
  int n;
};

static void path_free(struct path *p) {
  for (int i = 0; i < p->n; i++)
    free(p->tok[i]);
  free(p->tok);
  p->tok = NULL;
  p->n = 0;
}

static int path_split(const char *ptr, struct path *p) {
  p->tok = NULL;
  p->n = 0;
  if (!ptr || !*ptr) return 0;
  if (*ptr != '/') return -1;
  int n = 0;
  for (const char *s = ptr; *s; s++)
    n += *s == '/';
  p->tok = calloc((size_t)n, sizeof *p->tok);
  if (!p->tok) return -1;
  for (const char *s = ptr; *s == '/' && p->n < n;) {
    char *t = malloc(strlen(s + 1) + 1);
    if (!t) {
      path_free(p);
      return -1;
    }
    s = ptr_token(s + 1, t);
    p->tok[p->n++] = t;
  }
  return 0;
}

/* Labels the tokens of p read in doc: keys as .key, array items by their
 * id. last, when not NULL, is the item the final token names (one just
 * added or removed, which doc does not show where the path says). Where
 * doc has nothing at the path, the rest is labelled from the tokens. */
static void put_path(struct out *o, const cJSON *doc, const struct path *p,
                     const cJSON *last) {
  if (p->n == 0) {
    puts_(o, "the state");
    return;
  }
  const cJSON *node = doc;
  for (int i = 0; i < p->n && !o->full; i++) {
    const char *t = p->tok[i];
    size_t idx;
    if (cJSON_IsArray(node) || (!node && ptr_index(t, &idx) == 0) ||
        (!node && !strcmp(t, "-"))) {
      const cJSON *item = i == p->n - 1 && last ? last
                          : node                ? ptr_child(node, t)
                                                : NULL;
      put_item(o, item, t);
      node = item;
    } else {
      put_key(o, t);
      node = cJSON_IsObject(node) ? ptr_child(node, t) : NULL;
    }
  }
}

void describe_path(const cJSON *doc, const char *ptr, char *out,
                   size_t outlen) {
  if (outlen < 16) {
    if (outlen) out[0] = '\0';
    return;
  }
  struct out o = {out, 0, outlen - 8, 0};
  struct path p;
  if (path_split(ptr, &p) != 0) {
    puts_(&o, ptr ? ptr : "");
  } else {
    put_path(&o, doc, &p, NULL);
    path_free(&p);
  }
  finish(&o);
}

/* --- the ops of one change ------------------------------------------------ */

enum kind { K_ADD, K_REMOVE, K_REPLACE, K_MOVE, K_COPY, K_TEST, K_OTHER };

static enum kind op_kind(const cJSON *op) {
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(op, "op");
  const char *s = cJSON_IsString(k) ? k->valuestring : "";
  static const char *const names[] = {"add",  "remove", "replace",
                                      "move", "copy",   "test"};
  for (int i = 0; i < 6; i++)
    if (!strcmp(s, names[i])) return (enum kind)i;
  return K_OTHER;
}

static const char *op_str(const cJSON *op, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One op as the description reads it. */
struct dop {
  const cJSON *op;
  enum kind kind;
  const cJSON *inv;  /* its entry of the inverse, or NULL */
  const char *cpath; /* its path with a concrete index for an append */
  struct path p;     /* cpath split */
};

/* Moves p (a path as it was right after op k) forward through the later
 * ops, so it can be read in the final document: an item added or removed
 * before it in the same array shifts its index. If a later op removed the
 * item itself (or a parent item), *gone receives its old value and *at the
 * depth of that token; the tokens after it are read inside that value. */
static void shift_forward(struct path *p, const struct dop *ops, int k, int n,
                          const cJSON **gone, int *at) {
  *gone = NULL;
  /* A removed item is not in the final document: its own index stays the
   * one it had (only the items holding it are followed). */
  int last = ops[k].kind == K_REMOVE ? p->n - 1 : p->n;
  for (int j = k + 1; j < n && !*gone; j++) {
    const struct dop *d = &ops[j];
    if (d->kind != K_ADD && d->kind != K_REMOVE && d->kind != K_COPY) continue;
    int m = d->p.n - 1;
    if (m < 0 || m >= last) continue;
    int same = 1;
    for (int i = 0; i < m && same; i++)
      same = !strcmp(d->p.tok[i], p->tok[i]);
    size_t mi, ti;
    if (!same || ptr_index(d->p.tok[m], &mi) != 0 ||
        ptr_index(p->tok[m], &ti) != 0)
      continue;
    size_t to = ti;
    if (d->kind == K_REMOVE && mi == ti) {
      *gone = d->inv ? cJSON_GetObjectItemCaseSensitive(d->inv, "value") : NULL;
      *at = m;
      if (!*gone) return;
      continue;
    }
    if (d->kind == K_REMOVE && mi < ti) to = ti - 1;
    if (d->kind != K_REMOVE && mi <= ti) to = ti + 1;
    if (to != ti) {
      char buf[32];
      snprintf(buf, sizeof buf, "%zu", to);
      char *t = strdup(buf);
      if (!t) return;
      free(p->tok[m]);
      p->tok[m] = t;
    }
  }
}

/* Labels op k's path; last, when not NULL, is the item its final token
 * names. */
static void label_into(struct out *o, const cJSON *after, struct dop *ops,
                       int k, int n, const cJSON *last) {
  struct path p;
  if (path_split(ops[k].cpath, &p) != 0) {
    puts_(o, ops[k].cpath);
    return;
  }
  const cJSON *gone = NULL;
  int at = 0;
  shift_forward(&p, ops, k, n, &gone, &at);
  if (!gone) {
    put_path(o, after, &p, last);
  } else {
    /* Read up to the removed item in the final document, then inside the
     * item as it was. */
    struct path head = {p.tok, at}, tail = {p.tok + at + 1, p.n - at - 1};
    put_path(o, after, &head, NULL);
    put_item(o, gone, p.tok[at]);
    if (tail.n) {
      struct out rest = *o;
      put_path(&rest, gone, &tail, last);
      o->len = rest.len;
      o->full = rest.full;
    }
  }
  path_free(&p);
}

/* label_into, cut to DESCRIBE_LABEL_MAX bytes. */
static void label_op(struct out *o, const cJSON *after, struct dop *ops, int k,
                     int n, const cJSON *last) {
  char buf[DESCRIBE_LABEL_MAX + 8];
  struct out l = {buf, 0, DESCRIBE_LABEL_MAX, 0};
  label_into(&l, after, ops, k, n, last);
  finish(&l);
  puts_(o, buf);
}

/* A move or copy's "from", labelled from its tokens alone (the document
 * no longer shows what was there). */
static void label_plain(struct out *o, const char *ptr) {
  char buf[DESCRIBE_LABEL_MAX + 8];
  struct out l = {buf, 0, DESCRIBE_LABEL_MAX, 0};
  struct path p;
  if (path_split(ptr, &p) != 0) {
    puts_(&l, ptr);
  } else {
    put_path(&l, NULL, &p, NULL);
    path_free(&p);
  }
  finish(&l);
  puts_(o, buf);
}

static void describe_op(struct out *o, const cJSON *after, struct dop *ops,
                        int k, int n) {
  const struct dop *d = &ops[k];
  const cJSON *value = cJSON_GetObjectItemCaseSensitive(d->op, "value");
  const cJSON *old =
      d->inv ? cJSON_GetObjectItemCaseSensitive(d->inv, "value") : NULL;
  const char *inv_op = d->inv ? op_str(d->inv, "op") : NULL;
  char v1[DESCRIBE_VALUE_MAX + 8], v2[DESCRIBE_VALUE_MAX + 8];
  switch (d->kind) {
  case K_ADD:
  case K_REPLACE:
    if (d->kind == K_ADD && !(inv_op && !strcmp(inv_op, "replace"))) {
      label_op(o, after, ops, k, n, value);
      describe_value(value, DESCRIBE_VALUE_MAX, v1, sizeof v1);
      puts_(o, " added: ");
      puts_(o, v1);
      break;
    }
    label_op(o, after, ops, k, n, NULL);
    describe_value(value, DESCRIBE_VALUE_MAX, v2, sizeof v2);
    if (old) {
      describe_value(old, DESCRIBE_VALUE_MAX, v1, sizeof v1);
      puts_(o, ": ");
      puts_(o, v1);
      puts_(o, " " ARROW " ");
    } else {
      puts_(o, " set to ");
    }
    puts_(o, v2);
    break;
  case K_REMOVE:
    label_op(o, after, ops, k, n, old);
    puts_(o, " removed");
    if (old) {
      describe_value(old, DESCRIBE_VALUE_MAX, v1, sizeof v1);
      puts_(o, ": ");
      puts_(o, v1);
    }
    break;
  case K_MOVE:
  case K_COPY: {
    label_op(o, after, ops, k, n, NULL);
    puts_(o, d->kind == K_MOVE ? " moved from " : " copied from ");
    label_plain(o, op_str(d->op, "from"));
    break;
  }
  default: puts_(o, "?"); break;
  }
}

/* Pairs each op with its entry of the inverse, which patch_apply builds
 * last op first, one entry per op except test (none) and move (one to
 * three): so only a patch without moves can be paired. */
static void pair_inverse(struct dop *ops, int n, const cJSON *inverse) {
  int counted = 0, moves = 0;
  for (int i = 0; i < n; i++) {
    counted += ops[i].kind != K_TEST;
    moves += ops[i].kind == K_MOVE;
  }
  if (!inverse || moves || counted != cJSON_GetArraySize(inverse)) return;
  const cJSON *e = inverse->child;
  for (int i = n - 1; i >= 0 && e; i--) {
    if (ops[i].kind == K_TEST) continue;
    ops[i].inv = e;
    e = e->next;
  }
}

cJSON *patch_describe(const cJSON *after, const cJSON *ops,
                      const cJSON *inverse) {
  cJSON *lines = cJSON_CreateArray();
  if (!lines) return NULL;
  int total = cJSON_GetArraySize(ops), n = total;
  if (n > DESCRIBE_MAP_MAX) n = DESCRIBE_MAX_LINES * 2;
  struct dop *d = n ? calloc((size_t)n, sizeof *d) : NULL;
  if (n && !d) {
    cJSON_Delete(lines);
    return NULL;
  }
  int i = 0;
  for (const cJSON *op = ops ? ops->child : NULL; op && i < n; op = op->next) {
    d[i].op = op;
    d[i].kind = op_kind(op);
    i++;
  }
  n = i;
  if (total <= DESCRIBE_MAP_MAX) pair_inverse(d, n, inverse);
  if (n > DESCRIBE_SHIFT_MAX) n = DESCRIBE_SHIFT_MAX;
  for (i = 0; i < n; i++) {
    const char *path = op_str(d[i].op, "path");
    const char *where = d[i].inv ? op_str(d[i].inv, "path") : NULL;
    /* The inverse names where an append landed ("-" becomes an index). */
    d[i].cpath = (d[i].kind == K_ADD || d[i].kind == K_COPY) && where ? where
                 : path                                               ? path
                                                                      : "";
    if (path_split(d[i].cpath, &d[i].p) != 0) d[i].p.n = 0;
  }
  int described = 0, skipped = 0;
  for (i = 0; i < total; i++) {
    if (i < n && d[i].kind == K_TEST) continue;
    if (described == DESCRIBE_MAX_LINES || i >= n) {
      skipped++;
      continue;
    }
    char buf[DESCRIBE_LABEL_MAX + 2 * DESCRIBE_VALUE_MAX + 64];
    struct out o = {buf, 0, sizeof buf - 8, 0};
    describe_op(&o, after, d, i, n);
    finish(&o);
    cJSON_AddItemToArray(lines, cJSON_CreateString(buf));
    described++;
  }
  if (skipped) {
    char more[64];
    snprintf(more, sizeof more, ELLIPSIS " and %d more", skipped);
    cJSON_AddItemToArray(lines, cJSON_CreateString(more));
  }
  for (i = 0; i < n; i++)
    path_free(&d[i].p);
  free(d);
  return lines;
}
