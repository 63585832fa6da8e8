/* The property of the mirror's small-edit fast path (json_edit.h), shared
 * by the unit test and the JSON fuzz target: for a valid old text with no
 * repeated key and any new text, whenever json_edit_locate names a region
 * whose new bytes parse on their own, the new text parses as a whole, and
 * the old value with that region's value put in gives the same value as
 * the whole new text does. Returns 0 when the property holds (whether or
 * not the fast path applied: *applied tells), or a description of the
 * violation. */
#ifndef MS_EDIT_CHECK_H
#define MS_EDIT_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_edit.h"
#include "patch.h"

static inline const char *edit_check(const char *old, size_t oldlen,
                                     const char *new, size_t newlen,
                                     int *applied) {
  *applied = 0;
  int dups = 1;
  cJSON *before = json_parse_ex(old, oldlen, 0, &dups, NULL);
  if (!before || dups) {
    cJSON_Delete(before);
    return 0; /* the precondition does not hold: nothing is claimed */
  }
  cJSON *whole = json_parse(new, newlen, NULL);
  const char *bad = NULL;
  for (int outer = 0; outer < 2 && !bad && !*applied; outer++) {
    struct json_edit e;
    int rc = json_edit_locate(old, oldlen, new, newlen, outer, &e);
    if (rc < 0) {
      bad = "out of memory";
      break;
    }
    if (rc == 0) break;
    if (e.start > oldlen || e.old_end > oldlen || e.start > e.old_end ||
        e.new_end > newlen || e.start > e.new_end ||
        e.old_end - e.start + newlen != e.new_end - e.start + oldlen)
      bad = "the region is not inside both texts";
    cJSON *v = bad ? NULL
                   : json_parse_ex(new + e.start, e.new_end - e.start, e.level,
                                   NULL, NULL);
    if (v) {
      *applied = 1;
      cJSON *was = ptr_get(before, e.path);
      cJSON *ops = was ? patch_diff_at(was, v, e.path) : NULL;
      cJSON *doc = cJSON_Duplicate(before, 1);
      if (!whole)
        bad = "the region parses but the whole text does not";
      else if (!was)
        bad = "the path names nothing in the old value";
      else if (!ops || patch_apply(&doc, ops, NULL, NULL, 0) != PATCH_OK)
        bad = "the region's patch does not apply";
      else if (!json_equal(doc, whole))
        bad = "the region's patch gives another value than the whole text";
      cJSON_Delete(ops);
      cJSON_Delete(doc);
      cJSON_Delete(v);
    }
    free(e.path);
  }
  cJSON_Delete(before);
  cJSON_Delete(whole);
  return bad;
}

#endif
