/* Shared helpers of the fuzz targets: a byte reader that turns fuzzer input
 * into decisions, a generator of JSON values and patch operations, and a
 * check macro that aborts (so libFuzzer records the input as a crash). */
#ifndef MS_FUZZ_GEN_H
#define MS_FUZZ_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "json.h"
#include "patch.h"

#define FUZZ_CHECK(cond, what)                                             \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "property failed at %s:%d: %s\n", __FILE__,          \
              __LINE__, what);                                             \
      abort();                                                             \
    }                                                                      \
  } while (0)

/* Input bytes consumed as decisions; zeros once exhausted. */
struct bytes {
  const uint8_t *p;
  size_t n;
};

static inline unsigned take(struct bytes *b) {
  if (!b->n) return 0;
  b->n--;
  return *b->p++;
}

static inline unsigned pick(struct bytes *b, unsigned n) {
  return n ? take(b) % n : 0;
}

static const char *const gen_keys[] = {"a", "b", "id", "items", "done",
                                       "0",  "1", "",   "~",     "x/y",
                                       "-",  "text"};
#define GEN_NKEYS (sizeof gen_keys / sizeof *gen_keys)

/* A small random JSON value, at most depth levels deep. */
static inline cJSON *gen_value(struct bytes *b, int depth) {
  unsigned kind = pick(b, depth > 0 ? 9 : 6);
  switch (kind) {
  case 0: return cJSON_CreateNull();
  case 1: return cJSON_CreateBool(take(b) & 1);
  case 2: return cJSON_CreateNumber((double)(int)(take(b) % 7) - 2);
  case 3: {
    static const double odd[] = {0.1, 1e21, 1e-7, -0.0, 9007199254740993.0,
                                 123456.789, 5e-324, 1.7976931348623157e308};
    return cJSON_CreateNumber(odd[pick(b, 8)]);
  }
  case 4: return cJSON_CreateString(gen_keys[pick(b, GEN_NKEYS)]);
  case 5: {
    static const char *const s[] = {"\xc3\xa9", "line\nbreak", "q\"uote",
                                    "\xf0\x9f\x98\x80", "\x7f", "tab\t"};
    return cJSON_CreateString(s[pick(b, 6)]);
  }
  case 6:
  case 7: {
    cJSON *o = cJSON_CreateObject();
    unsigned n = pick(b, 5);
    for (unsigned i = 0; i < n; i++) {
      const char *k = gen_keys[pick(b, GEN_NKEYS)];
      cJSON *v = gen_value(b, depth - 1);
      /* No duplicate keys: a cJSON tree built by the server never has them. */
      if (cJSON_GetObjectItemCaseSensitive(o, k)) cJSON_Delete(v);
      else cJSON_AddItemToObject(o, k, v);
    }
    return o;
  }
  default: {
    cJSON *a = cJSON_CreateArray();
    unsigned n = pick(b, 5);
    int with_ids = take(b) & 1;
    for (unsigned i = 0; i < n; i++) {
      cJSON *v = gen_value(b, depth - 1);
      if (with_ids && cJSON_IsObject(v) &&
          !cJSON_GetObjectItemCaseSensitive(v, "id"))
        cJSON_AddNumberToObject(v, "id", (double)pick(b, 6));
      cJSON_AddItemToArray(a, v);
    }
    return a;
  }
  }
}

/* A JSON Pointer to some node of doc (often an existing one, sometimes one
 * past the end, "-", or a missing key), written into buf. */
static inline void gen_pointer(struct bytes *b, const cJSON *doc, char *buf,
                        size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  const cJSON *node = doc;
  for (int depth = 0; depth < 6; depth++) {
    unsigned what = pick(b, 8);
    if (what == 0) return; /* stop here */
    char tok[64];
    if (node && cJSON_IsArray(node) && what < 6) {
      int n = cJSON_GetArraySize(node);
      int i = (int)pick(b, (unsigned)n + 2);
      if (i == n + 1) snprintf(tok, sizeof tok, "-");
      else snprintf(tok, sizeof tok, "%d", i);
      node = i < n ? cJSON_GetArrayItem(node, i) : NULL;
    } else if (node && cJSON_IsObject(node) && node->child && what < 6) {
      int n = cJSON_GetArraySize(node);
      const cJSON *c = cJSON_GetArrayItem(node, (int)pick(b, (unsigned)n));
      snprintf(tok, sizeof tok, "%s", c->string);
      node = c;
    } else {
      snprintf(tok, sizeof tok, "%s", gen_keys[pick(b, GEN_NKEYS)]);
      node = NULL;
    }
    /* Escape ~ and / as RFC 6901 says; sometimes leave a bad escape. */
    if (len + 1 >= cap) return;
    buf[len++] = '/';
    for (const char *t = tok; *t && len + 3 < cap; t++) {
      if (*t == '~') { buf[len++] = '~'; buf[len++] = (take(b) % 16) ? '0' : '2'; }
      else if (*t == '/') { buf[len++] = '~'; buf[len++] = '1'; }
      else buf[len++] = *t;
    }
    buf[len] = '\0';
    if (!node) return;
  }
}

/* A patch of up to 6 operations aimed at doc. */
static inline cJSON *gen_ops(struct bytes *b, const cJSON *doc) {
  static const char *const names[] = {"add",  "remove", "replace", "move",
                                      "copy", "test",   "add",     "replace"};
  cJSON *ops = cJSON_CreateArray();
  unsigned n = pick(b, 7);
  for (unsigned i = 0; i < n; i++) {
    cJSON *op = cJSON_CreateObject();
    const char *name = names[pick(b, 8)];
    if (take(b) % 64 == 0) name = "frobnicate";
    cJSON_AddStringToObject(op, "op", name);
    char ptr[256];
    gen_pointer(b, doc, ptr, sizeof ptr);
    cJSON_AddStringToObject(op, "path", ptr);
    if (!strcmp(name, "move") || !strcmp(name, "copy")) {
      gen_pointer(b, doc, ptr, sizeof ptr);
      cJSON_AddStringToObject(op, "from", ptr);
    }
    if (!strcmp(name, "add") || !strcmp(name, "replace") ||
        !strcmp(name, "test")) {
      if (!strcmp(name, "test") && (take(b) & 1)) {
        /* A test that may pass: the value currently there. */
        const cJSON *cur = doc ? ptr_get(doc, ptr) : NULL;
        cJSON_AddItemToObject(op, "value", cur ? cJSON_Duplicate(cur, 1)
                                               : cJSON_CreateNull());
      } else if (take(b) % 32) {
        cJSON_AddItemToObject(op, "value", gen_value(b, 3));
      }
    }
    cJSON_AddItemToArray(ops, op);
  }
  return ops;
}

/* Compact text of v with key order as in the tree, for exact comparisons
 * (json_equal ignores key order). Caller frees. */
static inline char *exact_text(const cJSON *v) {
  return cJSON_PrintUnformatted(v);
}

/* Parses a fuzz input as a JSON array of exactly n values and stores
 * borrowed pointers to them; returns the root (caller frees) or NULL. */
static inline cJSON *parse_tuple(const uint8_t *data, size_t size, int n,
                                 cJSON **out) {
  cJSON *root = json_parse((const char *)data, size, NULL);
  if (!root) return NULL;
  if (!cJSON_IsArray(root) || cJSON_GetArraySize(root) != n) {
    cJSON_Delete(root);
    return NULL;
  }
  for (int i = 0; i < n; i++) out[i] = cJSON_GetArrayItem(root, i);
  return root;
}

#endif
