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

/* The deepest nesting of arrays and objects the parser accepts, and the
 * deepest value the server ever builds: patches, merges and sets are held
 * to it too, so every walk over a tree the server holds (copy, free, print,
 * compare, diff, merge) recurses at most this deep, and every state the
 * server writes it can read back. */
#define JSON_MAX_DEPTH 1000

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
 * at the end of the input.
 *
 * Accepts exactly what JSON.parse accepts (no "01", "1.", raw control
 * characters in strings, trailing commas), with these differences:
 * - a leading UTF-8 byte order mark is skipped;
 * - refused although JSON.parse takes them, because a cJSON tree cannot
 *   hold them: "\u0000" in a string, an unpaired surrogate escape, nesting
 *   deeper than JSON_MAX_DEPTH (1000) arrays/objects;
 * - refused: invalid UTF-8 inside strings (it would break WebSocket text
 *   frames);
 * - duplicate keys are folded as JSON.parse does: the last value wins, at
 *   the place of the first key.
 * The error position is the first byte that cannot continue a valid text,
 * or the end of the input (as JSON.parse in Node reports it: "{"a":1 "b":2}"
 * fails at the second '"', "[1,2,]" at ']', an unclosed string at the end
 * or at the first raw line break inside it). */
cJSON *json_parse(const char *buf, size_t len, struct json_error *err);

/* json_parse, with more asked and told. level (0 for a whole text) is the
 * number of arrays and objects that hold the value in a larger text: it
 * counts against JSON_MAX_DEPTH as if the whole text were parsed, and only
 * a whole text may start with a byte order mark. *folded (folded may be
 * NULL) is set when an object repeated a key and the duplicates were
 * folded. */
cJSON *json_parse_ex(const char *buf, size_t len, int level, int *folded,
                     struct json_error *err);

/* JSON.stringify(v, null, 2) + "\n". Returns a malloc'd NUL-terminated
 * string (caller frees) and stores its length in *len (len may be NULL).
 * NULL on allocation failure. As in JavaScript, object keys that are array
 * indexes ("0", "17") print first in numeric order, the others in tree
 * order. cJSON_Raw nodes print their valuestring verbatim; a NULL v prints
 * "null". */
char *json_print_pretty(const cJSON *v, size_t *len);

/* JSON.stringify(v): compact, for the wire. Same ownership as above. */
char *json_print_compact(const cJSON *v, size_t *len);

/* A compact JSON text built piece by piece, for messages of a fixed shape:
 * no tree is built to print them. Zero-initialize it or json_buf_init it
 * (cap: the bytes to reserve at once); errors are sticky and reported by
 * json_buf_finish, which returns the malloc'd NUL-terminated text (caller
 * frees) and its length, or NULL. */
struct json_buf {
  char *p;
  size_t len, cap;
  int failed;
};
void json_buf_init(struct json_buf *b, size_t cap);
/* n bytes as they are (JSON the caller vouches for). */
void json_buf_raw(struct json_buf *b, const char *s, size_t n);
#define json_buf_lit(b, s) json_buf_raw((b), (s), sizeof(s) - 1)
/* A string, quoted and escaped as JSON.stringify does. */
void json_buf_str(struct json_buf *b, const char *s);
void json_buf_num(struct json_buf *b, double d);
/* A value, compact (NULL prints null). */
void json_buf_value(struct json_buf *b, const cJSON *v);
char *json_buf_finish(struct json_buf *b, size_t *len);

/* Writes d as JavaScript's Number.prototype.toString would (shortest
 * round-trip form: "0.1", "1e-7", "1e+21", "-0" prints "0"); NaN and
 * infinities print "null" as JSON.stringify does. out must hold 32 bytes.
 * Returns the length written (without the NUL). */
int json_format_number(double d, char *out);

/* The length json_print_compact / json_print_pretty give the string s,
 * quotes included. */
size_t json_string_size(const char *s);

/* What one walk of a value tells. Used to keep a state's size up to date
 * as changes apply, without printing it. */
struct json_stats {
  size_t size;  /* bytes of json_print_pretty(v) without its final "\n" */
  size_t lines; /* line breaks in that text: printed d levels deep (as a
                   member of a member of ...), v takes size + 2 * d * lines
                   bytes */
  size_t mem;   /* estimated heap bytes of the tree (nodes and strings) */
  size_t nodes; /* values in the tree, v included */
  int height;   /* levels of arrays/objects: 0 for a scalar, 1 for [] */
};

/* Walks v once (iteratively) and fills *st. A NULL v is "null". */
void json_stats(const cJSON *v, struct json_stats *st);

/* The length of json_print_pretty(v), the final newline included, without
 * printing it. */
size_t json_pretty_size(const cJSON *v);

/* A deep copy of v without its key (cJSON_Duplicate keeps an object
 * member's name), ready to be added anywhere. Caller frees; NULL on
 * allocation failure. */
cJSON *json_copy_value(const cJSON *v);

/* Deep equality of two JSON values: object key order is ignored, array
 * order is not, numbers compare exactly. NULL equals only NULL. The cost is
 * at most linear in the smaller of the two (objects whose keys come in
 * another order are matched through a hash index). */
int json_equal(const cJSON *a, const cJSON *b);

/* Equal and printed alike: json_equal, with object keys in the same order
 * too. */
int json_identical(const cJSON *a, const cJSON *b);

/* json_equal that gives up once it has visited *budget values: returns 1
 * (equal), 0 (not equal) or -1 (budget spent; *budget is then 0). The
 * values visited are subtracted from *budget. */
int json_equal_within(const cJSON *a, const cJSON *b, size_t *budget);

/* A hash index of an object's members by key, for lookups in O(1) where a
 * cJSON lookup walks the list. A repeated key finds its first member, as
 * cJSON's lookups do. Zero-initialize; json_keys_free releases it. */
struct json_keys {
  const cJSON **slots;
  size_t mask;
};

/* Indexes obj's members. Returns 0, or -1 on allocation failure (the
 * index is then empty). The index borrows obj: it is valid until a member
 * is added, removed or renamed. */
int json_keys_build(struct json_keys *ix, const cJSON *obj);
const cJSON *json_keys_find(const struct json_keys *ix, const char *key);
void json_keys_free(struct json_keys *ix);

#endif
