/* JSON text in, as JSON.parse reads it, with the positions it reports.
 * The printer is json_print.c. */
#include "json.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_alloc.h"
#include "json_int.h"

/* cJSON is lenient where JSON.parse is not (it takes "01", "1.", raw tabs
 * in strings, any byte below 0x21 as whitespace) and its error positions
 * often point before the real mistake. So a strict scan reads the text: it
 * accepts exactly what JSON.parse accepts, minus what cJSON cannot hold,
 * and finds the first bad byte. The tree is built in the same pass (below).
 * A UTF-8 byte order mark is skipped, as cJSON does: some editors write
 * one, and it carries no data. */
#define MAX_DEPTH JSON_MAX_DEPTH

struct scan {
  const unsigned char *s;
  size_t len, pos;
  size_t err_pos;
  int maybe_duplicates;
  int maybe_huge; /* a number with an exponent or many digits */
  char msg[96];
};

static int fail(struct scan *sc, size_t pos, const char *msg) {
  sc->err_pos = pos;
  snprintf(sc->msg, sizeof sc->msg, "%s", msg);
  return -1;
}

/* Length of the well-formed UTF-8 sequence at p (no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
int json__utf8_length(const unsigned char *p, size_t avail) {
  unsigned c = p[0];
  int n;
  unsigned lo = 0x80, hi = 0xBF;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4;
  else
    return 0;
  if (c == 0xE0) lo = 0xA0;
  if (c == 0xED) hi = 0x9F;
  if (c == 0xF0) lo = 0x90;
  if (c == 0xF4) hi = 0x8F;
  if ((size_t)n > avail || p[1] < lo || p[1] > hi) return 0;
  for (int i = 2; i < n; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  return n;
}

/* "unexpected character 'x'" and the like, for the byte at pos. */
static int fail_unexpected(struct scan *sc, const char *what) {
  const unsigned char *p = sc->s + sc->pos;
  if (sc->pos >= sc->len) return fail(sc, sc->len, "unexpected end of input");
  sc->err_pos = sc->pos;
  int n = json__utf8_length(p, sc->len - sc->pos);
  if (*p >= 0x20 && *p < 0x7F)
    snprintf(sc->msg, sizeof sc->msg, "unexpected character '%c'%s", *p, what);
  else if (n > 1)
    snprintf(sc->msg, sizeof sc->msg, "unexpected character '%.*s'%s", n,
             (const char *)p, what);
  else
    snprintf(sc->msg, sizeof sc->msg, "unexpected byte 0x%02x%s", *p, what);
  return -1;
}

static void skip_ws(struct scan *sc) {
  while (sc->pos < sc->len) {
    unsigned char c = sc->s[sc->pos];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
    sc->pos++;
  }
}

static int peek(const struct scan *sc) {
  return sc->pos < sc->len ? sc->s[sc->pos] : -1;
}

static int hex4(const struct scan *sc, size_t at, unsigned *cp) {
  *cp = 0;
  for (size_t i = at; i < at + 4; i++) {
    if (i >= sc->len) return (int)(sc->len - at);
    unsigned c = sc->s[i], v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
      v = (c | 0x20) - 'a' + 10;
    else
      return (int)(i - at);
    *cp = *cp << 4 | v;
  }
  return 4;
}

/* A \u escape at pos (the backslash). cJSON cannot hold U+0000 in its C
 * strings, nor an unpaired surrogate in UTF-8, so both are refused rather
 * than silently changed. */
static int scan_unicode_escape(struct scan *sc) {
  size_t at = sc->pos;
  unsigned cp, lo;
  int n = hex4(sc, at + 2, &cp);
  if (n < 4) {
    if (at + 2 + (size_t)n >= sc->len)
      return fail(sc, sc->len, "unterminated string");
    return fail(sc, at + 2 + (size_t)n,
                "bad \\u escape: expected 4 hex digits");
  }
  sc->pos = at + 6;
  if (cp == 0) return fail(sc, at, "\\u0000 in a string is not supported");
  if (cp >= 0xDC00 && cp <= 0xDFFF)
    return fail(sc, at, "unpaired surrogate escape is not supported");
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    if (sc->pos + 1 < sc->len && sc->s[sc->pos] == '\\' &&
        sc->s[sc->pos + 1] == 'u' && hex4(sc, sc->pos + 2, &lo) == 4 &&
        lo >= 0xDC00 && lo <= 0xDFFF) {
      sc->pos += 6;
      return 0;
    }
    return fail(sc, at, "unpaired surrogate escape is not supported");
  }
  return 0;
}

static int scan_escape(struct scan *sc) {
  if (sc->pos + 1 >= sc->len) return fail(sc, sc->len, "unterminated string");
  switch (sc->s[sc->pos + 1]) {
  case '"':
  case '\\':
  case '/':
  case 'b':
  case 'f':
  case 'n':
  case 'r':
  case 't': sc->pos += 2; return 0;
  case 'u': return scan_unicode_escape(sc);
  default:
    sc->pos++;
    return fail_unexpected(sc, " after a backslash in a string");
  }
}

/* Bytes a string may hold as they are: ASCII from space up, but '"' and
 * '\\'. */
static inline int plain_byte(unsigned c) {
  return c - 0x20u < 0x60u && c != '"' && c != '\\';
}

static int scan_string(struct scan *sc) {
  const unsigned char *s = sc->s;
  sc->pos++;
  for (;;) {
    size_t pos = sc->pos, len = sc->len;
    while (pos < len && plain_byte(s[pos]))
      pos++;
    sc->pos = pos;
    if (pos >= len) return fail(sc, len, "unterminated string");
    unsigned char c = s[pos];
    if (c == '"') {
      sc->pos++;
      return 0;
    }
    if (c == '\\') {
      if (scan_escape(sc)) return -1;
    } else if (c == '\n') {
      return fail(sc, pos,
                  "line break inside a string (missing closing quote?)");
    } else if (c < 0x20) {
      return fail(sc, pos, "control character inside a string must be escaped");
    } else {
      int n = json__utf8_length(s + pos, len - pos);
      if (!n) return fail(sc, pos, "invalid UTF-8 in string");
      sc->pos += (size_t)n;
    }
  }
}

static int is_digit(int c) {
  return c >= '0' && c <= '9';
}

static void skip_digits(struct scan *sc) {
  while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
    sc->pos++;
}

static int scan_number(struct scan *sc) {
  if (peek(sc) == '-') sc->pos++;
  if (peek(sc) == '0') {
    sc->pos++;
    if (is_digit(peek(sc)))
      return fail(sc, sc->pos, "leading zeros are not allowed in numbers");
  } else if (is_digit(peek(sc))) {
    size_t start = sc->pos;
    skip_digits(sc);
    if (sc->pos - start > 300) sc->maybe_huge = 1;
  } else {
    return fail_unexpected(sc, ": expected a digit after '-'");
  }
  if (peek(sc) == '.') {
    sc->pos++;
    if (!is_digit(peek(sc)))
      return fail_unexpected(sc, ": expected a digit after the decimal point");
    skip_digits(sc);
  }
  if (peek(sc) == 'e' || peek(sc) == 'E') {
    sc->pos++;
    if (peek(sc) == '+' || peek(sc) == '-') sc->pos++;
    if (!is_digit(peek(sc)))
      return fail_unexpected(sc, ": expected a digit in the exponent");
    skip_digits(sc);
    sc->maybe_huge = 1;
  }
  return 0;
}

static int scan_literal(struct scan *sc, const char *word) {
  for (; *word; word++, sc->pos++)
    if (peek(sc) != (unsigned char)*word) return fail_unexpected(sc, "");
  return 0;
}

/* Duplicate keys are rare, and folding them needs a walk of the whole tree,
 * so the scan notes whether any object may hold one: two keys with the
 * same hash, a key with an escape (its raw bytes may differ from its text),
 * or more keys than are tracked. */
#define TRACKED_KEYS 32

struct key_seen {
  uint32_t hash[TRACKED_KEYS];
  int n;
};

static void note_key(struct scan *sc, struct key_seen *seen, size_t start) {
  if (sc->maybe_duplicates) return;
  uint32_t h = 2166136261u;
  for (size_t i = start; i < sc->pos; i++) {
    if (sc->s[i] == '\\') {
      sc->maybe_duplicates = 1;
      return;
    }
    h = (h ^ sc->s[i]) * 16777619u;
  }
  for (int i = 0; i < seen->n; i++)
    if (seen->hash[i] == h) sc->maybe_duplicates = 1;
  if (seen->n == TRACKED_KEYS)
    sc->maybe_duplicates = 1;
  else
    seen->hash[seen->n++] = h;
}

static void set_error(struct json_error *err, const char *buf, size_t offset,
                      const char *msg) {
  if (!err) return;
  int line = 1;
  size_t line_start = 0;
  for (const char *p = buf, *end = buf + offset;
       (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
    line++;
    line_start = (size_t)(p - buf) + 1;
  }
  err->offset = offset;
  err->line = line;
  err->column = (int)(offset - line_start) + 1;
  snprintf(err->message, sizeof err->message, "%s", msg);
}

/* JSON.parse keeps the last of duplicate keys, at the place of the first.
 * cJSON keeps all of them and its lookups find the first, so duplicates are
 * folded here: the first node takes the last one's value. */
static void take_value(cJSON *obj, cJSON *keep, cJSON *dup) {
  cJSON tmp = *keep;
  keep->type = dup->type;
  keep->child = dup->child;
  keep->valuestring = dup->valuestring;
  keep->valueint = dup->valueint;
  keep->valuedouble = dup->valuedouble;
  dup->type = tmp.type;
  dup->child = tmp.child;
  dup->valuestring = tmp.valuestring;
  cJSON_Delete(cJSON_DetachItemViaPointer(obj, dup));
}

static size_t key_hash(const char *s) {
  size_t h = 14695981039346656037u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

/* Small objects are checked pair by pair; large ones through a hash set,
 * so a map with many keys stays linear. Returns -1 if out of memory. */
static int fold_duplicates(cJSON *obj, int *folded) {
  size_t n = 0;
  for (cJSON *c = obj->child; c; c = c->next)
    n++;
  if (n <= 16) {
    for (cJSON *j = obj->child->next, *next; j; j = next) {
      next = j->next;
      for (cJSON *i = obj->child; i != j; i = i->next)
        if (i->string[0] == j->string[0] && strcmp(i->string, j->string) == 0) {
          take_value(obj, i, j);
          *folded = 1;
          break;
        }
    }
    return 0;
  }
  size_t mask = 31;
  while (mask < 2 * n)
    mask = mask * 2 + 1;
  cJSON **set = calloc(mask + 1, sizeof *set);
  if (!set) return -1;
  for (cJSON *j = obj->child, *next; j; j = next) {
    next = j->next;
    size_t h = key_hash(j->string) & mask;
    while (set[h] && strcmp(set[h]->string, j->string) != 0)
      h = (h + 1) & mask;
    if (set[h]) {
      take_value(obj, set[h], j);
      *folded = 1;
    } else {
      set[h] = j;
    }
  }
  free(set);
  return 0;
}

static int fold_tree(cJSON *v, int *folded) {
  for (cJSON *c = v->child; c; c = c->next)
    if (c->child && fold_tree(c, folded)) return -1;
  if ((v->type & 0xFF) == cJSON_Object && v->child && v->child->next)
    return fold_duplicates(v, folded);
  return 0;
}

/* A number beyond the double range parses to an infinity, as in
 * JSON.parse, and JSON.stringify prints that as null. The value is stored as
 * null at once, so the state, the file and every client hold the same
 * value. */
static void null_infinities(cJSON *v) {
  for (cJSON *c = v->child; c; c = c->next) {
    if (c->child) null_infinities(c);
    if ((c->type & 0xFF) == cJSON_Number && !isfinite(c->valuedouble)) {
      c->type = (c->type & ~0xFF) | cJSON_NULL;
      c->valuedouble = 0;
      c->valueint = 0;
    }
  }
}

/* ---- Building the tree in the same pass --------------------------------
 *
 * The tree is built while the strict scan walks the text: every byte is
 * checked by the scan functions above, in the same order, so what is
 * accepted and where an error is reported are exactly the scan's; the
 * builder only turns the spans the scan accepted into cJSON nodes. One pass
 * instead of a scan and then cJSON's own parse (which copies every number
 * for strtod and walks every string twice) roughly halves the time to load
 * a large state. Nodes and strings come from cJSON_malloc, so cJSON_Delete
 * frees them as usual. */

static cJSON *new_node(int type) {
  cJSON *n = cJSON_malloc(sizeof *n);
  if (n) {
    memset(n, 0, sizeof *n);
    n->type = type;
  }
  return n;
}

/* Appends child to parent's list (cJSON keeps the last child in the first
 * child's prev). */
static void append(cJSON *parent, cJSON **last, cJSON *child) {
  if (!*last) {
    parent->child = child;
  } else {
    (*last)->next = child;
    child->prev = *last;
  }
  parent->child->prev = child;
  *last = child;
}

static size_t put_utf8(unsigned cp, char *out) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | cp >> 12);
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | cp >> 18);
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

static unsigned hex_value(const unsigned char *p) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = p[i];
    v = v << 4 | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

/* Scans the string at sc->pos and returns its text (cJSON_malloc'd). The
 * scan has checked the escapes, so decoding trusts them. *oom is set when
 * the text is valid but memory ran out. */
static char *build_string(struct scan *sc, int *oom) {
  size_t start = sc->pos + 1;
  if (scan_string(sc)) return NULL;
  const unsigned char *p = sc->s + start, *end = sc->s + sc->pos - 1;
  size_t n = (size_t)(end - p);
  char *out = cJSON_malloc(n + 1); /* escapes only ever shrink */
  if (!out) {
    *oom = 1;
    return NULL;
  }
  const unsigned char *bs = memchr(p, '\\', n);
  if (!bs) {
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
  }
  char *o = out;
  while (p < end) {
    if (*p != '\\') {
      const unsigned char *q = memchr(p, '\\', (size_t)(end - p));
      size_t run = (size_t)((q ? q : end) - p);
      memcpy(o, p, run);
      o += run;
      p += run;
      continue;
    }
    switch (p[1]) {
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u': {
      unsigned cp = hex_value(p + 2);
      if (cp >= 0xD800 && cp <= 0xDBFF) { /* the scan saw its pair */
        cp = 0x10000 + ((cp - 0xD800) << 10) + (hex_value(p + 8) - 0xDC00);
        p += 6;
      }
      o += put_utf8(cp, o);
      p += 6;
      continue;
    }
    default: *o++ = (char)p[1]; break; /* " \ / */
    }
    p += 2;
  }
  *o = '\0';
  return out;
}

/* As cJSON stores a number: the double, and valueint saturated. */
static void set_number(cJSON *n, double d) {
  n->valuedouble = d;
  if (d >= INT_MAX)
    n->valueint = INT_MAX;
  else if (d <= (double)INT_MIN)
    n->valueint = INT_MIN;
  else
    n->valueint = (int)d;
}

static cJSON *build_number(struct scan *sc) {
  size_t start = sc->pos;
  if (scan_number(sc)) return NULL;
  cJSON *n = new_node(cJSON_Number);
  if (!n) return NULL;
  const unsigned char *p = sc->s + start;
  size_t len = sc->pos - start;
  int neg = *p == '-';
  size_t digits = len - (size_t)neg;
  /* Up to 15 digits, no fraction or exponent: exact in a double. */
  if (digits <= 15) {
    uint64_t u = 0;
    size_t i = (size_t)neg;
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++)
      u = u * 10 + (uint64_t)(p[i] - '0');
    if (i == len) {
      set_number(n, neg ? -(double)u : (double)u);
      return n;
    }
  }
  char small[64];
  char *copy = len < sizeof small ? small : malloc(len + 1);
  if (!copy) {
    cJSON_free(n);
    return NULL;
  }
  memcpy(copy, p, len);
  copy[len] = '\0';
  set_number(n, strtod(copy, NULL));
  if (copy != small) free(copy);
  return n;
}

static cJSON *build_value(struct scan *sc, int depth, int *oom);

static cJSON *build_array(struct scan *sc, int depth, int *oom) {
  cJSON *arr = new_node(cJSON_Array), *last = NULL;
  if (!arr) {
    *oom = 1;
    return NULL;
  }
  sc->pos++;
  skip_ws(sc);
  if (peek(sc) == ']') {
    sc->pos++;
    return arr;
  }
  for (;;) {
    cJSON *v = build_value(sc, depth, oom);
    if (!v) goto fail;
    append(arr, &last, v);
    skip_ws(sc);
    int c = peek(sc);
    if (c == ']') {
      sc->pos++;
      return arr;
    }
    if (c != ',') {
      fail_unexpected(sc, ": expected ',' or ']'");
      goto fail;
    }
    sc->pos++;
    skip_ws(sc);
    if (peek(sc) == ']') {
      fail(sc, sc->pos, "trailing comma before ']'");
      goto fail;
    }
  }
fail:
  cJSON_Delete(arr);
  return NULL;
}

static cJSON *build_object(struct scan *sc, int depth, int *oom) {
  struct key_seen seen = {.n = 0};
  cJSON *obj = new_node(cJSON_Object), *last = NULL;
  if (!obj) {
    *oom = 1;
    return NULL;
  }
  sc->pos++;
  skip_ws(sc);
  if (peek(sc) == '}') {
    sc->pos++;
    return obj;
  }
  for (;;) {
    if (peek(sc) != '"') {
      fail_unexpected(sc, ": expected a double-quoted property name");
      goto fail;
    }
    size_t key_start = sc->pos;
    char *key = build_string(sc, oom);
    if (!key) goto fail;
    note_key(sc, &seen, key_start);
    skip_ws(sc);
    if (peek(sc) != ':') {
      cJSON_free(key);
      fail_unexpected(sc, ": expected ':' after the property name");
      goto fail;
    }
    sc->pos++;
    skip_ws(sc);
    cJSON *v = build_value(sc, depth, oom);
    if (!v) {
      cJSON_free(key);
      goto fail;
    }
    v->string = key;
    append(obj, &last, v);
    skip_ws(sc);
    int c = peek(sc);
    if (c == '}') {
      sc->pos++;
      return obj;
    }
    if (c != ',') {
      fail_unexpected(sc, ": expected ',' or '}'");
      goto fail;
    }
    sc->pos++;
    skip_ws(sc);
    if (peek(sc) == '}') {
      fail(sc, sc->pos, "trailing comma before '}'");
      goto fail;
    }
  }
fail:
  cJSON_Delete(obj);
  return NULL;
}

static cJSON *build_literal(struct scan *sc, const char *word, int type,
                            int *oom) {
  if (scan_literal(sc, word)) return NULL;
  cJSON *n = new_node(type);
  if (!n) *oom = 1;
  if (n && type == cJSON_True) n->valueint = 1;
  return n;
}

static cJSON *build_value(struct scan *sc, int depth, int *oom) {
  cJSON *n;
  switch (peek(sc)) {
  case '{':
  case '[':
    if (depth >= MAX_DEPTH) {
      fail(sc, sc->pos, "nested deeper than 1000 levels");
      return NULL;
    }
    return peek(sc) == '{' ? build_object(sc, depth + 1, oom)
                           : build_array(sc, depth + 1, oom);
  case '"': {
    char *str = build_string(sc, oom);
    if (!str) return NULL;
    if (!(n = new_node(cJSON_String))) {
      cJSON_free(str);
      *oom = 1;
      return NULL;
    }
    n->valuestring = str;
    return n;
  }
  case 't': return build_literal(sc, "true", cJSON_True, oom);
  case 'f': return build_literal(sc, "false", cJSON_False, oom);
  case 'n': return build_literal(sc, "null", cJSON_NULL, oom);
  case '-':
  case '0':
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
  case '7':
  case '8':
  case '9': {
    size_t at = sc->pos;
    n = build_number(sc);
    if (!n && sc->pos != at && !sc->msg[0]) *oom = 1;
    return n;
  }
  default: fail_unexpected(sc, ""); return NULL;
  }
}

cJSON *json_parse(const char *buf, size_t len, struct json_error *err) {
  return json_parse_ex(buf, len, 0, NULL, err);
}

cJSON *json_parse_ex(const char *buf, size_t len, int level, int *folded,
                     struct json_error *err) {
  struct scan sc = {.s = (const unsigned char *)buf, .len = len};
  int oom = 0, dummy = 0;
  if (!folded) folded = &dummy;
  *folded = 0;
  if (level == 0 && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) sc.pos = 3;
  skip_ws(&sc);
  json_alloc_install();
  json_alloc_begin();
  cJSON *v = build_value(&sc, level, &oom);
  json_alloc_end();
  if (v) {
    skip_ws(&sc);
    if (sc.pos < sc.len) {
      fail(&sc, sc.pos, "trailing characters after the JSON value");
      cJSON_Delete(v);
      v = NULL;
    }
  }
  if (!v) {
    set_error(err, buf, oom ? 0 : sc.err_pos, oom ? "out of memory" : sc.msg);
    return NULL;
  }
  if (sc.maybe_duplicates && fold_tree(v, folded)) {
    cJSON_Delete(v);
    set_error(err, buf, 0, "out of memory");
    return NULL;
  }
  if (sc.maybe_huge) {
    if ((v->type & 0xFF) == cJSON_Number && !isfinite(v->valuedouble)) {
      cJSON_Delete(v);
      v = cJSON_CreateNull();
      if (!v) set_error(err, buf, 0, "out of memory");
      return v;
    }
    null_infinities(v);
  }
  return v;
}
