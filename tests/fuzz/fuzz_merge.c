/* Fuzz target: the three-way merge (merge.h). Input: a JSON array
 * [base, ours, theirs], or raw bytes driving a generator that derives ours
 * and theirs from base with random patches. Properties: no crash; inputs
 * never modified; merge3(b, b, t) is t; merge3(b, o, b) is o;
 * merge3(NULL, o, t) is t; merge3(b, o, o) equals o; merging is
 * deterministic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "merge.h"
#include "patch.h"

static void same(const cJSON *got, const cJSON *want, const char *what) {
  if (!json_equal(got, want)) {
    char *g = exact_text(got), *w = exact_text(want);
    fprintf(stderr, "got  %s\nwant %s\n", g, w);
    free(g);
    free(w);
  }
  FUZZ_CHECK(json_equal(got, want), what);
}

static void run(const cJSON *b, const cJSON *o, const cJSON *t) {
  char *bt = exact_text(b), *ot = exact_text(o), *tt = exact_text(t);
  cJSON *m = merge3(b, o, t);
  FUZZ_CHECK(m, "merge3 returned NULL");
  cJSON *m2 = merge3(b, o, t);
  FUZZ_CHECK(m2, "merge3 returned NULL");
  char *mt = exact_text(m), *m2t = exact_text(m2);
  FUZZ_CHECK(!strcmp(mt, m2t), "merge3 is not deterministic");
  cJSON *r;
  r = merge3(b, b, t);
  same(r, t, "merge3(b, b, t) != t");
  cJSON_Delete(r);
  r = merge3(b, o, b);
  same(r, o, "merge3(b, o, b) != o");
  cJSON_Delete(r);
  r = merge3(NULL, o, t);
  same(r, t, "merge3(NULL, o, t) != t");
  cJSON_Delete(r);
  r = merge3(b, o, o);
  same(r, o, "merge3(b, o, o) != o");
  cJSON_Delete(r);
  /* The merged value is something the file can hold. */
  size_t len;
  char *text = json_print_pretty(m, &len);
  cJSON *back = json_parse(text, len, NULL);
  FUZZ_CHECK(back && json_equal(back, m), "merged value does not round-trip");
  cJSON_Delete(back);
  free(text);
  char *bt2 = exact_text(b), *ot2 = exact_text(o), *tt2 = exact_text(t);
  FUZZ_CHECK(!strcmp(bt, bt2) && !strcmp(ot, ot2) && !strcmp(tt, tt2),
             "merge3 modified an input");
  free(bt), free(ot), free(tt), free(bt2), free(ot2), free(tt2);
  free(mt), free(m2t);
  cJSON_Delete(m);
  cJSON_Delete(m2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 64 * 1024) return 0;
  cJSON *t[3];
  cJSON *root = parse_tuple(data, size, 3, t);
  if (root) {
    run(t[0], t[1], t[2]);
    cJSON_Delete(root);
    return 0;
  }
  struct bytes b = {data, size};
  cJSON *base = gen_value(&b, 4);
  cJSON *ours = cJSON_Duplicate(base, 1);
  cJSON *theirs = cJSON_Duplicate(base, 1);
  for (int side = 0; side < 2; side++) {
    cJSON **doc = side ? &theirs : &ours;
    int rounds = (int)pick(&b, 3);
    for (int i = 0; i < rounds; i++) {
      cJSON *ops = gen_ops(&b, *doc);
      patch_apply(doc, ops, NULL, NULL, 0);
      cJSON_Delete(ops);
    }
  }
  run(base, ours, theirs);
  cJSON_Delete(base);
  cJSON_Delete(ours);
  cJSON_Delete(theirs);
  return 0;
}
