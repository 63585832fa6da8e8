/* What a client's patch can do to the server: the depth limit on every value
 * a patch builds, the size kept up to date as ops apply (and its limit), the
 * work limit, "changed nothing", long patches through the per-patch index,
 * and the walks (print, copy, compare, diff, merge) at the depth limit. */
#include "check.h"
#include "json.h"
#include "merge.h"
#include "patch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char *text(const cJSON *v) {
  return cJSON_PrintUnformatted(v);
}

static cJSON *parse(const char *s) {
  cJSON *v = json_parse(s, strlen(s), NULL);
  if (!v) fprintf(stderr, "bad JSON in test: %s\n", s);
  return v;
}

static size_t printed(const cJSON *v) {
  size_t n = 0;
  free(json_print_pretty(v, &n));
  return n;
}

/* levels nested arrays ([[...[leaf]...]]) or objects ({"a":{"a":...}}). */
static cJSON *nest(int levels, int objects, cJSON *leaf) {
  cJSON *v = leaf;
  for (int i = 0; i < levels; i++) {
    cJSON *c = objects ? cJSON_CreateObject() : cJSON_CreateArray();
    if (v && objects)
      cJSON_AddItemToObject(c, "a", v);
    else if (v)
      cJSON_AddItemToArray(c, v);
    v = c;
  }
  return v;
}

static int height(const cJSON *v) {
  struct json_stats st;
  json_stats(v, &st);
  return st.height;
}

/* Applies ops (JSON text) to doc with limits and checks the tracked size. */
static int apply_text(cJSON **doc, const char *ops, size_t max_size,
                      struct patch_limits *out) {
  cJSON *o = parse(ops);
  struct patch_limits lim = {.size = json_pretty_size(*doc),
                             .max_size = max_size};
  char err[256] = "";
  int rc = patch_apply_limited(doc, o, &lim, NULL, err, sizeof err);
  CHECK(lim.size == printed(*doc));
  CHECK(rc == PATCH_OK || err[0]);
  if (out) *out = lim;
  cJSON_Delete(o);
  return rc;
}

/* ---- sizes -------------------------------------------------------------- */

static void test_stats(void) {
  static const char *const values[] = {
      "null",
      "true",
      "false",
      "0",
      "-0",
      "1e21",
      "0.1",
      "\"\"",
      "\"a\\\"b\\\\c\\n\\u0001\\u007f\\u00e9\"",
      "[]",
      "{}",
      "[[]]",
      "[1,[2,[3,{}]],{\"a\":[],\"b\":{\"c\":null}}]",
      "{\"2\":1,\"b\":2,\"1\":[true,false],\"x/y~z\":\"\"}",
      "{\"\\u2028\":\"\\ud83d\\ude00\",\"k\":[[],{},[{}]]}"};
  for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
    cJSON *v = parse(values[i]);
    struct json_stats st;
    json_stats(v, &st);
    CHECK(json_pretty_size(v) == printed(v));
    CHECK(st.size + 1 == printed(v));
    /* Printed d levels deep, v takes size + 2 * d * lines bytes: wrap it
     * in d arrays and count the wrappers' own bytes. */
    for (int d = 1; d <= 4; d++) {
      cJSON *w = nest(d, 0, cJSON_Duplicate(v, 1));
      size_t wrappers = 0;
      for (int k = 0; k < d; k++)
        wrappers += 1 + (1 + 2 * (size_t)(k + 1)) + (1 + 2 * (size_t)k) + 1;
      CHECK(printed(w) == wrappers + st.size + 2 * (size_t)d * st.lines + 1);
      cJSON_Delete(w);
    }
    cJSON_Delete(v);
  }
  /* Invalid UTF-8 made by the server prints as U+FFFD: counted the same. */
  cJSON *bad = cJSON_CreateString("a\xff\xc3(b\xed\xa0\x80");
  CHECK(json_pretty_size(bad) == printed(bad));
  CHECK(json_string_size("a\xff") == strlen("\"a\xef\xbf\xbd\""));
  cJSON_Delete(bad);
}

/* ---- depth -------------------------------------------------------------- */

static void test_depth_self_copies(void) {
  /* Each copy puts the state inside itself, one chain
   * deeper than the last, so the depth doubles. */
  cJSON *doc = parse("{\"x\":{}}");
  cJSON *ops = cJSON_CreateArray();
  char *path = strdup("/x");
  for (int i = 0; i < 19; i++) {
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "op", "copy");
    cJSON_AddStringToObject(op, "from", "");
    cJSON_AddStringToObject(op, "path", path);
    cJSON_AddItemToArray(ops, op);
    size_t n = strlen(path);
    path = realloc(path, 2 * n + 1);
    memcpy(path + n, path, n);
    path[2 * n] = '\0';
  }
  free(path);
  char *before = text(doc), err[256] = "";
  cJSON *inv = NULL;
  CHECK(patch_apply(&doc, ops, &inv, err, sizeof err) == PATCH_TOO_LARGE);
  CHECK(strstr(err, "deeper than 1000") != NULL);
  CHECK(inv == NULL);
  char *after = text(doc);
  CHECK_STR(after, before);
  /* The first nine fit (depth 2^9 + 1), so the tenth is the one refused. */
  CHECK(strstr(err, "op 9:") == err);
  free(before), free(after);
  cJSON_Delete(ops);
  cJSON_Delete(doc);
}

static void test_depth_boundaries(void) {
  /* A value of height h put at a path of t tokens: allowed while
   * t + h <= 1000, for add, replace, copy and move alike. */
  for (int extra = 0; extra <= 1; extra++) {
    int h = 999 + extra;
    cJSON *doc = parse("{\"b\":{}}");
    cJSON *ops = cJSON_CreateArray(), *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "op", "add");
    cJSON_AddStringToObject(op, "path", "/a");
    cJSON_AddItemToObject(op, "value", nest(h, extra, NULL));
    cJSON_AddItemToArray(ops, op);
    int rc = patch_apply(&doc, ops, NULL, NULL, 0);
    CHECK(rc == (extra ? PATCH_TOO_LARGE : PATCH_OK));
    CHECK(height(doc) <= JSON_MAX_DEPTH);
    cJSON_Delete(ops);
    cJSON_Delete(doc);
  }
  /* doc: /a holds a chain of height 998, so the document is 999 deep. */
  cJSON *doc = parse("{\"b\":{\"c\":{}}}");
  cJSON_AddItemToObject(doc, "a", nest(998, 1, NULL));
  CHECK(height(doc) == 999);
  static const struct {
    const char *ops;
    int rc;
  } cases[] = {
      /* One level deeper: 1000, the limit. */
      {"[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b/a\"}]", PATCH_OK},
      {"[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b/a\"}]", PATCH_OK},
      /* Two levels deeper: 1001. */
      {"[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b/c/a\"}]",
       PATCH_TOO_LARGE},
      {"[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b/c/a\"}]",
       PATCH_TOO_LARGE},
      {"[{\"op\":\"copy\",\"from\":\"\",\"path\":\"/b/c\"}]", PATCH_TOO_LARGE},
      /* Shallower or as deep: fine. */
      {"[{\"op\":\"move\",\"from\":\"/a/a\",\"path\":\"/z\"}]", PATCH_OK},
      {"[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"\"}]", PATCH_OK},
      {"[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/z\"}]", PATCH_OK},
      /* A move that first goes too deep fails even if a later op would
       * bring the depth back. */
      {"[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b/c/a\"},"
       "{\"op\":\"remove\",\"path\":\"/b/c/a\"}]",
       PATCH_TOO_LARGE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cJSON *d = cJSON_Duplicate(doc, 1);
    char *before = text(d);
    int rc = apply_text(&d, cases[i].ops, 0, NULL);
    CHECK(rc == cases[i].rc);
    if (rc != cases[i].rc) fprintf(stderr, "  case %zu: rc %d\n", i, rc);
    CHECK(height(d) <= JSON_MAX_DEPTH);
    if (rc != PATCH_OK) {
      char *after = text(d);
      CHECK_STR(after, before);
      free(after);
    }
    free(before);
    cJSON_Delete(d);
  }
  cJSON_Delete(doc);
}

/* Every walk over a tree at exactly the depth limit: print, parse back,
 * copy, compare, diff, apply, merge, free. Under AddressSanitizer (larger
 * stack frames) too. */
static void test_walks_at_the_limit(void) {
  for (int objects = 0; objects <= 1; objects++) {
    cJSON *a = nest(JSON_MAX_DEPTH - 1, objects, cJSON_CreateArray());
    CHECK(height(a) == JSON_MAX_DEPTH);
    size_t n;
    char *p = json_print_pretty(a, &n), *c = json_print_compact(a, NULL);
    CHECK(p && c && n == json_pretty_size(a));
    cJSON *back = p ? json_parse(p, n, NULL) : NULL;
    CHECK(back && json_equal(back, a));
    cJSON *b = json_copy_value(a);
    CHECK(json_equal(a, b));
    /* Change the bottom of the copy: the diff is one op 1000 levels down. */
    cJSON *bottom = b;
    while (bottom->child)
      bottom = bottom->child;
    cJSON_AddItemToArray(bottom, cJSON_CreateNumber(1));
    CHECK(!json_equal(a, b));
    cJSON *ops = patch_diff(a, b);
    CHECK(ops && cJSON_GetArraySize(ops) == 1);
    cJSON *x = json_copy_value(a), *inv = NULL;
    CHECK(patch_apply(&x, ops, &inv, NULL, 0) == PATCH_OK);
    CHECK(json_equal(x, b));
    cJSON *m = merge3(a, b, a);
    CHECK(m && json_equal(m, b));
    cJSON_Delete(m);
    m = merge3(a, a, b);
    CHECK(m && json_equal(m, b));
    cJSON_Delete(m);
    /* Both sides changed the bottom: the merge walks all the way down. */
    cJSON *t = json_copy_value(a);
    bottom = t;
    while (bottom->child)
      bottom = bottom->child;
    cJSON_AddItemToArray(bottom, cJSON_CreateNumber(2));
    m = merge3(a, b, t);
    CHECK(m && json_equal(m, t));
    cJSON_Delete(m);
    cJSON_Delete(t);
    free(p), free(c);
    cJSON_Delete(back), cJSON_Delete(ops), cJSON_Delete(inv);
    cJSON_Delete(x), cJSON_Delete(a), cJSON_Delete(b);
  }
  /* The parser's limit is the same number. */
  char deep[2 * JSON_MAX_DEPTH + 3];
  for (int extra = 0; extra <= 1; extra++) {
    int d = JSON_MAX_DEPTH + extra;
    memset(deep, '[', (size_t)d);
    memset(deep + d, ']', (size_t)d);
    cJSON *v = json_parse(deep, 2 * (size_t)d, NULL);
    CHECK((v != NULL) == !extra);
    cJSON_Delete(v);
  }
}

/* ---- size --------------------------------------------------------------- */

static void test_size_limit(void) {
  /* 40 copies of the state into itself: the size doubles each time; with a
   * 1 MiB limit the patch stops as soon as it passes twice that, and
   * nothing is applied. */
  cJSON *doc = parse("{\"a\":\"0123456789\"}");
  cJSON *ops = cJSON_CreateArray();
  for (int i = 0; i < 40; i++) {
    char p[16];
    snprintf(p, sizeof p, "/k%d", i);
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "op", "copy");
    cJSON_AddStringToObject(op, "from", "");
    cJSON_AddStringToObject(op, "path", p);
    cJSON_AddItemToArray(ops, op);
  }
  char *before = text(doc);
  struct patch_limits lim = {.max_size = 1 << 20};
  CHECK(patch_apply_limited(&doc, ops, &lim, NULL, NULL, 0) == PATCH_TOO_LARGE);
  CHECK(lim.hit == PATCH_LIMIT_SIZE || lim.hit == PATCH_LIMIT_WORK);
  CHECK(lim.size == printed(doc) && !lim.changed);
  char *after = text(doc);
  CHECK_STR(after, before);
  free(before), free(after);
  cJSON_Delete(ops);

  /* The result decides: above the limit is refused, though each op alone
   * is small; passing it on the way (new value first, old removed after)
   * is fine. */
  cJSON_Delete(doc);
  doc =
      parse("{\"old\":\"" /* 60 x */
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}");
  size_t limit = printed(doc) + 10;
  const char *grow =
      "[{\"op\":\"add\",\"path\":\"/n\",\"value\":\"yyyyyyyyyyyyyyyyyyyy\"}]";
  const char *swap =
      "[{\"op\":\"add\",\"path\":\"/new\",\"value\":"
      "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"},"
      "{\"op\":\"remove\",\"path\":\"/old\"}]";
  struct patch_limits got;
  CHECK(apply_text(&doc, grow, limit, &got) == PATCH_TOO_LARGE);
  CHECK(got.hit == PATCH_LIMIT_SIZE);
  CHECK(apply_text(&doc, swap, limit, &got) == PATCH_OK);
  CHECK(got.changed && printed(doc) <= limit);
  cJSON_Delete(doc);

  /* Copying the same large value over and over keeps the size flat but
   * costs a copy each time: the work limit refuses it. */
  doc = cJSON_CreateObject();
  char *blob = malloc(100001);
  memset(blob, 'b', 100000);
  blob[100000] = '\0';
  cJSON_AddStringToObject(doc, "a", blob);
  free(blob);
  ops = cJSON_CreateArray();
  for (int i = 0; i < 1000; i++)
    cJSON_AddItemToArray(
        ops, parse("{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}"));
  lim = (struct patch_limits){0};
  CHECK(patch_apply_limited(&doc, ops, &lim, NULL, NULL, 0) == PATCH_TOO_LARGE);
  CHECK(lim.hit == PATCH_LIMIT_WORK);
  CHECK(cJSON_GetObjectItem(doc, "b") == NULL);
  cJSON_Delete(ops);
  cJSON_Delete(doc);
}

/* The tracked size equals the printed size after every kind of op, at
 * every depth, in objects and arrays, first and only members included. */
static void test_size_tracking(void) {
  static const char *const patches[] = {
      "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":{\"k\":[1,2]}}]",
      "[{\"op\":\"add\",\"path\":\"/e/0\",\"value\":1}]",
      "[{\"op\":\"add\",\"path\":\"/o/n\",\"value\":\"x~y\"}]",
      "[{\"op\":\"remove\",\"path\":\"/a/0\"}]",
      "[{\"op\":\"remove\",\"path\":\"/s/only\"}]",
      "[{\"op\":\"replace\",\"path\":\"/o/p\",\"value\":[[],{}]}]",
      "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"z\":1}}]",
      "[{\"op\":\"move\",\"from\":\"/a/1\",\"path\":\"/o/deep\"}]",
      "[{\"op\":\"move\",\"from\":\"/o/p\",\"path\":\"/p\"}]",
      "[{\"op\":\"move\",\"from\":\"/o\",\"path\":\"/e/0\"}]",
      "[{\"op\":\"move\",\"from\":\"/s/only\",\"path\":\"/s/other\"}]",
      "[{\"op\":\"move\",\"from\":\"/o/p\",\"path\":\"/o\"}]",
      "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"\"}]",
      "[{\"op\":\"copy\",\"from\":\"\",\"path\":\"/e/-\"}]",
      "[{\"op\":\"copy\",\"from\":\"/o\",\"path\":\"/s/only\"}]",
      "[{\"op\":\"add\",\"path\":\"/o\",\"value\":\"\\u00e9\\u0001\"}]",
      "[{\"op\":\"test\",\"path\":\"/a/0\",\"value\":1}]",
  };
  for (size_t i = 0; i < sizeof patches / sizeof *patches; i++) {
    cJSON *doc = parse("{\"a\":[1,[2,3],{\"q\":\"r\"}],\"e\":[],"
                       "\"o\":{\"p\":{\"x\":[true]},\"1\":null},"
                       "\"s\":{\"only\":1}}");
    struct patch_limits got;
    int rc = apply_text(&doc, patches[i], 0, &got);
    CHECK(rc == PATCH_OK);
    if (rc != PATCH_OK) fprintf(stderr, "  patch %zu\n", i);
    cJSON_Delete(doc);
  }
}

/* ---- changed nothing ---------------------------------------------------- */

static void test_changed(void) {
  static const struct {
    const char *ops;
    int changed;
  } cases[] = {
      {"[{\"op\":\"test\",\"path\":\"/a\",\"value\":1}]", 0},
      {"[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}]", 0},
      {"[{\"op\":\"replace\",\"path\":\"/o\",\"value\":{\"x\":1,\"y\":2}}]", 0},
      /* Another key order prints differently: a change. */
      {"[{\"op\":\"replace\",\"path\":\"/o\",\"value\":{\"y\":2,\"x\":1}}]", 1},
      {"[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"a\":1,\"l\":[1,2],"
       "\"o\":{\"x\":1,\"y\":2},\"c\":1}}]",
       0},
      {"[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]", 0},
      {"[{\"op\":\"move\",\"from\":\"/l\",\"path\":\"/l\"}]", 0},
      {"[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"}]", 0},
      {"[{\"op\":\"replace\",\"path\":\"/l/1\",\"value\":2},"
       "{\"op\":\"test\",\"path\":\"/l\",\"value\":[1,2]}]",
       0},
      {"[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2}]", 1},
      {"[{\"op\":\"add\",\"path\":\"/l/-\",\"value\":2}]", 1},
      {"[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/l/0\"}]", 1},
      {"[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/c\"}]", 1},
      {"[{\"op\":\"remove\",\"path\":\"/c\"}]", 1},
      /* Ops that undo each other still count as a change. */
      {"[{\"op\":\"add\",\"path\":\"/n\",\"value\":1},"
       "{\"op\":\"remove\",\"path\":\"/n\"}]",
       1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cJSON *doc = parse("{\"a\":1,\"l\":[1,2],\"o\":{\"x\":1,\"y\":2},\"c\":1}");
    cJSON *orig = cJSON_Duplicate(doc, 1);
    struct patch_limits got;
    CHECK(apply_text(&doc, cases[i].ops, 0, &got) == PATCH_OK);
    CHECK(got.changed == cases[i].changed);
    if (!got.changed) CHECK(json_equal(doc, orig));
    if (got.changed != cases[i].changed) fprintf(stderr, "  case %zu\n", i);
    cJSON_Delete(orig);
    cJSON_Delete(doc);
  }
}

/* ---- long patches through the index ------------------------------------- */

static uint32_t rng = 12345;
static uint32_t rnd(uint32_t n) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return n ? rng % n : 0;
}

static cJSON *op_json(const char *op, const char *path, const char *from,
                      cJSON *value) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "op", op);
  cJSON_AddStringToObject(o, "path", path);
  if (from) cJSON_AddStringToObject(o, "from", from);
  if (value) cJSON_AddItemToObject(o, "value", value);
  return o;
}

/* A random op that applies to doc (a list /l and a map /m). */
static cJSON *random_op(const cJSON *doc) {
  const cJSON *l = cJSON_GetObjectItem(doc, "l"),
              *m = cJSON_GetObjectItem(doc, "m");
  int n = cJSON_GetArraySize(l), k = cJSON_GetArraySize(m);
  char p[64], f[64];
  switch (rnd(n > 0 ? 12 : 2)) {
  case 0: return op_json("add", "/l/-", NULL, cJSON_CreateNumber(rnd(1000)));
  case 1:
    snprintf(p, sizeof p, "/m/k%u", rnd(3 * (unsigned)k + 10));
    return op_json("add", p, NULL, cJSON_CreateNumber(rnd(1000)));
  case 2:
    snprintf(p, sizeof p, "/l/%u", rnd((unsigned)n + 1));
    return op_json("add", p, NULL, cJSON_CreateNumber(rnd(1000)));
  case 3:
    snprintf(p, sizeof p, "/l/%u", rnd((unsigned)n));
    return op_json("remove", p, NULL, NULL);
  case 4:
    snprintf(p, sizeof p, "/l/%u", rnd((unsigned)n));
    return op_json("replace", p, NULL, cJSON_CreateString("r"));
  case 5:
    snprintf(f, sizeof f, "/l/%u", rnd((unsigned)n));
    snprintf(p, sizeof p, "/l/%u", rnd((unsigned)n));
    return op_json("move", p, f, NULL);
  case 6:
    snprintf(f, sizeof f, "/l/%u", rnd((unsigned)n));
    snprintf(p, sizeof p, "/l/%u", rnd((unsigned)n + 1));
    return op_json("copy", p, f, NULL);
  case 7: {
    int i = (int)rnd((unsigned)n);
    snprintf(p, sizeof p, "/l/%d", i);
    return op_json("test", p, NULL,
                   cJSON_Duplicate(cJSON_GetArrayItem(l, i), 1));
  }
  case 8:
    if (!k) return op_json("add", "/m/first", NULL, cJSON_CreateNull());
    snprintf(p, sizeof p, "/m/%s",
             cJSON_GetArrayItem(m, (int)rnd((unsigned)k))->string);
    return op_json("remove", p, NULL, NULL);
  case 9:
    if (!k) return op_json("add", "/m/first", NULL, cJSON_CreateNull());
    snprintf(f, sizeof f, "/m/%s",
             cJSON_GetArrayItem(m, (int)rnd((unsigned)k))->string);
    snprintf(p, sizeof p, "/l/%u", rnd((unsigned)n + 1));
    return op_json("move", p, f, NULL);
  case 10:
    snprintf(f, sizeof f, "/l/%u", rnd((unsigned)n));
    snprintf(p, sizeof p, "/m/k%u", rnd(3 * (unsigned)k + 10));
    return op_json("move", p, f, NULL);
  default:
    snprintf(p, sizeof p, "/l/%u", rnd((unsigned)n));
    return op_json("replace", p, NULL, cJSON_CreateNumber(rnd(1000)));
  }
}

/* One long patch against the same ops applied one per patch (which never
 * builds an index: a one-op patch only walks). */
static void test_long_patch_matches_one_by_one(void) {
  for (int round = 0; round < 20; round++) {
    cJSON *start = parse("{\"l\":[],\"m\":{}}");
    int n0 = (int)rnd(300);
    for (int i = 0; i < n0; i++)
      cJSON_AddItemToArray(cJSON_GetObjectItem(start, "l"),
                           cJSON_CreateNumber(i));
    cJSON *ref = cJSON_Duplicate(start, 1), *ops = cJSON_CreateArray();
    for (int i = 0, nops = 50 + (int)rnd(1500); i < nops; i++) {
      cJSON *op = random_op(ref), *one = cJSON_CreateArray();
      cJSON_AddItemToArray(one, cJSON_Duplicate(op, 1));
      CHECK(patch_apply(&ref, one, NULL, NULL, 0) == PATCH_OK);
      cJSON_Delete(one);
      cJSON_AddItemToArray(ops, op);
    }
    cJSON *doc = cJSON_Duplicate(start, 1), *inv = NULL;
    struct patch_limits lim = {0};
    CHECK(patch_apply_limited(&doc, ops, &lim, &inv, NULL, 0) == PATCH_OK);
    char *a = text(doc), *b = text(ref);
    CHECK_STR(a, b);
    CHECK(lim.size == printed(doc));
    CHECK(patch_apply(&doc, inv, NULL, NULL, 0) == PATCH_OK);
    CHECK(json_equal(doc, start));
    free(a), free(b);
    cJSON_Delete(inv), cJSON_Delete(ops), cJSON_Delete(doc);
    cJSON_Delete(ref), cJSON_Delete(start);
  }
}

/* Large patches whose results are known, without a one-by-one reference
 * (which would be quadratic). */
static void test_large_patches(void) {
  enum { N = 100000 };
  char p[48];
  /* N appends, with an inverse (which names each index). */
  cJSON *doc = parse("{\"l\":[]}"), *ops = cJSON_CreateArray(), *inv = NULL;
  for (int i = 0; i < N; i++)
    cJSON_AddItemToArray(ops,
                         op_json("add", "/l/-", NULL, cJSON_CreateNumber(i)));
  CHECK(patch_apply(&doc, ops, &inv, NULL, 0) == PATCH_OK);
  cJSON *l = cJSON_GetObjectItem(doc, "l");
  CHECK(cJSON_GetArraySize(l) == N);
  CHECK(cJSON_GetArrayItem(l, N - 1)->valueint == N - 1);
  CHECK_STR(
      cJSON_GetObjectItem(cJSON_GetArrayItem(inv, 0), "path")->valuestring,
      "/l/99999");
  cJSON_Delete(ops), cJSON_Delete(inv);
  /* N replaces in a scattered order. */
  ops = cJSON_CreateArray();
  for (int i = 0; i < N; i++) {
    int k = (int)(((uint64_t)i * 7919) % N);
    snprintf(p, sizeof p, "/l/%d", k);
    cJSON_AddItemToArray(ops,
                         op_json("replace", p, NULL, cJSON_CreateNumber(-k)));
  }
  CHECK(patch_apply(&doc, ops, NULL, NULL, 0) == PATCH_OK);
  l = cJSON_GetObjectItem(doc, "l");
  CHECK(cJSON_GetArrayItem(l, 12345)->valueint == -12345);
  cJSON_Delete(ops);
  /* N/2 inserts in the middle, then N/2 removes there. */
  ops = cJSON_CreateArray();
  for (int i = 0; i < N / 2; i++)
    cJSON_AddItemToArray(
        ops, op_json("add", "/l/50000", NULL, cJSON_CreateString("in")));
  for (int i = 0; i < N / 2; i++)
    cJSON_AddItemToArray(ops, op_json("remove", "/l/50000", NULL, NULL));
  struct patch_limits lim = {0};
  CHECK(patch_apply_limited(&doc, ops, &lim, &inv, NULL, 0) == PATCH_OK);
  l = cJSON_GetObjectItem(doc, "l");
  CHECK(cJSON_GetArraySize(l) == N);
  CHECK(cJSON_GetArrayItem(l, 50000)->valueint == -50000);
  CHECK(lim.size == printed(doc));
  cJSON_Delete(ops), cJSON_Delete(inv);
  /* A map of N keys: add them, replace them in reverse, remove half. */
  cJSON_AddItemToObject(doc, "m", cJSON_CreateObject());
  ops = cJSON_CreateArray();
  for (int i = 0; i < N; i++) {
    snprintf(p, sizeof p, "/m/key%d", i);
    cJSON_AddItemToArray(ops, op_json("add", p, NULL, cJSON_CreateNumber(i)));
  }
  for (int i = N - 1; i >= 0; i--) {
    snprintf(p, sizeof p, "/m/key%d", i);
    cJSON_AddItemToArray(ops,
                         op_json("replace", p, NULL, cJSON_CreateNumber(-i)));
  }
  for (int i = 0; i < N; i += 2) {
    snprintf(p, sizeof p, "/m/key%d", i);
    cJSON_AddItemToArray(ops, op_json("remove", p, NULL, NULL));
  }
  CHECK(patch_apply(&doc, ops, NULL, NULL, 0) == PATCH_OK);
  cJSON *m = cJSON_GetObjectItem(doc, "m");
  CHECK(cJSON_GetArraySize(m) == N / 2);
  CHECK(cJSON_GetObjectItem(m, "key777")->valueint == -777);
  CHECK(cJSON_GetObjectItem(m, "key778") == NULL);
  cJSON_Delete(ops);
  cJSON_Delete(doc);
}

/* ---- diff and equality on large and deep values ------------------------- */

static void test_diff_and_equal(void) {
  enum { K = 20000 };
  cJSON *a = cJSON_CreateObject(), *b = cJSON_CreateObject();
  char key[32];
  for (int i = 0; i < K; i++) {
    snprintf(key, sizeof key, "k%d", i);
    cJSON_AddNumberToObject(a, key, i);
    snprintf(key, sizeof key, "k%d", K - 1 - i);
    cJSON_AddNumberToObject(b, key, K - 1 - i);
  }
  CHECK(json_equal(a, b)); /* key order is no difference */
  cJSON *ops = patch_diff(a, b);
  CHECK(ops && cJSON_GetArraySize(ops) == 0);
  cJSON_Delete(ops);
  cJSON_ReplaceItemInObjectCaseSensitive(b, "k17", cJSON_CreateString("x"));
  cJSON_DeleteItemFromObjectCaseSensitive(b, "k4");
  CHECK(!json_equal(a, b));
  ops = patch_diff(a, b);
  CHECK(ops && cJSON_GetArraySize(ops) == 2);
  cJSON *x = cJSON_Duplicate(a, 1);
  CHECK(patch_apply(&x, ops, NULL, NULL, 0) == PATCH_OK && json_equal(x, b));
  cJSON_Delete(x), cJSON_Delete(ops), cJSON_Delete(a), cJSON_Delete(b);

  /* Arrays nested 900 deep, each level [blob, rest], changed at the bottom:
   * trimming compares are bounded, and the diff still applies. */
  a = cJSON_CreateNull();
  for (int i = 0; i < 900; i++) {
    cJSON *lvl = cJSON_CreateArray();
    cJSON *blob = cJSON_CreateArray();
    for (int j = 0; j < 20; j++)
      cJSON_AddItemToArray(blob, cJSON_CreateNumber(j));
    cJSON_AddItemToArray(lvl, blob);
    cJSON_AddItemToArray(lvl, a);
    a = lvl;
  }
  b = cJSON_Duplicate(a, 1);
  cJSON *bottom = b;
  while (cJSON_GetArrayItem(bottom, 1) &&
         cJSON_IsArray(cJSON_GetArrayItem(bottom, 1)))
    bottom = cJSON_GetArrayItem(bottom, 1);
  cJSON_ReplaceItemInArray(bottom, 1, cJSON_CreateString("changed"));
  ops = patch_diff(a, b);
  CHECK(ops != NULL);
  x = cJSON_Duplicate(a, 1);
  CHECK(patch_apply(&x, ops, NULL, NULL, 0) == PATCH_OK && json_equal(x, b));
  cJSON_Delete(x), cJSON_Delete(ops), cJSON_Delete(a), cJSON_Delete(b);

  /* Equality gives up when its budget is spent. */
  a = parse("[1,2,3,4,5,6,7,8]");
  b = parse("[1,2,3,4,5,6,7,8]");
  size_t budget = 3;
  CHECK(json_equal_within(a, b, &budget) == -1 && budget == 0);
  budget = 100;
  CHECK(json_equal_within(a, b, &budget) == 1 && budget < 100);
  cJSON_Delete(a), cJSON_Delete(b);
}

int main(void) {
  test_stats();
  test_depth_self_copies();
  test_depth_boundaries();
  test_walks_at_the_limit();
  test_size_limit();
  test_size_tracking();
  test_changed();
  test_long_patch_matches_one_by_one();
  test_large_patches();
  test_diff_and_equal();
  return CHECK_DONE();
}
