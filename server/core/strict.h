/* The strict check of a patch (docs/protocol.md, "strict"): a patch
 * computed from version `base` is stale when a later version made by
 * another sender changed a path that overlaps a path the patch touches.
 * No I/O.
 *
 * The check costs time linear in the paths involved: those of the history
 * entries after base and those of the patch. The patch's paths go into a
 * tree of their tokens (hashed by parent and token), and each changed path
 * walks that tree once. */
#ifndef MS_STRICT_H
#define MS_STRICT_H

#include <stdint.h>
#include <cJSON.h>

#include "store.h"

enum strict_result {
  STRICT_OK = 0,      /* not stale: apply as usual */
  STRICT_STALE = 1,   /* another sender changed an overlapping path */
  STRICT_UNKNOWN = 2, /* base is not held in the history (or is newer than
                         the state): staleness cannot be ruled out */
  STRICT_NOMEM = -1,
};

/* What made a patch stale (STRICT_STALE). */
struct strict_conflict {
  uint64_t version; /* the version that changed it */
  char origin[40];  /* who made that version */
  char path[120];   /* the path it changed (cut if longer) */
};

/* Checks ops (validated RFC 6902 ops) computed from version base of s,
 * sent by sender (a connection's id as recorded with store_apply_from; NULL
 * or "" when the sender has no identity, as over HTTP: then every version
 * after base counts). Fills *c (may be NULL) for STRICT_STALE.
 *
 * A version that inserted or removed an array element (`add`, `remove`,
 * `copy` or `move` at an index) shifted every later index of that array:
 * it overlaps every path of the patch at that index or a higher one. */
int strict_check(const struct state *s, uint64_t base, const char *sender,
                 const cJSON *ops, struct strict_conflict *c);

/* Whether two JSON Pointers overlap: equal, or one an ancestor of the
 * other ("" overlaps every pointer; "/a" and "/ab" do not). */
int strict_overlaps(const char *a, const char *b);

#endif
