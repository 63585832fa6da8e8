/* The store: states added, found and removed by name in their order; the
 * size limit on a state in memory, its tracked size, changes that change
 * nothing, the history ring and its byte budget, values rebuilt from
 * it, and the strict check of a patch against the changes since its base. */
#include "check.h"
#include "json.h"
#include "patch.h"
#include "store.h"
#include "strict.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static cJSON *parse(const char *s) {
  cJSON *v = json_parse(s, strlen(s), NULL);
  if (!v) fprintf(stderr, "bad JSON in test: %s\n", s);
  return v;
}

static int apply(struct state *s, const char *ops, bool *changed) {
  cJSON *o = parse(ops);
  char err[256] = "";
  bool ch = false;
  int rc = store_apply(s, o, "test", &ch, err, sizeof err);
  cJSON_Delete(o);
  if (changed) *changed = ch;
  CHECK(s->size == json_pretty_size(s->current));
  return rc;
}

static struct state *new_state(struct store *st, const char *name,
                               const char *value) {
  struct state *s = store_add(st, name, "/nonexistent/x.json");
  cJSON *ops = NULL;
  CHECK(store_replace(s, parse(value), "file", &ops) == 0);
  cJSON_Delete(ops);
  CHECK(s->version == 1 && s->size == json_pretty_size(s->current));
  return s;
}

static void test_max_state(void) {
  struct store st;
  store_init(&st, 100, 0, 200);
  struct state *s = new_state(&st, "s", "{\"a\":1}");
  char *before = cJSON_PrintUnformatted(s->current);
  char big[512];
  snprintf(big, sizeof big,
           "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2},"
           "{\"op\":\"add\",\"path\":\"/big\",\"value\":\"%0300d\"}]",
           0);
  cJSON *o = parse(big);
  char err[256] = "";
  bool changed = true;
  CHECK(store_apply(s, o, "test", &changed, err, sizeof err) ==
        PATCH_TOO_LARGE);
  CHECK(strstr(err, "--max-state") != NULL);
  CHECK(!changed && s->version == 1 && s->hist_len == 0);
  char *after = cJSON_PrintUnformatted(s->current);
  CHECK_STR(after, before);
  free(after);
  cJSON_Delete(o);
  /* Within it: applied. */
  CHECK(apply(s, "[{\"op\":\"add\",\"path\":\"/b\",\"value\":\"0123456789\"}]",
              &changed) == PATCH_OK);
  CHECK(changed && s->version == 2 && s->size <= 200);
  /* A whole new value over the limit (a set, a merge, a created state) is
   * refused too; the value is freed and the state unchanged. */
  cJSON *ops = NULL;
  char *v = malloc(400);
  snprintf(v, 400, "{\"x\":\"%0300d\"}", 7);
  CHECK(store_replace(s, parse(v), "file", &ops) == PATCH_TOO_LARGE);
  CHECK(s->version == 2 && ops == NULL);
  struct state *t = store_add(&st, "t", "/nonexistent/t.json");
  CHECK(store_replace(t, parse(v), "file", &ops) == PATCH_TOO_LARGE);
  CHECK(t->current == NULL && t->version == 0);
  free(v);
  free(before);
  store_free(&st);
}

static void test_nothing_changed(void) {
  struct store st;
  store_init(&st, 100, 0, 0);
  struct state *s = new_state(&st, "s", "{\"a\":1,\"l\":[1,2]}");
  static const char *const noops[] = {
      "[]",
      "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1}]",
      "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}]",
      "[{\"op\":\"add\",\"path\":\"/l\",\"value\":[1,2]}]",
      "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]",
  };
  for (size_t i = 0; i < sizeof noops / sizeof *noops; i++) {
    bool changed = true;
    CHECK(apply(s, noops[i], &changed) == PATCH_OK);
    CHECK(!changed && s->version == 1 && s->hist_len == 0);
  }
  bool changed = false;
  CHECK(apply(s, "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2}]",
              &changed) == PATCH_OK);
  CHECK(changed && s->version == 2 && s->hist_len == 1);
  /* A whole value equal to the current one spends nothing either. */
  cJSON *ops = NULL;
  CHECK(store_replace(s, parse("{\"a\":2,\"l\":[1,2]}"), "file", &ops) == 0);
  CHECK(ops && cJSON_GetArraySize(ops) == 0 && s->version == 2);
  cJSON_Delete(ops);
  store_free(&st);
}

/* A patch of n replaces, as a state of n numbers would get it. */
static cJSON *replaces(int n, int round) {
  cJSON *ops = cJSON_CreateArray();
  for (int i = 0; i < n; i++) {
    char p[32];
    snprintf(p, sizeof p, "/l/%d", i);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", "replace");
    cJSON_AddStringToObject(o, "path", p);
    cJSON_AddNumberToObject(o, "value", round * 1000 + i);
    cJSON_AddItemToArray(ops, o);
  }
  return ops;
}

static size_t held(const struct store *st) {
  size_t n = 0;
  for (const struct state *s = st->head; s; s = s->next)
    for (int i = 0; i < s->hist_len; i++)
      n += store_history(s, i)->bytes;
  return n;
}

static void test_history_bytes(void) {
  struct store st;
  store_init(&st, 1000, 2 << 20, 0);
  char init[4096] = "{\"l\":[";
  for (int i = 0; i < 200; i++)
    snprintf(init + strlen(init), sizeof init - strlen(init), "%s0",
             i ? "," : "");
  strcat(init, "]}");
  struct state *s = new_state(&st, "s", init);
  struct state *u = new_state(&st, "u", init);
  cJSON *values[60] = {0};
  values[1] = cJSON_Duplicate(s->current, 1);
  for (int round = 1; round < 60; round++) {
    cJSON *ops = replaces(200, round);
    bool changed;
    char err[200];
    CHECK(store_apply(round % 3 ? s : u, ops, "test", &changed, err,
                      sizeof err) == PATCH_OK);
    cJSON_Delete(ops);
    if (round % 3) values[s->version] = cJSON_Duplicate(s->current, 1);
    CHECK(st.history_bytes <= st.history_max);
    CHECK(st.history_bytes == held(&st));
  }
  /* Entries were dropped, oldest first and across states: what is held is
   * the newest, and every version held rebuilds exactly. */
  CHECK(s->hist_len > 0 && s->hist_len < (int)s->version - 1);
  uint64_t oldest = store_history(s, 0)->version;
  for (uint64_t v = 1; v <= s->version; v++) {
    cJSON *x = store_value_at(s, v);
    if (v + 1 < oldest) {
      CHECK(x == NULL);
    } else {
      CHECK(x && json_equal(x, values[v]));
    }
    cJSON_Delete(x);
  }
  /* Held: exactly the newest entries of both states together. */
  int count = s->hist_len + u->hist_len;
  uint64_t min = UINT64_MAX;
  for (int i = 0; i < s->hist_len; i++)
    if (store_history(s, i)->seq < min) min = store_history(s, i)->seq;
  for (int i = 0; i < u->hist_len; i++)
    if (store_history(u, i)->seq < min) min = store_history(u, i)->seq;
  CHECK(u->hist_len > 0 && min == st.seq - (uint64_t)count + 1);
  for (int i = 0; i < 60; i++)
    cJSON_Delete(values[i]);
  store_free(&st);
  CHECK(st.history_bytes == 0);

  /* An entry larger than the whole budget is not kept, and takes the
   * older entries with it: they could not reach back past it. */
  store_init(&st, 1000, 256 << 10, 0);
  s = new_state(&st, "s", init);
  bool changed;
  char err[200];
  CHECK(apply(s, "[{\"op\":\"replace\",\"path\":\"/l/0\",\"value\":5}]",
              &changed) == PATCH_OK);
  CHECK(s->hist_len == 1);
  cJSON *ops = replaces(200, 99);
  for (int i = 0; i < 200; i++) {
    cJSON *op = cJSON_GetArrayItem(ops, i);
    char *big = calloc(2000, 1);
    memset(big, 'z', 1999);
    cJSON_ReplaceItemInObject(op, "value", cJSON_CreateString(big));
    free(big);
  }
  CHECK(store_apply(s, ops, "test", &changed, err, sizeof err) == PATCH_OK);
  cJSON_Delete(ops);
  CHECK(changed && s->hist_len == 0);
  cJSON *cur = store_value_at(s, s->version);
  CHECK(cur && json_equal(cur, s->current));
  cJSON_Delete(cur);
  CHECK(store_value_at(s, s->version - 1) == NULL);
  CHECK(st.history_bytes == held(&st));
  store_free(&st);
}

static void test_names_and_order(void) {
  struct store st;
  store_init(&st, 10, 0, 0);
  /* Enough states to grow the index several times. */
  char name[32];
  for (int i = 0; i < 500; i++) {
    snprintf(name, sizeof name, "s%d", i);
    struct state *s = store_add(&st, name, "/x/s.json");
    CHECK(s && s->version == 0 && !s->current && s->status == FILE_ABSENT);
  }
  CHECK(st.nstates == 500);
  for (int i = 0; i < 500; i += 7) {
    snprintf(name, sizeof name, "s%d", i);
    struct state *s = store_find(&st, name);
    CHECK(s && strcmp(s->name, name) == 0);
  }
  CHECK(store_find(&st, "s500") == NULL && store_find(&st, "") == NULL);
  /* Removing keeps the others findable and in the order they were added,
   * the last one included. */
  store_remove(&st, store_find(&st, "s0"));
  store_remove(&st, store_find(&st, "s250"));
  store_remove(&st, store_find(&st, "s499"));
  CHECK(st.nstates == 497);
  CHECK(store_find(&st, "s250") == NULL && store_find(&st, "s251") != NULL);
  CHECK_STR(st.head->name, "s1");
  CHECK_STR(st.tail->name, "s498");
  int n = 0, ordered = 1, prev = 0;
  for (struct state *s = st.head; s; s = s->next, n++) {
    int k = atoi(s->name + 1);
    ordered &= k > prev;
    prev = k;
  }
  CHECK(n == 497 && ordered);
  struct state *again = store_add(&st, "s250", "/x/s.json");
  CHECK(again == store_find(&st, "s250") && st.tail == again);
  store_free(&st);
  CHECK(st.nstates == 0 && st.head == NULL && store_find(&st, "s1") == NULL);
}

static void test_history_ring(void) {
  struct store st;
  store_init(&st, 3, 0, 0);
  struct state *s = new_state(&st, "s", "{\"n\":1}");
  /* The first value is version 1 and not history: nothing to undo to. */
  CHECK(s->hist_len == 0);
  char ops[80];
  for (int v = 2; v <= 6; v++) {
    snprintf(ops, sizeof ops,
             "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":%d}]", v);
    bool changed;
    CHECK(apply(s, ops, &changed) == PATCH_OK && changed);
    CHECK(s->version == (uint64_t)v);
  }
  /* Three entries kept, the newest: versions 4, 5 and 6. */
  CHECK(s->hist_len == 3);
  CHECK(store_history(s, 0)->version == 4 && store_history(s, 2)->version == 6);
  CHECK(store_history(s, 3) == NULL && store_history(s, -1) == NULL);
  CHECK_STR(store_history(s, 2)->origin, "test");
  CHECK(store_history(s, 2)->time_ms > 1.5e12);
  char *inv = cJSON_PrintUnformatted(store_history(s, 2)->inverse);
  CHECK_STR(inv, "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":5}]");
  free(inv);
  /* Versions 3 to 6 can be rebuilt (entry 4 undoes back to 3); older
   * ones, and ones that never were, cannot. */
  for (uint64_t v = 1; v <= 8; v++) {
    cJSON *x = store_value_at(s, v);
    if (v >= 3 && v <= 6) {
      CHECK(x && cJSON_GetObjectItem(x, "n")->valuedouble == (double)v);
    } else {
      CHECK(x == NULL);
    }
    cJSON_Delete(x);
  }
  /* A whole new value is a change like any other: in the history, with
   * an inverse that brings the old one back. */
  cJSON *o = NULL;
  CHECK(store_replace(s, parse("{\"m\":true}"), "file", &o) == 0);
  char *t = cJSON_PrintUnformatted(o);
  CHECK_STR(t, "[{\"op\":\"remove\",\"path\":\"/n\"},{\"op\":\"add\",\"path\":"
               "\"/m\",\"value\":true}]");
  free(t);
  cJSON_Delete(o);
  CHECK(s->version == 7 && store_history(s, 2)->version == 7);
  CHECK_STR(store_history(s, 2)->origin, "file");
  cJSON *back = store_value_at(s, 6);
  CHECK(back && cJSON_GetObjectItem(back, "n")->valuedouble == 6);
  cJSON_Delete(back);
  store_free(&st);
}

/* Applies ops as a change sent by sender. */
static void apply_from(struct state *s, const char *sender, const char *ops) {
  cJSON *o = parse(ops);
  char err[256] = "";
  bool ch = false;
  CHECK(store_apply_from(s, o, sender ? "client" : "file", sender, &ch, err,
                         sizeof err) == PATCH_OK);
  CHECK(ch);
  cJSON_Delete(o);
}

/* The strict check of ops computed from base, sent by sender. */
static int strict(struct state *s, uint64_t base, const char *sender,
                  const char *ops, struct strict_conflict *c) {
  cJSON *o = parse(ops);
  int rc = strict_check(s, base, sender, o, c);
  cJSON_Delete(o);
  return rc;
}

static void test_overlaps(void) {
  CHECK(strict_overlaps("/a", "/a"));
  CHECK(strict_overlaps("/items", "/items/3/done"));
  CHECK(strict_overlaps("/items/3/done", "/items"));
  CHECK(strict_overlaps("", "/x"));
  CHECK(strict_overlaps("/x", ""));
  CHECK(strict_overlaps("/", "/"));
  CHECK(!strict_overlaps("/a", "/ab"));
  CHECK(!strict_overlaps("/ab", "/a"));
  CHECK(!strict_overlaps("/a/b", "/a/c"));
  CHECK(!strict_overlaps("/", "/a")); /* "/" is the key "" */
  CHECK(!strict_overlaps("/a~1b", "/a/b"));
}

static void test_strict(void) {
  struct store st;
  store_init(&st, 10, 0, 0);
  struct state *s = new_state(&st, "s",
                              "{\"count\":0,\"other\":0,\"ab\":0,\"items\":[{"
                              "\"d\":0},{\"d\":0},{\"d\":0}],\"o\":{\"5\":1}}");
  const char *inc = "[{\"op\":\"replace\",\"path\":\"/count\",\"value\":1}]";
  struct strict_conflict c;
  /* Nothing since base: fine. */
  CHECK(strict(s, 1, "c1", inc, &c) == STRICT_OK);
  /* Another sender changed another key, a key with the same prefix, and
   * a sibling: not stale. */
  apply_from(s, "c2", "[{\"op\":\"replace\",\"path\":\"/other\",\"value\":1}]");
  apply_from(s, "c2", "[{\"op\":\"replace\",\"path\":\"/ab\",\"value\":1}]");
  CHECK(s->version == 3);
  CHECK(strict(s, 1, "c1", inc, &c) == STRICT_OK);
  CHECK(strict(s, 1, "c1", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}]",
               &c) == STRICT_OK);
  /* The same path: stale, and the conflict says which version, who and
   * where. */
  apply_from(s, "c2", "[{\"op\":\"replace\",\"path\":\"/count\",\"value\":5}]");
  CHECK(strict(s, 3, "c1", inc, &c) == STRICT_STALE);
  CHECK(c.version == 4);
  CHECK_STR(c.origin, "client");
  CHECK_STR(c.path, "/count");
  /* From the version after it, or as the sender of that change: not. */
  CHECK(strict(s, 4, "c1", inc, &c) == STRICT_OK);
  CHECK(strict(s, 3, "c2", inc, &c) == STRICT_OK);
  /* Without an identity (HTTP), every change since base counts. */
  CHECK(strict(s, 3, NULL, inc, &c) == STRICT_STALE);
  CHECK(strict(s, 3, "", inc, &c) == STRICT_STALE);
  /* Ancestors and descendants overlap, both ways; a test op of the patch
   * counts, a test op of the history does not. */
  apply_from(s, NULL,
             "[{\"op\":\"replace\",\"path\":\"/items/1/d\",\"value\":1}]");
  CHECK(strict(s, 4, "c1",
               "[{\"op\":\"replace\",\"path\":\"/items/1\",\"value\":{}}]",
               &c) == STRICT_STALE);
  CHECK(strict(s, 4, "c1",
               "[{\"op\":\"test\",\"path\":\"/items/1/d/x\",\"value\":0}]",
               &c) == STRICT_STALE);
  CHECK(strict(s, 4, "c1",
               "[{\"op\":\"replace\",\"path\":\"/items/2/d\",\"value\":1}]",
               &c) == STRICT_OK);
  CHECK(strict(s, 4, "c1",
               "[{\"op\":\"move\",\"from\":\"/items/1/d\",\"path\":\"/z\"}]",
               &c) == STRICT_STALE);
  CHECK(strict(s, 4, "c1", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{}}]",
               &c) == STRICT_STALE);
  apply_from(s, NULL,
             "[{\"op\":\"test\",\"path\":\"/"
             "count\",\"value\":5},{\"op\":\"replace\",\"path\":\"/"
             "other\",\"value\":2}]");
  CHECK(strict(s, 5, "c1", inc, &c) == STRICT_OK);
  /* Removing an array element shifts every later index: those overlap,
   * earlier ones and appends do not. */
  apply_from(s, NULL, "[{\"op\":\"remove\",\"path\":\"/items/1\"}]");
  CHECK(s->version == 7);
  CHECK(strict(s, 6, "c1",
               "[{\"op\":\"replace\",\"path\":\"/items/1/d\",\"value\":1}]",
               &c) == STRICT_STALE);
  CHECK(strict(s, 6, "c1", "[{\"op\":\"remove\",\"path\":\"/items/5\"}]", &c) ==
        STRICT_STALE);
  CHECK(strict(s, 6, "c1",
               "[{\"op\":\"replace\",\"path\":\"/items/0/d\",\"value\":1}]",
               &c) == STRICT_OK);
  CHECK(strict(s, 6, "c1",
               "[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":1}]",
               &c) == STRICT_OK);
  /* An append by another does not shift anything. */
  apply_from(s, NULL, "[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":{}}]");
  CHECK(strict(s, 7, "c1",
               "[{\"op\":\"replace\",\"path\":\"/items/1/d\",\"value\":1}]",
               &c) == STRICT_OK);
  /* Keys that look like indices are escaped the same in both paths. */
  apply_from(s, NULL, "[{\"op\":\"replace\",\"path\":\"/o/5\",\"value\":2}]");
  CHECK(strict(s, 8, "c1",
               "[{\"op\":\"replace\",\"path\":\"/o/5\",\"value\":3}]",
               &c) == STRICT_STALE);
  CHECK(strict(s, 8, "c1", "[{\"op\":\"add\",\"path\":\"/o/50\",\"value\":3}]",
               &c) == STRICT_OK);
  /* A base the history no longer reaches, or one from the future: the
   * check cannot vouch for it. The ring holds versions 2 to 9 here. */
  CHECK(strict(s, 1, "c1", "[{\"op\":\"add\",\"path\":\"/new\",\"value\":1}]",
               &c) == STRICT_OK);
  for (int i = 0; i < 10; i++)
    apply_from(s, NULL,
               "[{\"op\":\"replace\",\"path\":\"/"
               "other\",\"value\":3},{\"op\":\"replace\",\"path\":\"/"
               "other\",\"value\":4}]");
  CHECK(s->version == 19 && store_history(s, 0)->version == 10);
  CHECK(strict(s, 9, "c1", inc, &c) == STRICT_OK);
  CHECK(strict(s, 8, "c1", inc, &c) == STRICT_UNKNOWN);
  CHECK(strict(s, 20, "c1", inc, &c) == STRICT_UNKNOWN);
  CHECK(strict(s, 19, "c1", inc, &c) == STRICT_OK);
  store_free(&st);
}

/* A long patch against a long history of changes elsewhere (100,000 x
 * 1,000 pairs of paths, if they were compared pair by pair): the one
 * overlap is found. */
static void test_strict_linear(void) {
  struct store st;
  store_init(&st, 1000, 0, 0);
  struct state *s = new_state(&st, "s", "{\"a\":{},\"b\":{}}");
  char buf[200];
  for (int v = 0; v < 999; v++) {
    snprintf(buf, sizeof buf,
             "[{\"op\":\"add\",\"path\":\"/b/k%d\",\"value\":%d}]", v, v);
    apply_from(s, "c2", buf);
  }
  cJSON *ops = cJSON_CreateArray();
  for (int i = 0; i < 100000; i++) {
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "op", "add");
    snprintf(buf, sizeof buf, "/a/k%d", i);
    cJSON_AddStringToObject(op, "path", buf);
    cJSON_AddNumberToObject(op, "value", i);
    cJSON_AddItemToArray(ops, op);
  }
  CHECK(strict_check(s, 1, "c1", ops, NULL) == STRICT_OK);
  cJSON *op = cJSON_CreateObject();
  cJSON_AddStringToObject(op, "op", "remove");
  cJSON_AddStringToObject(op, "path", "/b/k500");
  cJSON_AddItemToArray(ops, op);
  struct strict_conflict c;
  CHECK(strict_check(s, 1, "c1", ops, &c) == STRICT_STALE);
  CHECK(c.version == 502);
  cJSON_Delete(ops);
  store_free(&st);
}

int main(void) {
  test_names_and_order();
  test_history_ring();
  test_max_state();
  test_nothing_changed();
  test_history_bytes();
  test_overlaps();
  test_strict();
  test_strict_linear();
  return CHECK_DONE();
}
