/* Fuzz target: the JSON Patch engine (patch.h). The input is either a JSON
 * array [doc, ops, other] (readable seeds and regressions) or raw bytes
 * that drive a generator of a document, ops aimed at its paths, and a
 * second document. Properties:
 *   - apply is all-or-nothing: on failure the document is unchanged, byte
 *     for byte, key order included;
 *   - PATCH_INVALID exactly when patch_validate refuses the ops;
 *   - on success the inverse is valid, names no "-", and applied to the
 *     result gives back a document equal to the original;
 *   - diff(a, b) applied to a gives b, for the two documents and for the
 *     document before and after the patch; diff(a, a) is empty;
 *   - patch growth: with limits, the tracked size equals the printed size
 *     after every apply, the result is never deeper than JSON_MAX_DEPTH nor
 *     (on success) larger than the size limit, a refusal changes nothing,
 *     and a patch reported as changing nothing left an equal document.
 * Raw inputs also generate ops that copy the whole document into itself,
 * which double its size and depth (the growth cases). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "patch.h"

static void check_diff(const cJSON *a, const cJSON *b) {
  cJSON *d = patch_diff(a, b);
  FUZZ_CHECK(d && cJSON_IsArray(d), "diff returned no array");
  FUZZ_CHECK(patch_validate(d, NULL, 0) == PATCH_OK, "diff is not valid");
  cJSON *x = cJSON_Duplicate(a, 1);
  char err[200];
  int rc = patch_apply(&x, d, NULL, err, sizeof err);
  if (rc != PATCH_OK) {
    char *da = exact_text(a), *db = exact_text(b), *dd = exact_text(d);
    fprintf(stderr, "a=%s\nb=%s\ndiff=%s\n%s\n", da, db, dd, err);
    free(da), free(db), free(dd);
  }
  FUZZ_CHECK(rc == PATCH_OK, "diff does not apply");
  FUZZ_CHECK(json_equal(x, b), "diff applied does not give b");
  if (json_equal(a, b))
    FUZZ_CHECK(cJSON_GetArraySize(d) == 0, "diff of equal values not empty");
  cJSON_Delete(x);
  cJSON_Delete(d);
}

static void dump(const char *label, const cJSON *v) {
  char *t = exact_text(v);
  fprintf(stderr, "%s: %s\n", label, t ? t : "(null)");
  free(t);
}

/* The inverse names concrete indices: no "-" into an array. It is checked
 * op by op, on the document as the inverse changes it ("-" is a fine
 * object key). */
static void check_inverse_shape(const cJSON *doc, const cJSON *ops,
                                const cJSON *result, const cJSON *inv) {
  FUZZ_CHECK(cJSON_IsArray(inv), "inverse is not an array");
  FUZZ_CHECK(patch_validate(inv, NULL, 0) == PATCH_OK, "inverse not valid");
  cJSON *x = cJSON_Duplicate(result, 1);
  for (const cJSON *op = inv->child; op; op = op->next) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(op, "path");
    size_t n = strlen(p->valuestring);
    if (n >= 2 && !strcmp(p->valuestring + n - 2, "/-")) {
      cJSON *parent = NULL;
      char *last = NULL;
      if (ptr_parent(x, p->valuestring, &parent, &last) == PATCH_OK &&
          cJSON_IsArray(parent)) {
        dump("doc", doc);
        dump("ops", ops);
        dump("inverse", inv);
        FUZZ_CHECK(0, "inverse uses '-' on an array");
      }
      free(last);
    }
    cJSON *one = cJSON_CreateArray();
    cJSON_AddItemToArray(one, cJSON_Duplicate(op, 1));
    FUZZ_CHECK(patch_apply(&x, one, NULL, NULL, 0) == PATCH_OK,
               "inverse op does not apply");
    cJSON_Delete(one);
  }
  cJSON_Delete(x);
}

/* The size limit of the main apply: above what any generated document
 * reaches without growth ops, and small enough that growth stops fast. */
#define FUZZ_MAX_SIZE (64 << 10)

/* The growth properties: the same patch applied with a smaller limit. */
static void check_limited(const cJSON *doc, const cJSON *ops, size_t max_size,
                          int plain_rc) {
  char err[200];
  char *before = exact_text(doc);
  cJSON *d = cJSON_Duplicate(doc, 1);
  struct patch_limits lim = {
      .size = json_pretty_size(doc), .max_size = max_size, .changed = -1};
  int rc = patch_apply_limited(&d, ops, &lim, NULL, err, sizeof err);
  struct json_stats st;
  json_stats(d, &st);
  FUZZ_CHECK(st.height <= JSON_MAX_DEPTH, "a result deeper than the limit");
  FUZZ_CHECK(lim.size == st.size + 1, "tracked size differs from printed");
  if (rc == PATCH_OK) {
    FUZZ_CHECK(!max_size || lim.size <= max_size, "result over the limit");
    FUZZ_CHECK(plain_rc == PATCH_OK,
               "a smaller limit took a patch a larger one refused");
    if (!lim.changed)
      FUZZ_CHECK(json_equal(d, doc), "an unchanged patch changed the value");
  } else {
    char *after = exact_text(d);
    FUZZ_CHECK(!strcmp(before, after), "refused apply changed the document");
    FUZZ_CHECK(!lim.changed, "a refused patch reported a change");
    free(after);
    if (plain_rc == PATCH_OK)
      FUZZ_CHECK(rc == PATCH_TOO_LARGE, "only a limit refuses what applies");
  }
  cJSON_Delete(d);
  free(before);
}

static void run(const cJSON *doc, const cJSON *ops, const cJSON *other,
                size_t max_size) {
  char err[200];
  char *before = exact_text(doc);
  cJSON *d = cJSON_Duplicate(doc, 1);
  cJSON *inverse = NULL;
  int valid = patch_validate(ops, NULL, 0) == PATCH_OK;
  /* The main apply has a cap too, so that growth stops soon; below it the
   * plain apply must agree exactly. */
  struct patch_limits cap = {.max_size = FUZZ_MAX_SIZE};
  int rc = patch_apply_limited(&d, ops, &cap, &inverse, err, sizeof err);
  struct json_stats st;
  json_stats(d, &st);
  FUZZ_CHECK(st.height <= JSON_MAX_DEPTH, "a result deeper than the limit");
  FUZZ_CHECK(cap.size == st.size + 1, "tracked size differs from printed");
  if (rc != PATCH_TOO_LARGE) {
    cJSON *p = cJSON_Duplicate(doc, 1);
    FUZZ_CHECK(patch_apply(&p, ops, NULL, NULL, 0) == rc,
               "plain and limited apply disagree");
    char *x = exact_text(p), *y = exact_text(d);
    FUZZ_CHECK(!strcmp(x, y), "plain and limited apply differ");
    free(x), free(y);
    cJSON_Delete(p);
  }
  if (max_size && max_size < FUZZ_MAX_SIZE)
    check_limited(doc, ops, max_size, rc);
  FUZZ_CHECK((rc == PATCH_INVALID) == !valid, "INVALID iff validate refuses");
  if (rc != PATCH_OK) {
    FUZZ_CHECK(rc == PATCH_INVALID || rc == PATCH_CONFLICT ||
                   rc == PATCH_TOO_LARGE,
               "unexpected code");
    FUZZ_CHECK(err[0], "failure without a message");
    FUZZ_CHECK(inverse == NULL, "inverse after a failure");
    char *after = exact_text(d);
    FUZZ_CHECK(!strcmp(before, after), "failed apply changed the document");
    free(after);
  } else {
    check_inverse_shape(doc, ops, d, inverse);
    cJSON *back = cJSON_Duplicate(d, 1);
    cJSON *inv2 = NULL;
    int rc2 = patch_apply(&back, inverse, &inv2, err, sizeof err);
    if (rc2 != PATCH_OK) fprintf(stderr, "inverse failed: %s\n", err);
    FUZZ_CHECK(rc2 == PATCH_OK, "inverse does not apply");
    FUZZ_CHECK(json_equal(back, doc), "inverse does not restore the document");
    /* The inverse of the inverse redoes the change. */
    cJSON *redo = cJSON_Duplicate(back, 1);
    FUZZ_CHECK(patch_apply(&redo, inv2, NULL, err, sizeof err) == PATCH_OK,
               "inverse of the inverse does not apply");
    FUZZ_CHECK(json_equal(redo, d), "inverse of the inverse differs");
    check_diff(doc, d);
    check_diff(d, doc);
    cJSON_Delete(redo);
    cJSON_Delete(inv2);
    cJSON_Delete(back);
    cJSON_Delete(inverse);
  }
  /* ops is never modified. */
  check_diff(doc, other);
  check_diff(other, doc);
  check_diff(doc, doc);
  cJSON_Delete(d);
  free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 64 * 1024) return 0;
  cJSON *t[3];
  cJSON *root = parse_tuple(data, size, 3, t);
  if (root) {
    if (cJSON_IsArray(t[1])) {
      char *ops_before = exact_text(t[1]);
      run(t[0], t[1], t[2], 4096);
      char *ops_after = exact_text(t[1]);
      FUZZ_CHECK(!strcmp(ops_before, ops_after), "apply modified ops");
      free(ops_before);
      free(ops_after);
    }
    cJSON_Delete(root);
    return 0;
  }
  struct bytes b = {data, size};
  size_t max_size = take(&b) & 1 ? 0 : 32 + 16 * (size_t)take(&b);
  cJSON *doc = gen_value(&b, 4);
  cJSON *ops = gen_ops(&b, doc);
  /* Growth: the whole document copied into itself, again and again. */
  for (unsigned n = pick(&b, 8) ? 0 : 1 + pick(&b, 10); n > 0; n--) {
    char ptr[256];
    gen_pointer(&b, doc, ptr, sizeof ptr);
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "op", "copy");
    cJSON_AddStringToObject(op, "from", "");
    cJSON_AddStringToObject(op, "path", *ptr ? ptr : "/x");
    cJSON_AddItemToArray(ops, op);
  }
  cJSON *other = take(&b) & 1 ? gen_value(&b, 4) : cJSON_Duplicate(doc, 1);
  /* Sometimes the other document is the first one with a few changes. */
  if (take(&b) & 1) {
    cJSON *more = gen_ops(&b, other);
    patch_apply(&other, more, NULL, NULL, 0);
    cJSON_Delete(more);
  }
  run(doc, ops, other, max_size);
  cJSON_Delete(doc);
  cJSON_Delete(ops);
  cJSON_Delete(other);
  return 0;
}
