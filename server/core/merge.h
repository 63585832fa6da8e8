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
 *   - all three arrays of objects that each carry a unique "id" (string or
 *     number; "1" and 1 are different ids): merged by id, order following
 *     theirs, then ours' new items;
 *   - otherwise all three arrays of the same length: element by element;
 *   - otherwise theirs: the file wins a true conflict.
 * Merging by id comes before merging by position because it is the better
 * informed of the two: if the file reorders a list, or replaces one item by
 * another, while a browser edits an item, position would pair up different
 * items and mix their fields.
 * A key or id'd item deleted on one side and modified on the other is a
 * true conflict, and the file wins it like any other: deleted in theirs, it
 * is gone (the browser's edit to it is dropped); deleted in ours but
 * modified in theirs, it stays with theirs' value. Added on both sides under
 * one key or id: theirs. Deleted on one side and unchanged on the other:
 * deleted.
 * base may be NULL (nothing known on disk): the result is theirs. ours and
 * theirs must not be NULL. The inputs are never modified.
 * Returns a new tree (caller frees), NULL on allocation failure. */
cJSON *merge3(const cJSON *base, const cJSON *ours, const cJSON *theirs);

#endif
