/* The descriptions of a change (describe.h): items named by id, key or
 * name; old and new values, cut short; appends at their real index; the
 * index shifts of later ops in the same patch; test ops left out; long
 * patches summed up; values and labels bounded whatever their size. */
#include "check.h"
#include "describe.h"
#include "json.h"
#include "patch.h"

static cJSON *parse(const char *s) {
  cJSON *v = json_parse(s, strlen(s), NULL);
  if (!v) fprintf(stderr, "bad JSON in test: %s\n", s);
  return v;
}

/* Applies ops to doc and returns the description as one string, lines
 * joined by " | " (static buffer). */
static const char *describe(const char *doc, const char *ops) {
  static char out[4096];
  cJSON *d = parse(doc), *o = parse(ops), *inv = NULL;
  out[0] = '\0';
  if (!d || !o || patch_apply(&d, o, &inv, NULL, 0) != PATCH_OK) {
    snprintf(out, sizeof out, "(patch failed)");
  } else {
    cJSON *lines = patch_describe(d, o, inv);
    const cJSON *l;
    size_t n = 0;
    cJSON_ArrayForEach(l, lines) n += (size_t)snprintf(
        out + n, sizeof out - n, "%s%s", n ? " | " : "", l->valuestring);
    cJSON_Delete(lines);
  }
  cJSON_Delete(d);
  cJSON_Delete(o);
  cJSON_Delete(inv);
  return out;
}

#define TODO                                                                   \
  "{\"title\":\"Groceries\",\"items\":[{\"id\":1,\"text\":\"milk\","           \
  "\"done\":false},{\"id\":2,\"text\":\"eggs\",\"done\":false},{\"id\":3,"     \
  "\"text\":\"bread\",\"done\":false}]}"

static void test_items_by_id(void) {
  CHECK_STR(describe(TODO, "[{\"op\":\"replace\",\"path\":\"/items/2/done\","
                           "\"value\":true}]"),
            "items[id=3].done: false \xe2\x86\x92 true");
  CHECK_STR(describe(TODO, "[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":"
                           "{\"id\":4,\"text\":\"tea\",\"done\":false}}]"),
            "items[id=4] added: {\"id\":4,\"text\":\"tea\",\"done\":false}");
  CHECK_STR(describe(TODO, "[{\"op\":\"remove\",\"path\":\"/items/1\"}]"),
            "items[id=2] removed: {\"id\":2,\"text\":\"eggs\",\"done\":false}");
  CHECK_STR(describe(TODO, "[{\"op\":\"replace\",\"path\":\"/title\","
                           "\"value\":\"Weekend\"}]"),
            "title: \"Groceries\" \xe2\x86\x92 \"Weekend\"");
  CHECK_STR(describe(TODO, "[{\"op\":\"add\",\"path\":\"/filter\","
                           "\"value\":\"all\"}]"),
            "filter added: \"all\"");
  /* add over an existing key replaces it */
  CHECK_STR(describe(TODO, "[{\"op\":\"add\",\"path\":\"/title\","
                           "\"value\":\"X\"}]"),
            "title: \"Groceries\" \xe2\x86\x92 \"X\"");
}

static void test_key_and_name(void) {
  CHECK_STR(describe("{\"users\":[{\"name\":\"Ada\",\"age\":36}]}",
                     "[{\"op\":\"replace\",\"path\":\"/users/0/age\","
                     "\"value\":37}]"),
            "users[name=\"Ada\"].age: 36 \xe2\x86\x92 37");
  CHECK_STR(describe("{\"rows\":[{\"key\":\"k1\",\"v\":1}]}",
                     "[{\"op\":\"replace\",\"path\":\"/rows/0/v\","
                     "\"value\":2}]"),
            "rows[key=\"k1\"].v: 1 \xe2\x86\x92 2");
  /* no id: the index */
  CHECK_STR(describe("{\"tags\":[\"a\",\"b\"]}",
                     "[{\"op\":\"replace\",\"path\":\"/tags/1\","
                     "\"value\":\"c\"}]"),
            "tags[1]: \"b\" \xe2\x86\x92 \"c\"");
  /* keys that are not identifiers are quoted */
  CHECK_STR(describe("{\"a b\":{\"x/y\":1}}",
                     "[{\"op\":\"replace\",\"path\":\"/a b/x~1y\","
                     "\"value\":2}]"),
            "[\"a b\"][\"x/y\"]: 1 \xe2\x86\x92 2");
}

static void test_multi_op(void) {
  /* The tick comes first, then an earlier item goes: the ticked item is
   * still named by its id, read where it ended up. */
  CHECK_STR(describe(TODO, "[{\"op\":\"replace\",\"path\":\"/items/2/done\","
                           "\"value\":true},{\"op\":\"remove\",\"path\":"
                           "\"/items/0\"}]"),
            "items[id=3].done: false \xe2\x86\x92 true | items[id=1] removed: "
            "{\"id\":1,\"text\":\"milk\",\"done\":false}");
  /* A later op removes the item an earlier op changed. */
  CHECK_STR(describe(TODO, "[{\"op\":\"replace\",\"path\":\"/items/1/done\","
                           "\"value\":true},{\"op\":\"remove\",\"path\":"
                           "\"/items/1\"}]"),
            "items[id=2].done: false \xe2\x86\x92 true | items[id=2] removed: "
            "{\"id\":2,\"text\":\"eggs\",\"done\":true}");
  /* test ops change nothing and are not described */
  CHECK_STR(describe(TODO, "[{\"op\":\"test\",\"path\":\"/items/1/id\","
                           "\"value\":2},{\"op\":\"remove\",\"path\":"
                           "\"/items/1\"}]"),
            "items[id=2] removed: {\"id\":2,\"text\":\"eggs\",\"done\":false}");
  /* Items without ids removed from the end, one after the other: each
   * named at the index it had, not where a later removal would put it; a
   * removal inside an item that moves down is read where it ended up. */
  CHECK_STR(describe("{\"l\":[0,1,2,3,4],\"n\":[]}",
                     "[{\"op\":\"remove\",\"path\":\"/l/4\"},{\"op\":"
                     "\"remove\",\"path\":\"/l/3\"},{\"op\":\"remove\","
                     "\"path\":\"/l/2\"},{\"op\":\"add\",\"path\":\"/n/0\","
                     "\"value\":\"x\"}]"),
            "l[4] removed: 4 | l[3] removed: 3 | l[2] removed: 2 | n[0] added: "
            "\"x\"");
  CHECK_STR(describe("{\"l\":[[0],[1,2]]}",
                     "[{\"op\":\"remove\",\"path\":\"/l/1/0\"},{\"op\":"
                     "\"remove\",\"path\":\"/l/0\"}]"),
            "l[0][0] removed: 1 | l[0] removed: [0]");
  /* moves: labelled without old values */
  CHECK_STR(describe(TODO, "[{\"op\":\"move\",\"from\":\"/items/2\","
                           "\"path\":\"/items/0\"}]"),
            "items[id=3] moved from items[2]");
}

static void test_bounds(void) {
  /* A long value is cut, a whole state set is "the state". */
  char big[4100] = "{\"s\":\"";
  for (int i = 0; i < 2000; i++)
    strcat(big, "\xc3\xa9"); /* é: never cut in half */
  strcat(big, "\"}");
  cJSON *v = parse(big);
  char out[DESCRIBE_VALUE_MAX + 8];
  describe_value(v, DESCRIBE_VALUE_MAX, out, sizeof out);
  CHECK(strlen(out) <= DESCRIBE_VALUE_MAX + 3);
  CHECK(strstr(out, "\xe2\x80\xa6") != NULL);
  size_t n = strlen(out) - 3; /* before the ellipsis: whole é's only */
  CHECK(n > 7 && (n - 6) % 2 == 0);
  cJSON_Delete(v);
  CHECK_STR(describe("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\","
                                  "\"value\":{\"b\":2}}]"),
            "the state: {\"a\":1} \xe2\x86\x92 {\"b\":2}");
  /* More than DESCRIBE_MAX_LINES ops: the rest summed up. */
  char ops[8192] = "[";
  for (int i = 0; i < 25; i++)
    snprintf(ops + strlen(ops), sizeof ops - strlen(ops),
             "%s{\"op\":\"add\",\"path\":\"/k%d\",\"value\":%d}", i ? "," : "",
             i, i);
  strcat(ops, "]");
  const char *d = describe("{}", ops);
  CHECK(strstr(d, "k19 added: 19 | \xe2\x80\xa6 and 5 more") != NULL);
  /* A label never runs long, however deep the path. */
  char deep[4096] = "", doc[4096] = "";
  for (int i = 0; i < 100; i++) {
    strcat(deep, "/abcdefgh");
    strcat(doc, "{\"abcdefgh\":");
  }
  strcat(doc, "1");
  for (int i = 0; i < 100; i++)
    strcat(doc, "}");
  char label[DESCRIBE_LABEL_MAX + 8];
  cJSON *dd = parse(doc);
  describe_path(dd, deep, label, sizeof label);
  CHECK(strlen(label) <= DESCRIBE_LABEL_MAX + 3);
  cJSON_Delete(dd);
}

int main(void) {
  test_items_by_id();
  test_key_and_name();
  test_multi_op();
  test_bounds();
  printf("describe: %d checks, %d failed\n", check_count, check_failures);
  return check_failures != 0;
}
