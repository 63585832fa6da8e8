/* JSON Patch (RFC 6902) on cJSON trees; the JSON Pointers it addresses
 * are pointer.h's.
 *
 * Pure functions, no I/O. Patches are cJSON arrays of op objects exactly as
 * they travel on the wire. Apply is all-or-nothing; diff keeps key order and
 * yields small patches; apply can also produce the inverse patch, which the
 * history ring uses to revert.
 *
 * Patches come from clients, so the cost of every function here is linear
 * in the size of the patch and of the document (up to a log factor for
 * array positions), and no result is ever nested deeper than
 * JSON_MAX_DEPTH. */
#ifndef MS_PATCH_H
#define MS_PATCH_H

#include <stddef.h>
#include <cJSON.h>

#include "pointer.h" /* enum patch_result, and the pointers ops address */

/* Checks that ops is an array of well-formed operations (known "op", valid
 * "path"/"from", "value" present where required, no repeated member)
 * without applying it. Returns PATCH_OK or PATCH_INVALID with a message in
 * err (err may be NULL) that names the op by its 0-based index:
 * op 2: unknown op "frobnicate". */
int patch_validate(const cJSON *ops, char *err, size_t errlen);

/* Applies ops to *doc. *doc may be replaced (an op on "" replaces the root),
 * so pass the owner's pointer. On success returns PATCH_OK; if inverse is not
 * NULL, *inverse receives a new array (caller frees) that undoes the change
 * when applied to the result. On any failure returns PATCH_INVALID or
 * PATCH_CONFLICT with a message in err, and *doc is exactly as before
 * (same tree, same key order). Works in place: cost is linear in the ops
 * and the values they carry (a container the patch looks into more than
 * once is indexed, so each lookup is O(1), or O(log n) for an array
 * position), never quadratic in the document. The whole patch is validated
 * before anything changes, so a malformed op anywhere is PATCH_INVALID even if
 * an earlier op would conflict. ops is never modified; values are copied out of
 * it. *doc must not be NULL. Nodes that leave the document (removed, replaced)
 * are freed, or become the inverse's values, so pointers into *doc held across
 * a call are only valid for nodes the patch did not touch.
 * The inverse is plain RFC 6902 with concrete array indices (never "-"); it
 * restores an equal document, though a key it re-adds goes last in its
 * object. An op whose result would be nested deeper than JSON_MAX_DEPTH
 * fails with PATCH_TOO_LARGE. */
int patch_apply(cJSON **doc, const cJSON *ops, cJSON **inverse, char *err,
                size_t errlen);

/* What patch_apply_limited checks and reports besides. */
struct patch_limits {
  /* In: json_pretty_size(*doc), or 0 to have it measured here. Out: the
   * json_pretty_size of the result (unchanged after a failure). It is kept
   * up to date op by op from the values added and removed, never by
   * printing the document. */
  size_t size;
  /* The largest json_pretty_size the result may have; 0 for no limit.
   * While the ops apply one by one the document may briefly grow to twice
   * this (a patch that adds the new before it removes the old). */
  size_t max_size;
  /* Out: 0 if every op left the document as it was, byte for byte as
   * printed (a test, a replace or add of an identical value, a move onto
   * itself, a copy onto an identical value), else 1. Ops that undo each
   * other still count as a change. */
  int changed;
  /* Out: which limit refused the patch with PATCH_TOO_LARGE. */
  enum {
    PATCH_LIMIT_NONE,
    PATCH_LIMIT_DEPTH,
    PATCH_LIMIT_SIZE,
    PATCH_LIMIT_WORK
  } hit;
};

/* patch_apply with limits. Besides the depth limit that every apply keeps,
 * fails with PATCH_TOO_LARGE (nothing applied) if the result would be
 * larger than lim->max_size, or if the values the patch copies (copy) or
 * carries to another depth (move) add up to more than 4 times the sizes of
 * the document and the patch, plus 1 MiB: that bounds the work of a patch
 * that copies the same large value over and over. */
int patch_apply_limited(cJSON **doc, const cJSON *ops, struct patch_limits *lim,
                        cJSON **inverse, char *err, size_t errlen);

/* Returns a new patch (caller frees) that turns a into b: one op per changed
 * leaf or subtree, "add" for keys only in b (in b's key order), "remove" for
 * keys only in a; arrays by common prefix/suffix then element by element, so
 * one insert or delete in a long array is one op. Equal values give "[]".
 * Op order: for an object, its removals and changes in a's key order, then
 * its additions; for an array, the changed overlap, then additions by
 * rising index or removals by falling index. Key order alone is no change.
 * Cost is linear in the size of a and b. NULL on allocation failure. */
cJSON *patch_diff(const cJSON *a, const cJSON *b);

/* patch_diff of two values found at the JSON Pointer prefix of a larger
 * document: every op's path starts with prefix. */
cJSON *patch_diff_at(const cJSON *a, const cJSON *b, const char *prefix);

#endif
