/* JSON Pointer (RFC 6901) and JSON Patch (RFC 6902) on cJSON trees.
 *
 * Pure functions, no I/O. Patches are cJSON arrays of op objects exactly as
 * they travel on the wire. Apply is all-or-nothing; diff keeps key order and
 * yields small patches; apply can also produce the inverse patch, which the
 * history ring uses to revert. */
#ifndef MS_PATCH_H
#define MS_PATCH_H

#include <stddef.h>
#include <cJSON.h>

enum patch_result {
  PATCH_OK = 0,
  PATCH_INVALID = -1,  /* malformed: unknown op, bad pointer, missing value */
  PATCH_CONFLICT = -2, /* well-formed, but does not apply to this document */
  PATCH_NOMEM = -3,
};

/* Looks up a JSON Pointer ("" is the whole document). Returns the node,
 * borrowed from doc (valid while doc is unchanged), or NULL if the pointer is
 * malformed or names nothing. For arrays, "-" names nothing. */
cJSON *ptr_get(const cJSON *doc, const char *ptr);

/* Non-zero if ptr is syntactically valid ("" or "/..." with ~0/~1 escapes
 * only). */
int ptr_valid(const char *ptr);

/* Checks that ops is an array of well-formed operations (known "op", valid
 * "path"/"from", "value" present where required) without applying it.
 * Returns PATCH_OK or PATCH_INVALID with a message in err (err may be NULL). */
int patch_validate(const cJSON *ops, char *err, size_t errlen);

/* Applies ops to *doc. *doc may be replaced (an op on "" replaces the root),
 * so pass the owner's pointer. On success returns PATCH_OK; if inverse is not
 * NULL, *inverse receives a new array (caller frees) that undoes the change
 * when applied to the result. On any failure returns PATCH_INVALID or
 * PATCH_CONFLICT with a message in err, and *doc is exactly as before
 * (same tree, same key order). Works in place: cost is proportional to the
 * ops, not to the document. */
int patch_apply(cJSON **doc, const cJSON *ops, cJSON **inverse, char *err,
                size_t errlen);

/* Returns a new patch (caller frees) that turns a into b: one op per changed
 * leaf or subtree, "add" for keys only in b (in b's key order), "remove" for
 * keys only in a; arrays by common prefix/suffix then element by element, so
 * one insert or delete in a long array is one op. Equal values give "[]".
 * NULL on allocation failure. */
cJSON *patch_diff(const cJSON *a, const cJSON *b);

#endif
