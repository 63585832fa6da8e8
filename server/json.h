/* JSON text in and out, byte-compatible with JavaScript.
 *
 * The file a state is mirrored to must read exactly as
 * JSON.stringify(state, null, 2) + "\n" prints it, so the server, the browser
 * and any JS tool agree on the text. cJSON's own printer indents with tabs
 * and prints numbers with %g, so this module has its own printer. Numbers are
 * doubles (as in JavaScript); integers beyond 2^53 print as the nearest
 * double, exactly as JSON.parse + JSON.stringify would. */
#ifndef MS_JSON_H
#define MS_JSON_H

#include <stddef.h>
#include <cJSON.h>

/* Where and why a parse failed. line and column are 1-based and count
 * bytes; offset is the 0-based byte offset of the first bad character. */
struct json_error {
  size_t offset;
  int line;
  int column;
  char message[96];
};

/* Parses the whole buffer (it need not be NUL-terminated). Leading and
 * trailing whitespace is allowed, anything else after the value is an error.
 * Returns a new tree (caller frees with cJSON_Delete), or NULL with *err
 * filled in (err may be NULL). An empty or whitespace-only buffer is an error
 * at the end of the input. */
cJSON *json_parse(const char *buf, size_t len, struct json_error *err);

/* JSON.stringify(v, null, 2) + "\n". Returns a malloc'd NUL-terminated
 * string (caller frees) and stores its length in *len (len may be NULL).
 * NULL on allocation failure. */
char *json_print_pretty(const cJSON *v, size_t *len);

/* JSON.stringify(v): compact, for the wire. Same ownership as above. */
char *json_print_compact(const cJSON *v, size_t *len);

/* Writes d as JavaScript's Number.prototype.toString would (shortest
 * round-trip form: "0.1", "1e-7", "1e+21", "-0" prints "0"); NaN and
 * infinities print "null" as JSON.stringify does. out must hold 32 bytes.
 * Returns the length written (without the NUL). */
int json_format_number(double d, char *out);

/* Deep equality of two JSON values: object key order is ignored, array
 * order is not, numbers compare exactly. NULL equals only NULL. */
int json_equal(const cJSON *a, const cJSON *b);

#endif
