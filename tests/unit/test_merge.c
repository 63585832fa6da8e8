/* Three-way merge: the shared fixtures (compared as printed text, so key
 * and item order count), untouched inputs, and randomized properties. */
#include "check.h"
#include "json.h"
#include "merge.h"
#include "patch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CASES "tests/fixtures/merge/cases.json"

static char *print(const cJSON *v) {
  return v ? cJSON_PrintUnformatted(v) : NULL;
}

static cJSON *parse(const char *text) {
  return cJSON_Parse(text);
}

/* Merges, checks the printed result, and checks that no input changed. */
static void check_merge(const cJSON *base, const cJSON *ours,
                        const cJSON *theirs, const char *want) {
  char *b0 = print(base), *o0 = print(ours), *t0 = print(theirs);
  cJSON *r = merge3(base, ours, theirs);
  char *got = print(r);
  CHECK_STR(got, want);
  CHECK(r != ours && r != theirs && r != base);
  CHECK(r && r->string == NULL);
  cJSON_Delete(r);
  char *b1 = print(base), *o1 = print(ours), *t1 = print(theirs);
  if (base) CHECK_STR(b1, b0);
  CHECK_STR(o1, o0);
  CHECK_STR(t1, t0);
  free(got), free(b0), free(o0), free(t0), free(b1), free(o1), free(t1);
}

static void test_fixtures(void) {
  cJSON *all = check_load_json(CASES);
  CHECK(cJSON_IsArray(all));
  int n = 0;
  for (const cJSON *c = all ? all->child : NULL; c; c = c->next, n++) {
    int failures = check_failures;
    char *want = print(cJSON_GetObjectItemCaseSensitive(c, "expected"));
    check_merge(cJSON_GetObjectItemCaseSensitive(c, "base"),
                cJSON_GetObjectItemCaseSensitive(c, "ours"),
                cJSON_GetObjectItemCaseSensitive(c, "theirs"), want);
    free(want);
    if (check_failures != failures)
      fprintf(stderr, "  in case: %s\n",
              cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring);
  }
  cJSON_Delete(all);
  printf("merge fixtures: %d cases\n", n);
}

static void test_null_base(void) {
  cJSON *o = parse("{\"a\":1,\"o\":true}"), *t = parse("{\"a\":2}");
  check_merge(NULL, o, t, "{\"a\":2}");
  cJSON_Delete(o), cJSON_Delete(t);
}

/* ---- randomized properties ---- */

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static unsigned below(unsigned n) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (unsigned)((rng_state >> 33) % n);
}

static cJSON *rand_value(int depth) {
  static const char *const keys[] = {"a", "b", "c", "id", "done", "x/y"};
  unsigned kind = below(depth >= 3 ? 4 : 7);
  if (kind == 0) return cJSON_CreateNull();
  if (kind == 1) return cJSON_CreateBool(below(2));
  if (kind == 2) return cJSON_CreateNumber(below(5));
  if (kind == 3) return cJSON_CreateString(below(2) ? "s" : "t");
  if (kind == 4 || kind == 5) {
    cJSON *o = cJSON_CreateObject();
    for (unsigned n = below(5); n > 0; n--) {
      const char *k = keys[below(6)];
      if (!cJSON_GetObjectItemCaseSensitive(o, k))
        cJSON_AddItemToObject(o, k, rand_value(depth + 1));
    }
    return o;
  }
  cJSON *a = cJSON_CreateArray();
  int with_ids = below(2);
  for (unsigned n = below(5); n > 0; n--) {
    cJSON *item = rand_value(depth + 1);
    if (with_ids) {
      cJSON_Delete(item);
      item = cJSON_CreateObject();
      cJSON_AddNumberToObject(item, "id", below(8));
      cJSON_AddItemToObject(item, "v", rand_value(depth + 1));
    }
    cJSON_AddItemToArray(a, item);
  }
  return a;
}

static void check_same(const cJSON *got, const cJSON *want) {
  char *g = print(got), *w = print(want);
  CHECK_STR(g, w);
  free(g), free(w);
}

/* With one side unchanged the result is the other side exactly; with both
 * sides alike it equals them; edits to different keys of an object both
 * survive. */
static void test_random(void) {
  int iterations = 3000;
  for (int it = 0; it < iterations; it++) {
    int failures = check_failures;
    cJSON *b = rand_value(0), *x = rand_value(0), *r;
    check_same(r = merge3(b, x, b), x);
    cJSON_Delete(r);
    check_same(r = merge3(b, b, x), x);
    cJSON_Delete(r);
    r = merge3(b, x, x);
    CHECK(json_equal(r, x));
    cJSON_Delete(r);

    cJSON *base = cJSON_CreateObject();
    cJSON_AddItemToObject(base, "p", cJSON_Duplicate(b, 1));
    cJSON_AddItemToObject(base, "q", cJSON_Duplicate(b, 1));
    cJSON *ours = cJSON_Duplicate(base, 1), *theirs = cJSON_Duplicate(base, 1);
    cJSON_ReplaceItemInObjectCaseSensitive(ours, "p", cJSON_Duplicate(x, 1));
    cJSON_ReplaceItemInObjectCaseSensitive(theirs, "q", rand_value(1));
    r = merge3(base, ours, theirs);
    CHECK(json_equal(ptr_get(r, "/p"), ptr_get(ours, "/p")));
    CHECK(json_equal(ptr_get(r, "/q"), ptr_get(theirs, "/q")));
    if (check_failures != failures) {
      char *pb = print(b), *px = print(x);
      fprintf(stderr, "  iteration %d\n  b: %s\n  x: %s\n", it, pb, px);
      free(pb), free(px);
    }
    cJSON_Delete(r), cJSON_Delete(base), cJSON_Delete(ours),
        cJSON_Delete(theirs);
    cJSON_Delete(b), cJSON_Delete(x);
  }
  printf("random: %d iterations\n", iterations);
}

int main(void) {
  test_fixtures();
  test_null_base();
  test_random();
  return CHECK_DONE();
}
