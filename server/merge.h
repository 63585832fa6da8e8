/* Three-way merge of JSON values: folds an edit made on disk into the state
 * the browsers have changed meanwhile. Pure, no I/O. */
#ifndef MS_MERGE_H
#define MS_MERGE_H

#include <cJSON.h>

/* merge3(base, ours, theirs), where base is the last state known to be on
 * disk, ours the current in-memory state and theirs the new file content:
 *   - theirs equals base: ours;  ours equals base: theirs;
 *   - all three objects: key by key (a key added or removed on one side only
 *     is kept/removed); key order follows theirs, then ours' new keys;
 *   - all three arrays of the same length: element by element;
 *   - all three arrays of objects that each carry a unique "id" (string or
 *     number): merged by id, order following theirs, then ours' new items;
 *   - otherwise theirs: the file wins a true conflict.
 * base may be NULL (nothing known on disk): the result is theirs.
 * Returns a new tree (caller frees), NULL on allocation failure. */
cJSON *merge3(const cJSON *base, const cJSON *ours, const cJSON *theirs);

#endif
