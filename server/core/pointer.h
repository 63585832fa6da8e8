/* JSON Pointer (RFC 6901) on cJSON trees: syntax, lookup, escaping, and
 * building pointers while walking a tree. Pure functions, no I/O; the
 * patch engine (patch.h) is built on them, and other modules address
 * states by pointer too. */
#ifndef MS_POINTER_H
#define MS_POINTER_H

#include <stddef.h>
#include <cJSON.h>

/* The results of the pointer functions below and of the patch engine
 * (patch.h), which is built on them. */
enum patch_result {
  PATCH_OK = 0,
  PATCH_INVALID = -1,  /* malformed: unknown op, bad pointer, missing value */
  PATCH_CONFLICT = -2, /* well-formed, but does not apply to this document */
  PATCH_NOMEM = -3,
  PATCH_TOO_LARGE = -4, /* the result would pass a limit: depth, size, or
                           the work one patch may do */
};

/* Looks up a JSON Pointer ("" is the whole document). Returns the node,
 * borrowed from doc (valid while doc is unchanged), or NULL if the pointer is
 * malformed or names nothing. For arrays, "-" names nothing. */
cJSON *ptr_get(const cJSON *doc, const char *ptr);

/* Non-zero if ptr is syntactically valid ("" or "/..." with ~0/~1 escapes
 * only). */
int ptr_valid(const char *ptr);

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

/* Unescapes the reference token that starts at p (just after its '/')
 * into out, which must hold strlen(p) + 1 bytes, and returns where the
 * token ends (at the next '/' or the NUL). The pointer must be valid. */
const char *ptr_token(const char *p, char *out);

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

#endif
