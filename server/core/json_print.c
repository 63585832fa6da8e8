/* JSON text out, byte for byte as JSON.stringify prints it. Numbers are
 * formatted in json_number.c, text is read in json_parse.c. */
#include "json.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_int.h"

/* One growable buffer for the whole text (json.h's struct json_buf); failed
 * is sticky so the printer can run to the end and check once. */
static int out_grow(struct json_buf *o, size_t need) {
  if (o->failed) return 0;
  size_t cap = o->cap ? o->cap : 4096;
  while (cap - o->len < need) {
    if (cap > SIZE_MAX / 2) {
      o->failed = 1;
      return 0;
    }
    cap *= 2;
  }
  char *p = realloc(o->p, cap);
  if (!p) {
    o->failed = 1;
    return 0;
  }
  o->p = p;
  o->cap = cap;
  return 1;
}

/* Makes room for need more bytes plus the final NUL. */
static inline int out_reserve(struct json_buf *o, size_t need) {
  return o->cap - o->len > need || out_grow(o, need + 1);
}

static inline void out_bytes(struct json_buf *o, const char *s, size_t n) {
  if (!out_reserve(o, n)) return;
  memcpy(o->p + o->len, s, n);
  o->len += n;
}

static inline void out_char(struct json_buf *o, char c) {
  if (!out_reserve(o, 1)) return;
  o->p[o->len++] = c;
}

static void out_indent(struct json_buf *o, int depth) {
  size_t n = 1 + 2 * (size_t)depth;
  if (!out_reserve(o, n)) return;
  o->p[o->len] = '\n';
  memset(o->p + o->len + 1, ' ', n - 1);
  o->len += n;
}

/* For each byte, 0 if JSON.stringify copies it, else the character that
 * follows the backslash ('u' for \u00XX). NUL is marked too: it ends the C
 * string. */
static const char escape_table[128] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u',
    'f', 'r', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 0,   0,   '"', [92] = '\\'};

/* Strings from parsed text are valid UTF-8, but the server also prints
 * strings of its own making (file paths, messages that quote and cut what
 * a client sent). Invalid bytes print as U+FFFD, as JavaScript would show
 * them, so the output is always valid UTF-8: a browser closes a WebSocket
 * whose text frame is not. */
static void out_string(struct json_buf *o, const char *str) {
  const unsigned char *s = (const unsigned char *)(str ? str : "");
  const unsigned char *run = s;
  out_char(o, '"');
  for (;; s++) {
    /* Bytes from 0x80 start a multi-byte sequence (or are stray): they
     * are checked before they are copied. */
    char e = *s < 0x80 ? escape_table[*s] : 'x';
    if (!e) continue;
    if (e == 'x') {
      /* The NUL terminator fails the continuation check, so 4 is safe. */
      int n = json__utf8_length(s, 4);
      if (n > 0) {
        s += n - 1;
        continue;
      }
      out_bytes(o, (const char *)run, (size_t)(s - run));
      out_bytes(o, "\xef\xbf\xbd", 3);
      run = s + 1;
      continue;
    }
    out_bytes(o, (const char *)run, (size_t)(s - run));
    if (!*s) break;
    if (e == 'u') {
      static const char hex[] = "0123456789abcdef";
      char u[6] = {'\\', 'u', '0', '0', hex[*s >> 4], hex[*s & 15]};
      out_bytes(o, u, 6);
    } else {
      char b[2] = {'\\', e};
      out_bytes(o, b, 2);
    }
    run = s + 1;
  }
  out_char(o, '"');
}

size_t json_string_size(const char *str) {
  const unsigned char *s = (const unsigned char *)(str ? str : "");
  size_t n = 2;
  for (; *s; s++) {
    if (*s >= 0x80) {
      int k = json__utf8_length(s, 4);
      n += k > 0 ? (size_t)k : 3;
      if (k > 0) s += k - 1;
      continue;
    }
    char e = escape_table[*s];
    n += !e ? 1 : e == 'u' ? 6 : 2;
  }
  return n;
}

static void out_number(struct json_buf *o, double d) {
  if (!out_reserve(o, 32)) return;
  o->len += (size_t)json_format_number(d, o->p + o->len);
}

static void out_value(struct json_buf *o, const cJSON *v, int depth,
                      int pretty);

static void out_member(struct json_buf *o, const cJSON *c, int depth,
                       int pretty, int is_object, int first) {
  if (!first) out_char(o, ',');
  if (pretty) out_indent(o, depth + 1);
  if (is_object) {
    out_string(o, c->string);
    out_bytes(o, ": ", pretty ? 2 : 1);
  }
  out_value(o, c, depth + 1, pretty);
}

/* Whether key is an array index ("0", "7", "42", up to 2^32 - 2): a
 * JavaScript object lists those keys first, in numeric order. */
static int index_key(const char *key, uint32_t *index) {
  uint64_t n = 0;
  if (!key || !key[0] || (key[0] == '0' && key[1])) return 0;
  for (; *key; key++) {
    if (*key < '0' || *key > '9') return 0;
    n = n * 10 + (uint64_t)(*key - '0');
    if (n >= 4294967295u) return 0;
  }
  *index = (uint32_t)n;
  return 1;
}

static int by_index(const void *a, const void *b) {
  uint32_t x = 0, y = 0; /* always set: only index keys are sorted */
  index_key((*(const cJSON *const *)a)->string, &x);
  index_key((*(const cJSON *const *)b)->string, &y);
  return (x > y) - (x < y);
}

/* Prints the index keys of an object first, as JSON.stringify would.
 * Returns 0 if the object has none, so the plain loop prints it. */
static int out_index_keys_first(struct json_buf *o, const cJSON *v, int depth,
                                int pretty) {
  size_t n = 0;
  uint32_t index;
  for (const cJSON *c = v->child; c; c = c->next)
    if (index_key(c->string, &index)) n++;
  if (n == 0) return 0;
  const cJSON **keys = malloc(n * sizeof *keys);
  if (!keys) {
    o->failed = 1;
    return 1;
  }
  n = 0;
  for (const cJSON *c = v->child; c; c = c->next)
    if (index_key(c->string, &index)) keys[n++] = c;
  qsort(keys, n, sizeof *keys, by_index);
  for (size_t i = 0; i < n; i++)
    out_member(o, keys[i], depth, pretty, 1, i == 0);
  free(keys);
  for (const cJSON *c = v->child; c; c = c->next)
    if (!index_key(c->string, &index)) out_member(o, c, depth, pretty, 1, 0);
  return 1;
}

static void out_container(struct json_buf *o, const cJSON *v, int depth,
                          int pretty, int is_object) {
  const cJSON *c = v->child;
  if (!c) {
    out_bytes(o, is_object ? "{}" : "[]", 2);
    return;
  }
  out_char(o, is_object ? '{' : '[');
  if (!is_object || !out_index_keys_first(o, v, depth, pretty))
    for (; c; c = c->next)
      out_member(o, c, depth, pretty, is_object, c == v->child);
  if (pretty) out_indent(o, depth);
  out_char(o, is_object ? '}' : ']');
}

static void out_value(struct json_buf *o, const cJSON *v, int depth,
                      int pretty) {
  switch (v->type & 0xFF) {
  case cJSON_False: out_bytes(o, "false", 5); break;
  case cJSON_True: out_bytes(o, "true", 4); break;
  case cJSON_Number: out_number(o, v->valuedouble); break;
  case cJSON_String: out_string(o, v->valuestring); break;
  case cJSON_Raw:
    if (v->valuestring)
      out_bytes(o, v->valuestring, strlen(v->valuestring));
    else
      out_bytes(o, "null", 4);
    break;
  case cJSON_Array: out_container(o, v, depth, pretty, 0); break;
  case cJSON_Object: out_container(o, v, depth, pretty, 1); break;
  default: out_bytes(o, "null", 4); break;
  }
}

static char *print(const cJSON *v, size_t *len, int pretty) {
  struct json_buf o = {0};
  if (v)
    out_value(&o, v, 0, pretty);
  else
    out_bytes(&o, "null", 4);
  if (pretty) out_char(&o, '\n');
  if (!out_reserve(&o, 0)) o.failed = 1;
  if (o.failed) {
    free(o.p);
    return NULL;
  }
  o.p[o.len] = '\0';
  if (len) *len = o.len;
  return o.p;
}

char *json_print_pretty(const cJSON *v, size_t *len) {
  return print(v, len, 1);
}

char *json_print_compact(const cJSON *v, size_t *len) {
  return print(v, len, 0);
}

/* ---- messages built piece by piece -------------------------------------- */

void json_buf_init(struct json_buf *b, size_t cap) {
  memset(b, 0, sizeof *b);
  if (cap && (b->p = malloc(cap))) b->cap = cap;
}

void json_buf_raw(struct json_buf *b, const char *s, size_t n) {
  out_bytes(b, s, n);
}

void json_buf_str(struct json_buf *b, const char *s) {
  out_string(b, s);
}

void json_buf_num(struct json_buf *b, double d) {
  out_number(b, d);
}

void json_buf_value(struct json_buf *b, const cJSON *v) {
  if (v)
    out_value(b, v, 0, 0);
  else
    out_bytes(b, "null", 4);
}

char *json_buf_finish(struct json_buf *b, size_t *len) {
  if (!out_reserve(b, 0)) b->failed = 1;
  if (b->failed) {
    free(b->p);
    b->p = NULL;
    return NULL;
  }
  b->p[b->len] = '\0';
  if (len) *len = b->len;
  return b->p;
}
