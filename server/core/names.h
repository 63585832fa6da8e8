/* State names: what may be mirrored, and where its file lives. */
#ifndef MS_NAMES_H
#define MS_NAMES_H

#include <stddef.h>

#define NAME_MAX_LEN 200

/* Non-zero if name is a valid state name: one or more '/'-separated
 * segments of letters, digits, '_', '-', '.', '@', '+' and spaces, none
 * empty, none starting with '.', no "..", no absolute path, at most
 * NAME_MAX_LEN bytes. Only such names are ever turned into paths, so
 * nothing outside a mirrored directory can be read or written. */
int name_valid(const char *name);

/* The state name of a file path relative to a mirrored directory
 * ("app/ui.json" -> "app/ui"). Writes into out (size outlen); returns 0, or
 * -1 if rel does not end in ".json", lies in a dot-folder or node_modules,
 * or gives no valid name. */
int name_from_relpath(const char *rel, char *out, size_t outlen);

/* The state name of a --file path: its base name without ".json". */
int name_from_file(const char *path, char *out, size_t outlen);

#endif
