/* Indexes of the containers one patch addresses, so that looking up a key
 * or an array index costs O(1) or O(log n) instead of a walk of cJSON's
 * linked lists: a patch of n ops on a list of n items is then linear, not
 * quadratic. Internal to the patch engine.
 *
 * An index is built for a container the second time a patch looks into it
 * (a one-op patch only walks, as before), and kept up to date through the
 * notifications below as the patch links and unlinks members. It lives for
 * one patch: the engine frees it before returning. Nodes must not be freed
 * while it lives (the engine frees what a patch discards only at the end).
 * If memory runs out, a container simply loses its index and is walked. */
#ifndef MS_PATCH_INDEX_H
#define MS_PATCH_INDEX_H

#include <stddef.h>
#include <cJSON.h>

struct pindex;

/* NULL on allocation failure; every function below accepts a NULL px and
 * then walks. */
struct pindex *pindex_new(void);
void pindex_free(struct pindex *px);

/* The member of obj called key, or NULL. Borrowed. */
cJSON *pindex_member(struct pindex *px, const cJSON *obj, const char *key);

/* The element of arr at index i: returns 0 and stores it in *node (NULL
 * when i is the array's length, i.e. one past the end), or -1 if i is
 * larger. */
int pindex_element(struct pindex *px, const cJSON *arr, size_t i, cJSON **node);

/* The number of elements of arr. */
size_t pindex_count(struct pindex *px, const cJSON *arr);

/* Notifications: node was linked into obj (under its ->string) or at index
 * i of arr (i may be SIZE_MAX for "at the end"); node was unlinked from obj,
 * or from index i of arr. Call them right after the change. */
void pindex_linked(struct pindex *px, const cJSON *obj, const cJSON *node);
void pindex_unlinked(struct pindex *px, const cJSON *obj, const cJSON *node);
void pindex_inserted(struct pindex *px, const cJSON *arr, size_t i,
                     cJSON *node);
void pindex_removed(struct pindex *px, const cJSON *arr, size_t i);

#endif
