/* Where a small edit of a JSON text lands (json_edit.h). */
#include "json_edit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pointer.h"

/* Blocks go through memcmp (vectorized in libc), the block that differs
 * word by word, then byte by byte. */
#define BLOCK 256

size_t json_edit_prefix(const char *a, const char *b, size_t n) {
  size_t i = 0;
  while (i + BLOCK <= n && memcmp(a + i, b + i, BLOCK) == 0)
    i += BLOCK;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    memcpy(&x, a + i, 8);
    memcpy(&y, b + i, 8);
    if (x != y) break;
  }
  while (i < n && a[i] == b[i])
    i++;
  return i;
}

/* The length of the common suffix of the n bytes before a_end and b_end. */
static size_t common_suffix(const char *a_end, const char *b_end, size_t n) {
  size_t i = 0;
  while (i + BLOCK <= n &&
         memcmp(a_end - i - BLOCK, b_end - i - BLOCK, BLOCK) == 0)
    i += BLOCK;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    memcpy(&x, a_end - i - 8, 8);
    memcpy(&y, b_end - i - 8, 8);
    if (x != y) break;
  }
  while (i < n && a_end[-1 - (ptrdiff_t)i] == b_end[-1 - (ptrdiff_t)i])
    i++;
  return i;
}

/* ---- a scanner for text known to be valid -------------------------------
 *
 * It tokenizes and checks nothing: the old text parsed. */

static size_t skip_ws(const char *s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
    i++;
  return i;
}

/* i at a string's opening quote: returns the index after its closing one,
 * and sets *esc if it holds a backslash. */
static size_t string_end(const char *s, size_t n, size_t i, int *esc) {
  for (i++; i < n; i++) {
    if (s[i] == '"') return i + 1;
    if (s[i] == '\\') {
      *esc = 1;
      i++;
    }
  }
  return n;
}

/* The end of a number or literal at i. */
static size_t token_end(const char *s, size_t n, size_t i) {
  while (i < n && s[i] != ',' && s[i] != ']' && s[i] != '}' && s[i] != ' ' &&
         s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
    i++;
  return i;
}

/* From i, inside a container and outside any string, the index after the
 * bracket that closes it. */
static size_t close_of(const char *s, size_t n, size_t i) {
  size_t depth = 0;
  int esc;
  while (i < n) {
    char c = s[i];
    if (c == '"') {
      i = string_end(s, n, i, &esc);
      continue;
    }
    if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return i + 1;
      depth--;
    }
    i++;
  }
  return n;
}

struct frame {
  size_t start;
  int obj;
  size_t index;       /* arrays: the member being read */
  size_t key, keylen; /* objects: its raw key */
  int key_esc;
};

struct scan {
  struct frame *f;
  size_t depth, cap;
};

static int push(struct scan *sc, size_t start, int obj) {
  if (sc->depth == sc->cap) {
    size_t cap = sc->cap ? sc->cap * 2 : 32;
    struct frame *f = realloc(sc->f, cap * sizeof *f);
    if (!f) return -1;
    sc->f = f;
    sc->cap = cap;
  }
  sc->f[sc->depth++] = (struct frame){start, obj, 0, 0, 0, 0};
  return 0;
}

/* The pointer of the value held by frames [0, level). 0, or -1 when out of
 * memory, or 1 when a key holds an escape (its text is not its bytes). */
static int make_path(const char *s, const struct scan *sc, int level,
                     char **out) {
  struct ptr_buf b = {NULL, 0, 0};
  int rc = 0;
  for (int k = 0; k < level && rc == 0; k++) {
    const struct frame *f = &sc->f[k];
    if (!f->obj) {
      if (ptr_push_index(&b, f->index)) rc = -1;
      continue;
    }
    if (f->key_esc) {
      rc = 1;
      break;
    }
    char small[64],
        *key = f->keylen < sizeof small ? small : malloc(f->keylen + 1);
    if (!key) {
      rc = -1;
      break;
    }
    memcpy(key, s + f->key, f->keylen);
    key[f->keylen] = '\0';
    if (ptr_push(&b, key)) rc = -1;
    if (key != small) free(key);
  }
  if (rc == 0 && !b.s && !(b.s = calloc(1, 1))) rc = -1;
  if (rc != 0) {
    free(b.s);
    return rc;
  }
  *out = b.s;
  return 0;
}

int json_edit_locate(const char *old, size_t oldlen, const char *new,
                     size_t newlen, int outer, struct json_edit *e) {
  memset(e, 0, sizeof *e);
  size_t m = oldlen < newlen ? oldlen : newlen;
  size_t p = json_edit_prefix(old, new, m);
  if (p == oldlen && p == newlen) return 0;
  /* The changed bytes are [p, ea) in old and [p, ea + newlen - oldlen) in
   * new. */
  size_t ea = oldlen - common_suffix(old + oldlen, new + newlen, m - p);
  const char *s = old;
  size_t n = oldlen, i = 0, j, resume = 0, vs = 0, ve = 0;
  if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) i = 3;
  i = skip_ws(s, n, i);
  if (p <= i) return 0; /* the root, or what is before it */
  struct scan sc = {NULL, 0, 0};
  int level = 0;

  /* Down from the root to the innermost value, or the gap between members,
   * that holds p. At "value", i is where a value starts, and i <= p. */
value:
  if (s[i] == '{' || s[i] == '[') {
    if (push(&sc, i, s[i] == '{')) goto nomem;
    j = skip_ws(s, n, i + 1);
    goto member;
  }
  {
    int esc = 0;
    ve = s[i] == '"' ? string_end(s, n, i, &esc) : token_end(s, n, i);
  }
  if (ea <= ve && outer == 0) { /* the change is inside this scalar */
    vs = i;
    level = (int)sc.depth;
    goto found;
  }
  if (ea <= ve) outer--;
  if (p < ve || ea <= ve) { /* it starts here: an enclosing value holds it */
    resume = ve;
    goto climb;
  }
  i = ve;
next: /* i: after a member's value, or after the root */
  if (sc.depth == 0) goto none;
  j = skip_ws(s, n, i);
  if (p <= j) {
    resume = j;
    goto climb;
  }
  if (s[j] != ',') { /* the container closes before p */
    sc.depth--;
    i = j + 1;
    goto next;
  }
  sc.f[sc.depth - 1].index++;
  j = skip_ws(s, n, j + 1);

member: /* j: where the next member, or the closing bracket, starts */
  if (p < j || (p == j && (s[j] == '}' || s[j] == ']'))) {
    resume = j;
    goto climb;
  }
  if (s[j] == '}' || s[j] == ']') {
    sc.depth--;
    i = j + 1;
    goto next;
  }
  if (sc.f[sc.depth - 1].obj) {
    struct frame *f = &sc.f[sc.depth - 1];
    int esc = 0;
    size_t kend = string_end(s, n, j, &esc);
    f->key = j + 1;
    f->keylen = kend - j - 2;
    f->key_esc = esc;
    i = skip_ws(s, n, kend);
    i = skip_ws(s, n, i + 1); /* past the colon */
    if (p < i) {              /* in the key, or before the value */
      resume = j;
      goto climb;
    }
    goto value;
  }
  i = j;
  goto value;

climb: /* p is in the top container (resume is in it, outside any string):
        * the innermost container that also holds ea, below the root */
  while (sc.depth > 1) {
    size_t end = close_of(s, n, resume);
    if (ea <= end && outer-- == 0) {
      vs = sc.f[sc.depth - 1].start;
      ve = end;
      level = (int)sc.depth - 1;
      goto found;
    }
    sc.depth--;
    resume = end;
  }
none:
  free(sc.f);
  return 0;

found : {
  int rc = make_path(s, &sc, level, &e->path);
  free(sc.f);
  if (rc) return rc < 0 ? -1 : 0;
  e->start = vs;
  e->old_end = ve;
  e->new_end = ve + newlen - oldlen;
  e->level = level;
  return 1;
}
nomem:
  free(sc.f);
  return -1;
}
