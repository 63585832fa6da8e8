/* Where a small edit of a JSON text lands.
 *
 * An agent that changes one value of a large file rewrites the whole file,
 * but the new text differs from the old only in a few bytes. Given the old
 * text (valid JSON) and the new one, json_edit_locate finds the innermost
 * value of the old text whose bytes contain every byte that changed. The
 * rest of the text is byte for byte the same, so if the new bytes of that
 * region are one JSON value on their own, the new document is the old one
 * with that value replaced: parsing the region and diffing it against the
 * old value gives the same patch as parsing and diffing the whole file, in
 * time that follows the region, plus one pass over the bytes that compares
 * them and finds the region. Pure, no allocation but the path. */
#ifndef MS_JSON_EDIT_H
#define MS_JSON_EDIT_H

#include <stddef.h>

struct json_edit {
  size_t start;   /* where the value starts, in both texts */
  size_t old_end; /* where it ends in the old text */
  size_t new_end; /* and in the new one */
  int level;      /* arrays and objects that hold it */
  char *path;     /* its JSON Pointer (caller frees) */
};

/* old must be a valid JSON text (as json_parse accepts it) in which no
 * object repeats a key: the path is read from its bytes, not from a tree.
 * Returns 1 and fills *e when the change lies inside one value below the
 * root (with outer > 0, the value that many levels further out: a region
 * that does not parse on its own may be part of a larger change, such as
 * an item added after the value); 0 when it does not (the texts are equal, the
 * root itself or the whitespace around it changed, or a key on the way holds an
 * escape), and the caller takes the full path; -1 when out of memory. Nothing
 * in new is checked: the caller parses new[start, new_end). */
int json_edit_locate(const char *old, size_t oldlen, const char *new,
                     size_t newlen, int outer, struct json_edit *e);

/* The length of the common prefix of a and b (of at most n bytes). */
size_t json_edit_prefix(const char *a, const char *b, size_t n);

#endif
