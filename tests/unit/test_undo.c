/* undo_compute (undo.h): an earlier version undone while every later
 * change stays; the conflicts that refuse it (a later change to the same
 * value, an ancestor or a descendant; an append that a later change
 * edited; an array without ids that both sides changed); several versions
 * at once; versions the history no longer holds. */
#include "check.h"
#include "json.h"
#include "patch.h"
#include "store.h"
#include "undo.h"

static cJSON *parse(const char *s) {
  cJSON *v = json_parse(s, strlen(s), NULL);
  if (!v) fprintf(stderr, "bad JSON in test: %s\n", s);
  return v;
}

/* A state "t" at version 1 with value v0, then one version per patch. */
static struct state *bed(struct store *st, const char *v0,
                         const char *const *patches, int n) {
  store_init(st, 100, 0, 0);
  struct state *s = store_add(st, "t", "/t.json");
  cJSON *ops = NULL;
  CHECK(store_replace(s, parse(v0), "file", &ops) == 0);
  cJSON_Delete(ops);
  for (int i = 0; i < n; i++) {
    cJSON *p = parse(patches[i]);
    bool changed = false;
    CHECK(store_apply(s, p, i % 2 ? "client:c1" : "api", &changed, NULL, 0) ==
          PATCH_OK);
    CHECK(changed);
    cJSON_Delete(p);
  }
  return s;
}

static int value_is(const cJSON *v, const char *want) {
  cJSON *w = parse(want);
  int eq = json_equal(v, w);
  if (!eq) {
    char *got = cJSON_PrintUnformatted(v);
    fprintf(stderr, "got  %s\nwant %s\n", got ? got : "(null)", want);
    free(got);
  }
  cJSON_Delete(w);
  return eq;
}

#define ITEMS                                                                  \
  "{\"items\":[{\"id\":1,\"t\":\"milk\",\"done\":false},{\"id\":2,\"t\":"      \
  "\"eggs\",\"done\":false}]}"

static void test_keeps_later_changes(void) {
  /* v2: the agent appends bread; v3: the user ticks milk; v4: the user
   * removes eggs. Undoing v2 removes bread and keeps the tick and the
   * removal. */
  const char *p[] = {
      ("[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":{\"id\":3,\"t\":"
       "\"bread\",\"done\":false}}]"),
      "[{\"op\":\"replace\",\"path\":\"/items/0/done\",\"value\":true}]",
      "[{\"op\":\"remove\",\"path\":\"/items/1\"}]",
  };
  struct store st;
  struct state *s = bed(&st, ITEMS, p, 3);
  struct undo_result r;
  uint64_t v[] = {2};
  CHECK(undo_compute(s, v, 1, &r) == UNDO_OK);
  CHECK(value_is(r.value, "{\"items\":[{\"id\":1,\"t\":\"milk\",\"done\":"
                          "true}]}"));
  undo_result_free(&r);
  /* Undoing the user's tick (v3) keeps bread and the removal. */
  v[0] = 3;
  CHECK(undo_compute(s, v, 1, &r) == UNDO_OK);
  CHECK(value_is(r.value,
                 "{\"items\":[{\"id\":1,\"t\":\"milk\",\"done\":"
                 "false},{\"id\":3,\"t\":\"bread\",\"done\":false}]}"));
  undo_result_free(&r);
  /* Two at once: v2 and v4. */
  uint64_t two[] = {2, 4, 2};
  CHECK(undo_compute(s, two, 3, &r) == UNDO_OK);
  CHECK(r.nversions == 2 && r.versions[0] == 4 && r.versions[1] == 2);
  CHECK(value_is(r.value, "{\"items\":[{\"id\":1,\"t\":\"milk\",\"done\":"
                          "true},{\"id\":2,\"t\":\"eggs\",\"done\":false}]}"));
  undo_result_free(&r);
  store_free(&st);
}

static void test_conflicts(void) {
  /* v2 sets the title, v3 (later) sets it again: v2 cannot be undone. */
  const char *p[] = {
      "[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"B\"}]",
      "[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"C\"}]",
      "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":2}]",
  };
  struct store st;
  struct state *s = bed(&st, "{\"title\":\"A\",\"n\":1}", p, 3);
  struct undo_result r;
  uint64_t v[] = {2};
  CHECK(undo_compute(s, v, 1, &r) == UNDO_CONFLICT);
  CHECK(r.nconflicts == 1);
  CHECK(r.conflicts[0].version == 2 && r.conflicts[0].by == 3);
  CHECK_STR(r.conflicts[0].path, "/title");
  CHECK(!r.value);
  undo_result_free(&r);
  /* Undoing v2 and v3 together is fine: the title goes back to A. */
  uint64_t both[] = {3, 2};
  CHECK(undo_compute(s, both, 2, &r) == UNDO_OK);
  CHECK(value_is(r.value, "{\"title\":\"A\",\"n\":2}"));
  undo_result_free(&r);
  store_free(&st);

  /* An ancestor: v3 replaces the whole object v2 changed a key of. */
  const char *q[] = {
      "[{\"op\":\"replace\",\"path\":\"/o/a\",\"value\":2}]",
      "[{\"op\":\"replace\",\"path\":\"/o\",\"value\":{\"a\":3}}]",
  };
  s = bed(&st, "{\"o\":{\"a\":1}}", q, 2);
  CHECK(undo_compute(s, v, 1, &r) == UNDO_CONFLICT);
  CHECK(r.nconflicts == 1 && r.conflicts[0].by == 3);
  undo_result_free(&r);
  store_free(&st);

  /* An append the user then edited: the append's path is its real index. */
  const char *a[] = {
      ("[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":{\"id\":3,\"t\":"
       "\"bread\",\"done\":false}}]"),
      "[{\"op\":\"replace\",\"path\":\"/items/2/done\",\"value\":true}]",
  };
  s = bed(&st, ITEMS, a, 2);
  CHECK(undo_compute(s, v, 1, &r) == UNDO_CONFLICT);
  CHECK(r.nconflicts == 1 && r.conflicts[0].by == 3);
  CHECK_STR(r.conflicts[0].path, "/items/2");
  undo_result_free(&r);
  store_free(&st);

  /* No ids, and both sides changed the array's length: the merge could
   * not keep both, so it is refused rather than dropping the later one. */
  const char *t[] = {
      "[{\"op\":\"replace\",\"path\":\"/tags/0\",\"value\":\"A\"}]",
      "[{\"op\":\"add\",\"path\":\"/tags/-\",\"value\":\"z\"}]",
  };
  s = bed(&st, "{\"tags\":[\"a\",\"b\"]}", t, 2);
  CHECK(undo_compute(s, v, 1, &r) == UNDO_CONFLICT);
  CHECK(r.nconflicts == 1 && r.conflicts[0].version == 2 &&
        r.conflicts[0].by == 3);
  undo_result_free(&r);
  store_free(&st);
}

static void test_unknown(void) {
  const char *p[] = {"[{\"op\":\"replace\",\"path\":\"/n\",\"value\":2}]"};
  struct store st;
  struct state *s = bed(&st, "{\"n\":1}", p, 1);
  struct undo_result r;
  uint64_t v1[] = {1}, v9[] = {9}, v2[] = {2};
  CHECK(undo_compute(s, v1, 1, &r) == UNDO_UNKNOWN_VERSION && r.bad == 1);
  undo_result_free(&r);
  CHECK(undo_compute(s, v9, 1, &r) == UNDO_UNKNOWN_VERSION && r.bad == 9);
  undo_result_free(&r);
  CHECK(undo_compute(s, v2, 1, &r) == UNDO_OK);
  CHECK(value_is(r.value, "{\"n\":1}"));
  undo_result_free(&r);
  CHECK(undo_paths_overlap("", "/a"));
  CHECK(undo_paths_overlap("/a/b", "/a"));
  CHECK(!undo_paths_overlap("/a", "/ab"));
  CHECK(!undo_paths_overlap("/items/0", "/items/1"));
  store_free(&st);
}

int main(void) {
  test_keeps_later_changes();
  test_conflicts();
  test_unknown();
  printf("undo: %d checks, %d failed\n", check_count, check_failures);
  return check_failures != 0;
}
