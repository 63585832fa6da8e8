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

/* The helpers below are what the patch engine itself is built on; they are
 * public because other modules address states by pointer too. */

/* Finds the container that holds the location ptr names, for operations
 * that create or remove that location. On PATCH_OK, *parent is the object or
 * array (borrowed from doc) and *last a new string (caller frees) with the
 * last reference token unescaped. PATCH_INVALID if ptr is malformed or "",
 * PATCH_CONFLICT if the parent does not exist or is not a container,
 * PATCH_NOMEM on allocation failure. */
int ptr_parent(const cJSON *doc, const char *ptr, cJSON **parent, char **last);

/* The member of an object, or element of an array, that one unescaped
 * reference token names. Borrowed; NULL if there is none. */
cJSON *ptr_child(const cJSON *container, const char *token);

/* Parses an array index token: decimal digits without a leading zero.
 * Returns 0 and stores the index, or -1 (this includes "-" and indices too
 * large to address). */
int ptr_index(const char *token, size_t *index);

/* A growable pointer string, for building paths while walking a tree.
 * Zero-initialize it; s is NULL until something is pushed. */
struct ptr_buf {
  char *s;
  size_t len;
  size_t cap;
};

/* Appends "/" and key escaped (~ as ~0, / as ~1). ptr_push_index appends
 * "/" and a decimal index. Both return 0 or PATCH_NOMEM. Truncate back by
 * calling ptr_truncate with an earlier len. */
int ptr_push(struct ptr_buf *b, const char *key);
int ptr_push_index(struct ptr_buf *b, size_t index);
void ptr_truncate(struct ptr_buf *b, size_t len);

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
 * (same tree, same key order). Works in place: cost is proportional to the
 * ops, not to the document. The whole patch is validated before anything
 * changes, so a malformed op anywhere is PATCH_INVALID even if an earlier op
 * would conflict. ops is never modified; values are copied out of it. *doc
 * must not be NULL. Nodes that leave the document (removed, replaced) are
 * freed, or become the inverse's values, so pointers into *doc held across
 * a call are only valid for nodes the patch did not touch.
 * The inverse is plain RFC 6902 with concrete array indices (never "-"); it
 * restores an equal document, though a key it re-adds goes last in its
 * object. */
int patch_apply(cJSON **doc, const cJSON *ops, cJSON **inverse, char *err,
                size_t errlen);

/* Returns a new patch (caller frees) that turns a into b: one op per changed
 * leaf or subtree, "add" for keys only in b (in b's key order), "remove" for
 * keys only in a; arrays by common prefix/suffix then element by element, so
 * one insert or delete in a long array is one op. Equal values give "[]".
 * Op order: for an object, its removals and changes in a's key order, then
 * its additions; for an array, the changed overlap, then additions by
 * rising index or removals by falling index. Key order alone is no change.
 * Cost is linear in the size of a and b when keys keep their relative order.
 * NULL on allocation failure. */
cJSON *patch_diff(const cJSON *a, const cJSON *b);

#endif
