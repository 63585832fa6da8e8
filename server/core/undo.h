/* Undoing earlier versions of a state while keeping every later change.
 * Pure, no I/O; the hub applies the result as a new change.
 *
 * For each version V to undo, newest first, the state before V is merged
 * into the current state against the state at V:
 *
 *   result = merge3(base = state at V, ours = state before V,
 *                   theirs = current)
 *
 * so what V changed goes back wherever no later change touched it, and
 * the later changes win everywhere else. The undo is refused as a whole
 * (a conflict) when a later version changed a path that V changed (the
 * same value, an ancestor or a descendant), or when the merge could not
 * keep both sides (the same merge the other way round gives another
 * result: e.g. items added and removed in an array whose items have no
 * id). See docs/protocol.md, "undo". */
#ifndef MS_UNDO_H
#define MS_UNDO_H

#include <stdint.h>
#include <cJSON.h>

#include "store.h"

/* At most this many versions in one undo. */
#define UNDO_MAX_VERSIONS 64

enum undo_code {
  UNDO_OK = 0,
  UNDO_UNKNOWN_VERSION = -1, /* a version is not in the history (r->bad) */
  UNDO_CONFLICT = -2,        /* r->conflicts says where */
  UNDO_NOMEM = -3,
};

/* A version that cannot be undone: a later version `by` changed `path`
 * (a path that `version` changed too, or where the merge found both). */
struct undo_conflict {
  uint64_t version, by;
  char *path; /* owned */
};

struct undo_result {
  cJSON *value; /* UNDO_OK: the state with the versions undone; owned */
  uint64_t versions[UNDO_MAX_VERSIONS]; /* asked for, newest first, once */
  int nversions;
  uint64_t bad;                    /* UNDO_UNKNOWN_VERSION: the version */
  struct undo_conflict *conflicts; /* UNDO_CONFLICT: one per version */
  int nconflicts;
};

/* Computes the undo of versions[0..n) (1 <= n <= UNDO_MAX_VERSIONS, in
 * any order, repeats ignored) of s, which must exist. Returns an
 * undo_code and fills *r; free it with undo_result_free. */
int undo_compute(const struct state *s, const uint64_t *versions, int n,
                 struct undo_result *r);
void undo_result_free(struct undo_result *r);

/* Non-zero if two JSON Pointers overlap: equal, or one is an ancestor of
 * the other ("" overlaps every path; "/a" and "/ab" do not). */
int undo_paths_overlap(const char *a, const char *b);

#endif
