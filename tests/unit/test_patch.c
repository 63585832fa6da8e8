/* JSON Pointer and JSON Patch: the shared fixtures, atomicity, inverses,
 * a randomized property test and a 10 MB document. */
#include "check.h"
#include "json.h"
#include "patch.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIXTURES "tests/fixtures/patch"

static char *print(const cJSON *v) {
  return cJSON_PrintUnformatted(v);
}

/* A detached copy: a member's copy would otherwise keep its key. */
static cJSON *dup(const cJSON *v) {
  cJSON *d = cJSON_Duplicate(v, 1);
  if (d && d->string) {
    cJSON_free(d->string);
    d->string = NULL;
  }
  return d;
}

static cJSON *parse(const char *text) {
  cJSON *v = cJSON_Parse(text);
  if (!v) fprintf(stderr, "bad JSON in test: %s\n", text);
  return v;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Applies p to a copy of doc and checks the result (or that the copy is
 * byte for byte unchanged after an error), then undoes it with the inverse. */
static void check_apply(const cJSON *doc0, const cJSON *patch,
                        const cJSON *expected, int want_rc) {
  cJSON *doc = dup(doc0), *inv = NULL;
  char *before = print(doc), err[256] = "";
  int rc = patch_apply(&doc, patch, &inv, err, sizeof err);
  CHECK(rc == want_rc);
  CHECK(patch_validate(patch, NULL, 0) ==
        (want_rc == PATCH_INVALID ? PATCH_INVALID : PATCH_OK));
  if (rc != PATCH_OK) {
    char *after = print(doc);
    CHECK_STR(after, before);
    CHECK(err[0] != '\0' && inv == NULL);
    free(after);
  } else {
    if (expected) CHECK(json_equal(doc, expected));
    CHECK(patch_validate(inv, NULL, 0) == PATCH_OK);
    CHECK(patch_apply(&doc, inv, NULL, err, sizeof err) == PATCH_OK);
    CHECK(json_equal(doc, doc0));
  }
  free(before);
  cJSON_Delete(inv);
  cJSON_Delete(doc);
}

static void check_diff(const cJSON *a, const cJSON *b, const cJSON *want) {
  cJSON *ops = patch_diff(a, b), *doc = dup(a), *inv = NULL;
  CHECK(ops && patch_validate(ops, NULL, 0) == PATCH_OK);
  if (want) {
    char *got = print(ops), *w = print(want);
    CHECK_STR(got, w);
    free(got);
    free(w);
  }
  CHECK(patch_apply(&doc, ops, &inv, NULL, 0) == PATCH_OK);
  CHECK(json_equal(doc, b));
  CHECK(patch_apply(&doc, inv, NULL, NULL, 0) == PATCH_OK);
  CHECK(json_equal(doc, a));
  cJSON_Delete(ops);
  cJSON_Delete(inv);
  cJSON_Delete(doc);
}

static void run_case(const char *file, const cJSON *c) {
  int failures = check_failures;
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "a");
  const cJSON *error = cJSON_GetObjectItemCaseSensitive(c, "error");
  if (a) {
    check_diff(a, cJSON_GetObjectItemCaseSensitive(c, "b"),
               cJSON_GetObjectItemCaseSensitive(c, "ops"));
  } else {
    int want = !error                                       ? PATCH_OK
               : strcmp(error->valuestring, "invalid") == 0 ? PATCH_INVALID
                                                            : PATCH_CONFLICT;
    check_apply(cJSON_GetObjectItemCaseSensitive(c, "doc"),
                cJSON_GetObjectItemCaseSensitive(c, "patch"),
                cJSON_GetObjectItemCaseSensitive(c, "expected"), want);
  }
  if (check_failures != failures)
    fprintf(stderr, "  in %s: %s\n", file, name ? name->valuestring : "?");
}

static int is_json(const struct dirent *e) {
  size_t n = strlen(e->d_name);
  return n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

static void test_fixtures(void) {
  struct dirent **list;
  int n = scandir(FIXTURES, &list, is_json, alphasort), cases = 0;
  CHECK(n > 0);
  for (int i = 0; i < n; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", FIXTURES, list[i]->d_name);
    cJSON *all = check_load_json(path);
    CHECK(cJSON_IsArray(all));
    if (!all) fprintf(stderr, "  cannot read %s\n", path);
    for (const cJSON *c = all ? all->child : NULL; c; c = c->next, cases++)
      run_case(list[i]->d_name, c);
    cJSON_Delete(all);
    free(list[i]);
  }
  free(list);
  printf("patch fixtures: %d cases in %d files\n", cases, n);
}

static void test_pointer(void) {
  cJSON *doc =
      parse("{\"foo\":[\"bar\",\"baz\"],\"\":0,\"a/b\":1,\"c%d\":2,\"e^f\":3,"
            "\"g|h\":4,\"i\\\\j\":5,\"k\\\"l\":6,\" \":7,\"m~n\":8}");
  CHECK(ptr_get(doc, "") == doc);
  CHECK(cJSON_IsArray(ptr_get(doc, "/foo")));
  CHECK_STR(ptr_get(doc, "/foo/0")->valuestring, "bar");
  const char *ptrs[] = {"/",     "/a~1b", "/c%d", "/e^f", "/g|h",
                        "/i\\j", "/k\"l", "/ ",   "/m~0n"};
  for (int i = 0; i < 9; i++) {
    cJSON *v = ptr_get(doc, ptrs[i]);
    CHECK(v && v->valuedouble == i);
  }
  CHECK(ptr_get(doc, "/foo/-") == NULL);
  CHECK(ptr_get(doc, "/foo/01") == NULL);
  CHECK(ptr_get(doc, "/foo/2") == NULL);
  CHECK(ptr_get(doc, "/foo/0/x") == NULL);
  CHECK(ptr_get(doc, "/m~n") == NULL);
  CHECK(ptr_get(doc, "foo") == NULL);
  CHECK(ptr_valid("") && ptr_valid("/") && ptr_valid("/~0~1") &&
        ptr_valid("//a"));
  CHECK(!ptr_valid("a") && !ptr_valid("/~") && !ptr_valid("/~2") &&
        !ptr_valid(NULL));
  size_t i = 99;
  CHECK(ptr_index("0", &i) == 0 && i == 0);
  CHECK(ptr_index("120", &i) == 0 && i == 120);
  CHECK(ptr_index("01", &i) < 0 && ptr_index("-", &i) < 0 &&
        ptr_index("", &i) < 0);
  CHECK(ptr_index("1e3", &i) < 0 && ptr_index("99999999999999999999", &i) < 0);
  struct ptr_buf b = {0};
  CHECK(ptr_push(&b, "a/b") == 0 && ptr_push(&b, "~") == 0 &&
        ptr_push_index(&b, 12) == 0);
  CHECK_STR(b.s, "/a~1b/~0/12");
  ptr_truncate(&b, 5);
  CHECK_STR(b.s, "/a~1b");
  free(b.s);
  cJSON_Delete(doc);
}

static void test_messages(void) {
  char err[128];
  cJSON *p =
      parse("[{\"op\":\"add\",\"path\":\"/a\",\"value\":1},{\"op\":\"remove\","
            "\"path\":\"/a\"},{\"op\":\"frobnicate\",\"path\":\"/x\"}]");
  CHECK(patch_validate(p, err, sizeof err) == PATCH_INVALID);
  CHECK_STR(err, "op 2: unknown op \"frobnicate\"");
  cJSON_Delete(p);
  p = parse("[{\"op\":\"add\",\"path\":\"/a\"}]");
  CHECK(patch_validate(p, err, sizeof err) == PATCH_INVALID);
  CHECK_STR(err, "op 0: add needs a \"value\"");
  cJSON_Delete(p);
  p = parse("[{\"op\":\"test\",\"path\":\"/"
            "a\",\"value\":1},{\"op\":\"remove\",\"path\":\"/b\"}]");
  cJSON *doc = parse("{\"a\":1}");
  CHECK(patch_apply(&doc, p, NULL, err, sizeof err) == PATCH_CONFLICT);
  CHECK_STR(err, "op 1: path \"/b\" not found");
  cJSON_Delete(p);
  cJSON_Delete(doc);
}

/* Each patch changes the document in many ways, then fails on its last op:
 * the document must print exactly as before, key order included. */
static void test_atomic(void) {
  const char *doc_text = "{\"a\":1,\"b\":{\"x\":[1,2,3],\"y\":\"s\"},\"c\":[{"
                         "\"id\":1},{\"id\":2}],\"d\":null,\"e\":\"z\"}";
  const char *patches[] = {
      "[{\"op\":\"remove\",\"path\":\"/b\"},{\"op\":\"test\",\"path\":\"/"
      "a\",\"value\":2}]",
      "[{\"op\":\"remove\",\"path\":\"/a\"},{\"op\":\"add\",\"path\":\"/"
      "a\",\"value\":1},"
      "{\"op\":\"remove\",\"path\":\"/nope\"}]",
      "[{\"op\":\"replace\",\"path\":\"/b/"
      "y\",\"value\":[]},{\"op\":\"add\",\"path\":\"/b/x/1\",\"value\":9},"
      "{\"op\":\"move\",\"from\":\"/c/0\",\"path\":\"/b/x/"
      "-\"},{\"op\":\"copy\",\"from\":\"/b\",\"path\":\"/c/0\"},"
      "{\"op\":\"add\",\"path\":\"/b/x/99\",\"value\":0}]",
      "[{\"op\":\"move\",\"from\":\"/e\",\"path\":\"/"
      "a\"},{\"op\":\"move\",\"from\":\"/b/x\",\"path\":\"/b\"},"
      "{\"op\":\"replace\",\"path\":\"\",\"value\":{\"new\":true}},{\"op\":"
      "\"add\",\"path\":\"/new2\",\"value\":1},"
      "{\"op\":\"test\",\"path\":\"/new\",\"value\":false}]",
      "[{\"op\":\"move\",\"from\":\"/"
      "b\",\"path\":\"\"},{\"op\":\"add\",\"path\":\"/q\",\"value\":1},"
      "{\"op\":\"remove\",\"path\":\"/x/5\"}]",
      "[{\"op\":\"add\",\"path\":\"/"
      "b\",\"value\":0},{\"op\":\"add\",\"path\":\"/d\",\"value\":{}},"
      "{\"op\":\"add\",\"path\":\"/d/"
      "k\",\"value\":1},{\"op\":\"remove\",\"path\":\"/d\"},"
      "{\"op\":\"remove\",\"path\":\"/c/1\"},{\"op\":\"remove\",\"path\":\"/c/"
      "0\"},"
      "{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b\"}]",
  };
  for (size_t i = 0; i < sizeof patches / sizeof *patches; i++) {
    cJSON *doc = parse(doc_text), *p = parse(patches[i]), *inv = NULL;
    int rc = patch_apply(&doc, p, &inv, NULL, 0);
    CHECK(rc == PATCH_CONFLICT && inv == NULL);
    char *after = print(doc);
    CHECK_STR(after, doc_text);
    free(after);
    cJSON_Delete(doc);
    cJSON_Delete(p);
  }
}

static void check_text(const char *doc_text, const char *patch_text,
                       const char *want_doc, const char *want_inverse) {
  cJSON *doc = parse(doc_text), *p = parse(patch_text), *inv = NULL;
  CHECK(patch_apply(&doc, p, &inv, NULL, 0) == PATCH_OK);
  char *d = print(doc), *i = print(inv);
  CHECK_STR(d, want_doc);
  if (want_inverse) CHECK_STR(i, want_inverse);
  free(d);
  free(i);
  cJSON_Delete(doc);
  cJSON_Delete(p);
  cJSON_Delete(inv);
}

/* Replacing keeps a key where it was; the inverse uses concrete indices. */
static void test_order_and_inverse(void) {
  check_text("{\"a\":1,\"b\":2,\"c\":3}",
             "[{\"op\":\"add\",\"path\":\"/b\",\"value\":9}]",
             "{\"a\":1,\"b\":9,\"c\":3}",
             "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]");
  check_text("{\"a\":1,\"b\":2,\"c\":3}",
             "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":[]}]",
             "{\"a\":[],\"b\":2,\"c\":3}",
             "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}]");
  check_text("{\"l\":[1,2]}",
             "[{\"op\":\"add\",\"path\":\"/l/-\",\"value\":3}]",
             "{\"l\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/l/2\"}]");
  check_text("{\"a\":1,\"b\":2}",
             "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b\"}]", "{\"b\":1}",
             "[{\"op\":\"move\",\"path\":\"/a\",\"from\":\"/"
             "b\"},{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]");
  check_text("{\"a\":{\"b\":1}}",
             "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"\"}]", "1",
             "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"a\":{}}},{\"op\":"
             "\"add\",\"path\":\"/a/b\",\"value\":1}]");
  check_text("[1,2,3]",
             "[{\"op\":\"remove\",\"path\":\"/0\"},{\"op\":\"add\",\"path\":\"/"
             "-\",\"value\":4},"
             "{\"op\":\"test\",\"path\":\"/2\",\"value\":4}]",
             "[2,3,4]",
             "[{\"op\":\"remove\",\"path\":\"/2\"},{\"op\":\"add\",\"path\":\"/"
             "0\",\"value\":1}]");
}

/* ---- randomized properties ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static unsigned below(unsigned n) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (unsigned)((rng_state >> 33) % n);
}

static const char *const keys[] = {"a", "b",  "c",   "id", "", "a/b",
                                   "~", "~1", "x y", "-",  "0"};
#define NKEYS (sizeof keys / sizeof *keys)

static cJSON *rand_value(int depth) {
  unsigned kind = below(depth >= 4 ? 6 : 9);
  static const char *const strs[] = {"", "x", "hello", "caf\xc3\xa9", "a\"b"};
  switch (kind) {
  case 0: return cJSON_CreateNull();
  case 1: return cJSON_CreateBool(below(2));
  case 2: return cJSON_CreateNumber(below(10));
  case 3: return cJSON_CreateNumber(((double)below(2000) - 1000) / 8);
  case 4:
  case 5: return cJSON_CreateString(strs[below(5)]);
  case 6:
  case 7: {
    cJSON *o = cJSON_CreateObject();
    for (unsigned n = below(5); n > 0; n--) {
      const char *k = keys[below(NKEYS)];
      if (!cJSON_GetObjectItemCaseSensitive(o, k))
        cJSON_AddItemToObject(o, k, rand_value(depth + 1));
    }
    return o;
  }
  default: {
    cJSON *a = cJSON_CreateArray();
    for (unsigned n = below(5); n > 0; n--)
      cJSON_AddItemToArray(a, rand_value(depth + 1));
    return a;
  }
  }
}

struct nodes {
  cJSON *node[512];
  char *path[512];
  int n;
};

static void collect(cJSON *v, struct ptr_buf *b, struct nodes *out) {
  if (out->n == 512) return;
  out->node[out->n] = v;
  out->path[out->n++] = strdup(b->s ? b->s : "");
  size_t mark = b->len, i = 0;
  for (cJSON *c = v->child; c; c = c->next, i++) {
    if (cJSON_IsObject(v))
      ptr_push(b, c->string);
    else
      ptr_push_index(b, i);
    collect(c, b, out);
    ptr_truncate(b, mark);
  }
}

static void free_nodes(struct nodes *ns) {
  for (int i = 0; i < ns->n; i++)
    free(ns->path[i]);
  ns->n = 0;
}

/* Debian's cJSON 1.7.15 refuses cJSON_InsertItemInArray before an existing
 * item (its CVE-2023-50471 backport checks the new item's prev), so the
 * generator rebuilds the array instead. */
static void insert_at(cJSON *arr, int at, cJSON *item) {
  cJSON *tmp = cJSON_CreateArray();
  while (arr->child)
    cJSON_AddItemToArray(tmp, cJSON_DetachItemFromArray(arr, 0));
  for (int i = 0; tmp->child || i == at; i++) {
    if (i == at) cJSON_AddItemToArray(arr, item);
    if (tmp->child)
      cJSON_AddItemToArray(arr, cJSON_DetachItemFromArray(tmp, 0));
  }
  cJSON_Delete(tmp);
}

/* A few random edits through the cJSON API, so that b resembles a. */
static cJSON *mutate(cJSON *doc) {
  for (unsigned edits = 1 + below(3); edits > 0; edits--) {
    struct nodes ns = {.n = 0};
    struct ptr_buf b = {0};
    collect(doc, &b, &ns);
    free(b.s);
    cJSON *c = ns.node[below((unsigned)ns.n)];
    int size = cJSON_GetArraySize(c);
    if (cJSON_IsArray(c) && below(2)) {
      insert_at(c, (int)below((unsigned)size + 1), rand_value(3));
    } else if (cJSON_IsArray(c) && size) {
      if (below(2))
        cJSON_DeleteItemFromArray(c, (int)below((unsigned)size));
      else
        cJSON_ReplaceItemInArray(c, (int)below((unsigned)size), rand_value(3));
    } else if (cJSON_IsObject(c)) {
      const char *k = keys[below(NKEYS)];
      if (cJSON_GetObjectItemCaseSensitive(c, k) && below(2))
        cJSON_DeleteItemFromObjectCaseSensitive(c, k);
      else if (cJSON_GetObjectItemCaseSensitive(c, k))
        cJSON_ReplaceItemInObjectCaseSensitive(c, k, rand_value(3));
      else
        cJSON_AddItemToObject(c, k, rand_value(3));
    } else if (c == doc) {
      cJSON_Delete(doc);
      doc = rand_value(1);
    }
    free_nodes(&ns);
  }
  return doc;
}

static char *target_path(const struct nodes *ns) {
  int i = (int)below((unsigned)ns->n);
  if (below(3) == 0 ||
      (!cJSON_IsObject(ns->node[i]) && !cJSON_IsArray(ns->node[i])))
    return strdup(ns->path[i]);
  char *s = malloc(strlen(ns->path[i]) + 40);
  if (cJSON_IsObject(ns->node[i])) {
    struct ptr_buf k = {0};
    ptr_push(&k, keys[below(NKEYS)]);
    sprintf(s, "%s%s", ns->path[i], k.s);
    free(k.s);
  } else if (below(2)) {
    sprintf(s, "%s/-", ns->path[i]);
  } else {
    sprintf(s, "%s/%u", ns->path[i],
            below((unsigned)cJSON_GetArraySize(ns->node[i]) + 2));
  }
  return s;
}

static cJSON *rand_patch(cJSON *doc) {
  static const char *const names[] = {"add",  "remove", "replace",
                                      "move", "copy",   "test"};
  struct nodes ns = {.n = 0};
  struct ptr_buf b = {0};
  collect(doc, &b, &ns);
  free(b.s);
  cJSON *p = cJSON_CreateArray();
  for (unsigned n = 1 + below(4); n > 0; n--) {
    unsigned k = below(6);
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "op", names[k]);
    int src = (int)below((unsigned)ns.n);
    char *path =
        k == 0 || k == 3 || k == 4 ? target_path(&ns) : strdup(ns.path[src]);
    if (k == 3 || k == 4) cJSON_AddStringToObject(op, "from", ns.path[src]);
    cJSON_AddStringToObject(op, "path", path);
    if (k == 5 && below(2))
      cJSON_AddItemToObject(op, "value", dup(ns.node[src]));
    else if (k == 0 || k == 2 || k == 5)
      cJSON_AddItemToObject(op, "value", rand_value(2));
    cJSON_AddItemToArray(p, op);
    free(path);
  }
  free_nodes(&ns);
  return p;
}

static void test_random(void) {
  int applied = 0, failed = 0, iterations = 4000;
  for (int it = 0; it < iterations; it++) {
    int failures = check_failures;
    cJSON *a = rand_value(0);
    cJSON *b = below(5) ? mutate(dup(a)) : rand_value(0);
    check_diff(a, b, NULL);
    cJSON *same = patch_diff(a, a);
    CHECK(cJSON_GetArraySize(same) == 0);
    cJSON_Delete(same);

    cJSON *p = rand_patch(a), *doc = dup(a), *inv = NULL;
    char *before = print(doc), err[256];
    int rc = patch_apply(&doc, p, &inv, err, sizeof err);
    CHECK(rc == PATCH_OK || rc == PATCH_CONFLICT);
    if (rc == PATCH_OK) {
      applied++;
      CHECK(patch_apply(&doc, inv, NULL, err, sizeof err) == PATCH_OK);
      CHECK(json_equal(doc, a));
    } else {
      failed++;
      char *after = print(doc);
      CHECK_STR(after, before);
      free(after);
    }
    if (check_failures != failures) {
      char *pa = print(a), *pb = print(b), *pp = print(p);
      fprintf(stderr, "  iteration %d\n  a: %s\n  b: %s\n  patch: %s\n", it, pa,
              pb, pp);
      free(pa), free(pb), free(pp);
    }
    free(before);
    cJSON_Delete(inv), cJSON_Delete(doc), cJSON_Delete(p);
    cJSON_Delete(a), cJSON_Delete(b);
  }
  printf("random: %d iterations, random patches %d applied, %d rolled back\n",
         iterations, applied, failed);
  CHECK(applied > iterations / 5 && failed > iterations / 10);
}

/* ---- a 10 MB document ---- */

static cJSON *big_doc(int items) {
  cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray();
  cJSON_AddStringToObject(root, "title", "A large state");
  cJSON_AddItemToObject(root, "items", list);
  char text[160];
  for (int i = 0; i < items; i++) {
    cJSON *it = cJSON_CreateObject(), *meta = cJSON_CreateObject();
    cJSON_AddNumberToObject(it, "id", i);
    snprintf(text, sizeof text,
             "Item number %d, with a title long enough to look real", i);
    cJSON_AddStringToObject(it, "title", text);
    cJSON_AddBoolToObject(it, "done", i % 3 == 0);
    cJSON_AddItemToObject(
        it, "tags",
        cJSON_CreateStringArray((const char *[]){"alpha", "beta"}, 2));
    cJSON_AddNumberToObject(meta, "created", 1700000000.0 + i);
    cJSON_AddStringToObject(meta, "owner", "someone@example.com");
    cJSON_AddStringToObject(
        meta, "notes", "Lorem ipsum dolor sit amet, consectetur adipiscing.");
    cJSON_AddItemToObject(it, "meta", meta);
    cJSON_AddItemToArray(list, it);
  }
  cJSON_AddItemToObject(root, "settings",
                        parse("{\"theme\":\"dark\",\"size\":3}"));
  return root;
}

static void test_big(void) {
  int items = 45000;
  cJSON *a = big_doc(items), *b = dup(a);
  char *text = print(a);
  size_t size = strlen(text);
  free(text);
  cJSON_ReplaceItemInObjectCaseSensitive(
      ptr_get(b, "/items/31234/meta"), "owner",
      cJSON_CreateString("someone.else@example.com"));
  double t0 = now_ms();
  cJSON *ops = patch_diff(a, b);
  double t1 = now_ms();
  CHECK(cJSON_GetArraySize(ops) == 1);
  CHECK_STR(ptr_get(ops, "/0/path")->valuestring, "/items/31234/meta/owner");
  cJSON *inv = NULL;
  double t2 = now_ms();
  CHECK(patch_apply(&a, ops, &inv, NULL, 0) == PATCH_OK);
  double t3 = now_ms();
  CHECK(json_equal(a, b));
  cJSON *fail = parse("[{\"op\":\"remove\",\"path\":\"/items/"
                      "0\"},{\"op\":\"add\",\"path\":\"/items/-\","
                      "\"value\":1},{\"op\":\"remove\",\"path\":\"/"
                      "title\"},{\"op\":\"test\",\"path\":\"/x\","
                      "\"value\":1}]");
  double t4 = now_ms();
  CHECK(patch_apply(&a, fail, NULL, NULL, 0) == PATCH_CONFLICT);
  double t5 = now_ms();
  CHECK(patch_apply(&a, inv, NULL, NULL, 0) == PATCH_OK);
  CHECK_STR(ptr_get(a, "/items/31234/meta/owner")->valuestring,
            "someone@example.com");
  CHECK_STR(ptr_get(a, "/title")->valuestring, "A large state");
  printf("%.1f MB document: diff %.1f ms, apply %.3f ms, failing 4-op patch "
         "%.3f ms\n",
         size / 1e6, t1 - t0, t3 - t2, t5 - t4);
  cJSON_Delete(fail), cJSON_Delete(inv), cJSON_Delete(ops);
  cJSON_Delete(a), cJSON_Delete(b);
}

int main(void) {
  test_pointer();
  test_messages();
  test_fixtures();
  test_atomic();
  test_order_and_inverse();
  test_random();
  test_big();
  return CHECK_DONE();
}
