/* Tests for json_edit (where a small edit of a JSON text lands), the
 * region parse it relies on (json_parse_ex), patch_diff_at, and the parse
 * arena (json_alloc). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "edit_check.h"
#include "json.h"
#include "json_alloc.h"
#include "json_edit.h"
#include "patch.h"

/* Locates the edit old -> new; checks the region's texts and the path. */
static void expect(const char *old, const char *new, int outer,
                   const char *want_old, const char *want_new,
                   const char *want_path, int want_level) {
  struct json_edit e;
  int rc = json_edit_locate(old, strlen(old), new, strlen(new), outer, &e);
  if (!want_path) {
    CHECK(rc == 0);
    if (rc == 1)
      fprintf(stderr, "  unexpected region for %s -> %s\n", old, new);
    free(e.path);
    return;
  }
  CHECK(rc == 1);
  if (rc != 1) {
    fprintf(stderr, "  no region for %s -> %s\n", old, new);
    return;
  }
  char got_old[256], got_new[256];
  snprintf(got_old, sizeof got_old, "%.*s", (int)(e.old_end - e.start),
           old + e.start);
  snprintf(got_new, sizeof got_new, "%.*s", (int)(e.new_end - e.start),
           new + e.start);
  CHECK_STR(got_old, want_old);
  CHECK_STR(got_new, want_new);
  CHECK_STR(e.path, want_path);
  CHECK(e.level == want_level);
  free(e.path);
}

static void test_locate(void) {
  /* A scalar changed in place, grown, shrunk. */
  expect("{\"a\": 1, \"b\": 2}", "{\"a\": 1, \"b\": 3}", 0, "2", "3", "/b", 1);
  expect("{\"a\": 1, \"b\": 2}", "{\"a\": 1, \"b\": 25}", 0, "2", "25", "/b",
         1);
  expect("{\"a\": 100, \"b\": 2}", "{\"a\": 1000, \"b\": 2}", 0, "100", "1000",
         "/a", 1);
  expect("{\"a\": 123, \"b\": 2}", "{\"a\": 13, \"b\": 2}", 0, "123", "13",
         "/a", 1);
  expect("[\"x\", \"hello\"]", "[\"x\", \"help\"]", 0, "\"hello\"", "\"help\"",
         "/1", 1);
  /* Deep, with keys that need escaping in a pointer. */
  expect("{\"a/b\": {\"~k\": [1, [2, 3]]}}", "{\"a/b\": {\"~k\": [1, [2, 4]]}}",
         0, "3", "4", "/a~1b/~0k/1/1", 4);
  /* An item added after a value: the value first, then its array. */
  expect("[1, 2]", "[1, 2, 3]", 0, "2", "2, 3", "/1", 1);
  expect("{\"l\": [1, 2]}", "{\"l\": [1, 2, 3]}", 1, "[1, 2]", "[1, 2, 3]",
         "/l", 1);
  /* Between members, in a key: the container holding them. */
  expect("{\"o\": {\"a\": 1, \"b\": 2}}", "{\"o\": {\"a\": 1, \"c\": 2}}", 0,
         "{\"a\": 1, \"b\": 2}", "{\"a\": 1, \"c\": 2}", "/o", 1);
  expect("{\"o\": [1,  2]}", "{\"o\": [1, 2]}", 0, "[1,  2]", "[1, 2]", "/o",
         1);
  /* The root itself, whitespace around it, a byte order mark: none. */
  expect("{\"a\": 1}", "{\"a\": 1, \"b\": 2}", 0, "1", "1, \"b\": 2", "/a", 1);
  expect("{\"a\": 1}", "{\"a\": 1, \"b\": 2}", 1, NULL, NULL, NULL, 0);
  expect("{\"a\": 1}", "{\"a\": 1}\n", 0, NULL, NULL, NULL, 0);
  expect("[1]", " [1]", 0, NULL, NULL, NULL, 0);
  expect("\xEF\xBB\xBF[1]", "[1]", 0, NULL, NULL, NULL, 0);
  expect("5", "6", 0, NULL, NULL, NULL, 0);
  expect("[1]", "[1]", 0, NULL, NULL, NULL, 0);
  /* A key with an escape on the way: its bytes are not its text. */
  expect("{\"a\\u0062\": [1]}", "{\"a\\u0062\": [2]}", 0, NULL, NULL, NULL, 0);
  /* Beyond the innermost candidates: none left below the root. */
  expect("[1, 2]", "[1, 2, 3]", 1, NULL, NULL, NULL, 0);
}

static void test_parse_ex(void) {
  /* The level counts against the depth limit as in a whole text. */
  char deep[2100];
  size_t n = 0;
  for (int i = 0; i < 1000; i++)
    deep[n++] = '[';
  for (int i = 0; i < 1000; i++)
    deep[n++] = ']';
  cJSON *v = json_parse_ex(deep, n, 0, NULL, NULL);
  CHECK(v != NULL);
  cJSON_Delete(v);
  struct json_error err;
  v = json_parse_ex(deep, n, 1, NULL, &err);
  CHECK(v == NULL);
  CHECK(err.offset == 999);
  cJSON_Delete(v);
  /* A byte order mark only at the start of a whole text. */
  v = json_parse_ex("\xEF\xBB\xBF"
                    "1",
                    4, 0, NULL, NULL);
  CHECK(v != NULL);
  cJSON_Delete(v);
  v = json_parse_ex("\xEF\xBB\xBF"
                    "1",
                    4, 1, NULL, NULL);
  CHECK(v == NULL);
  /* Folded duplicates are told. */
  int folded = 0;
  v = json_parse_ex("{\"a\": 1, \"a\": 2}", 16, 0, &folded, NULL);
  CHECK(v && folded == 1 && cJSON_GetObjectItem(v, "a")->valuedouble == 2);
  cJSON_Delete(v);
  v = json_parse_ex("{\"a\": 1, \"b\": 2}", 16, 0, &folded, NULL);
  CHECK(v && folded == 0);
  cJSON_Delete(v);
}

static void test_diff_at(void) {
  cJSON *a = json_parse("{\"x\": 1, \"y\": [1, 2]}", 21, NULL);
  cJSON *b = json_parse("{\"x\": 2, \"y\": [1, 2, 3]}", 24, NULL);
  cJSON *ops = patch_diff_at(a, b, "/p/q~1r");
  char *text = json_print_compact(ops, NULL);
  CHECK_STR(text, "[{\"op\":\"replace\",\"path\":\"/p/q~1r/x\",\"value\":2},"
                  "{\"op\":\"add\",\"path\":\"/p/q~1r/y/2\",\"value\":3}]");
  free(text);
  cJSON_Delete(ops);
  ops = patch_diff_at(a, b, "");
  text = json_print_compact(ops, NULL);
  CHECK_STR(text, "[{\"op\":\"replace\",\"path\":\"/x\",\"value\":2},"
                  "{\"op\":\"add\",\"path\":\"/y/2\",\"value\":3}]");
  free(text);
  cJSON_Delete(ops);
  cJSON_Delete(a);
  cJSON_Delete(b);
}

/* ---- the property, on random documents and random edits ---------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return n ? (unsigned)(rng % n) : 0;
}

static cJSON *random_value(int depth) {
  static const char *const keys[] = {"a", "b", "id", "x/y",
                                     "~", "",  "0",  "long key"};
  static const char *const strs[] = {
      "", "s", "q\"uote", "\xc3\xa9", "back\\slash", "line\nbreak", "{[,:]}"};
  switch (rnd(depth > 0 ? 9 : 6)) {
  case 0: return cJSON_CreateNull();
  case 1: return cJSON_CreateBool(rnd(2));
  case 2: return cJSON_CreateNumber((double)rnd(2000) - 1000);
  case 3: return cJSON_CreateNumber((double)rnd(1000) / 7);
  case 4:
  case 5: return cJSON_CreateString(strs[rnd(7)]);
  case 6:
  case 7: {
    cJSON *o = cJSON_CreateObject();
    for (unsigned i = 0, n = rnd(6); i < n; i++) {
      const char *k = keys[rnd(8)];
      if (cJSON_GetObjectItemCaseSensitive(o, k)) continue;
      cJSON_AddItemToObject(o, k, random_value(depth - 1));
    }
    return o;
  }
  default: {
    cJSON *a = cJSON_CreateArray();
    for (unsigned i = 0, n = rnd(6); i < n; i++)
      cJSON_AddItemToArray(a, random_value(depth - 1));
    return a;
  }
  }
}

/* new = old with [at, at + del) replaced by ins. */
static char *splice(const char *old, size_t len, size_t at, size_t del,
                    const char *ins, size_t inslen, size_t *newlen) {
  *newlen = len - del + inslen;
  char *s = malloc(*newlen + 1);
  memcpy(s, old, at);
  memcpy(s + at, ins, inslen);
  memcpy(s + at + inslen, old + at + del, len - at - del);
  s[*newlen] = '\0';
  return s;
}

static void test_property(void) {
  static const char pieces[] = "{}[],:\"\\ 0123456789-.eEtruefalsn\nx";
  static const char *const values[] = {
      "1",      "-2.5",       "\"s\"",      "null",  "true", "[]", "{}",
      "[1, 2]", "{\"k\": 3}", "\"a\\\"b\"", "1e999", "x",    ""};
  int cases = 0, applied_count = 0, failed = 0;
  for (int round = 0; round < 3000; round++) {
    cJSON *doc = random_value(4);
    size_t len;
    char *old = (round & 1) ? json_print_pretty(doc, &len)
                            : json_print_compact(doc, &len);
    cJSON_Delete(doc);
    for (int k = 0; k < 8; k++) {
      size_t at = rnd((unsigned)len + 1), del = rnd(4), newlen;
      if (at + del > len) del = len - at;
      char *new;
      if (k < 4) {
        char ins[4];
        size_t n = rnd(4);
        for (size_t i = 0; i < n; i++)
          ins[i] = pieces[rnd(sizeof pieces - 1)];
        new = splice(old, len, at, del, ins, n, &newlen);
      } else {
        const char *v = values[rnd(sizeof values / sizeof *values)];
        new = splice(old, len, at, del, v, strlen(v), &newlen);
      }
      int applied;
      const char *bad = edit_check(old, len, new, newlen, &applied);
      cases++;
      applied_count += applied;
      if (bad && failed++ < 5)
        fprintf(stderr, "  %s\n  old: %s\n  new: %s\n", bad, old, new);
      CHECK(bad == NULL);
      free(new);
    }
    free(old);
  }
  printf("edit property: %d cases, the fast path applied to %d\n", cases,
         applied_count);
  CHECK(applied_count > cases / 10); /* the test reaches the fast path */
}

/* ---- the parse arena ----------------------------------------------------- */

static void test_arena(void) {
  json_alloc_install();
  int was = json_alloc_set_arena(1);
  struct json_alloc_stats st0, st;
  json_alloc_stats(&st0);
  /* Trees from parses live in chunks; freeing them frees the chunks. */
  cJSON *trees[40];
  char text[4096];
  size_t n = 0;
  n += (size_t)snprintf(text, sizeof text, "[");
  for (int i = 0; i < 200; i++)
    n += (size_t)snprintf(text + n, sizeof text - n, "%s{\"k%d\": \"v%d\"}",
                          i ? "," : "", i, i);
  n += (size_t)snprintf(text + n, sizeof text - n, "]");
  for (int i = 0; i < 40; i++) {
    trees[i] = json_parse(text, n, NULL);
    CHECK(trees[i] != NULL);
  }
  json_alloc_stats(&st);
  CHECK(st.live_blocks >= st0.live_blocks + 40 * 600);
  CHECK(st.chunks >= 2);
  /* A node moved from a parsed tree into a malloc'd one, and the other
   * way, is freed correctly with either tree. */
  cJSON *heap = cJSON_CreateArray();
  cJSON_AddItemToArray(heap, cJSON_DetachItemFromArray(trees[0], 3));
  cJSON_AddItemToArray(trees[1], cJSON_CreateString("from the heap"));
  cJSON *copy = cJSON_Duplicate(trees[2], 1); /* outside a parse: malloc */
  CHECK(json_equal(copy, trees[2]));
  for (int i = 0; i < 40; i++)
    cJSON_Delete(trees[i]);
  CHECK(cJSON_GetArraySize(heap) == 1 &&
        cJSON_GetObjectItem(heap->child, "k3") &&
        strcmp(cJSON_GetObjectItem(heap->child, "k3")->valuestring, "v3") == 0);
  cJSON_Delete(heap);
  cJSON_Delete(copy);
  json_alloc_stats(&st);
  CHECK(st.live_blocks == st0.live_blocks);
  CHECK(st.chunks <= 3); /* the current chunk and the cache */
  json_alloc_trim();
  json_alloc_stats(&st);
  CHECK(st.chunks == 0 || st0.live_blocks > 0);
  /* Long strings go to malloc, and still free through the hook. */
  char *big = malloc(100000);
  memset(big, 'x', 99990);
  memcpy(big, "[\"", 2);
  memcpy(big + 99990, "\"]", 2);
  cJSON *v = json_parse(big, 99992, NULL);
  CHECK(v && strlen(v->child->valuestring) == 99988);
  cJSON_Delete(v);
  free(big);
  json_alloc_set_arena(was);
}

int main(void) {
  test_locate();
  test_parse_ex();
  test_diff_at();
  test_property();
  test_arena();
  return CHECK_DONE();
}
