/* Short descriptions of a change, for the people and agents who read the
 * history, `watch` and the event log: one line per op, naming array items
 * by their "id" (or "key", or "name") member when they have one:
 *
 *   items[id=3].done: false → true
 *   items[id=4] added: {"id":4,"text":"bread","done":false}
 *   items[id=2] removed: {"id":2,"text":"eggs","done":true}
 *
 * Pure, no I/O. The format is documented in docs/protocol.md ("desc"). */
#ifndef MS_DESCRIBE_H
#define MS_DESCRIBE_H

#include <stddef.h>
#include <cJSON.h>

/* Lines described at most; a longer change ends with "… and N more". */
#define DESCRIBE_MAX_LINES 20
/* Values are abbreviated to about this many bytes of compact JSON. */
#define DESCRIBE_VALUE_MAX 48
/* A label (the path of one op, as items[id=3].done) is at most this long. */
#define DESCRIBE_LABEL_MAX 160

/* Describes ops, which turned some document into after. inverse is what
 * patch_apply returned for that change (it gives the old values and the
 * concrete index of each append); NULL when unknown, and then old values
 * are left out. Test ops are not described (they change nothing).
 * Returns a new array of strings (caller frees), NULL without memory. */
cJSON *patch_describe(const cJSON *after, const cJSON *ops,
                      const cJSON *inverse);

/* The label of ptr read in doc, e.g. "items[id=3].done"; "the state" for
 * "". out has outlen bytes (at least 16); the label is cut to fit. */
void describe_path(const cJSON *doc, const char *ptr, char *out, size_t outlen);

/* v as compact JSON, cut after about max bytes with "…" (never in the
 * middle of a UTF-8 sequence); out has outlen bytes (at least max + 8).
 * The cost is bounded by max, not by the size of v. */
void describe_value(const cJSON *v, size_t max, char *out, size_t outlen);

#endif
