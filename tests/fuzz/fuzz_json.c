/* Fuzz target: the file-content read path, json_parse and
 * json_print_pretty. Properties for any input bytes:
 *   - parse fails with a position inside the input (1-based line/column);
 *   - or: print(parse(x)) parses again to an equal value, and printing that
 *     gives the same bytes (the pretty text is a fixed point), and the
 *     compact text parses to an equal value too;
 *   - the small-edit fast path (tests/unit/edit_check.h) holds from x to
 *     its pretty text, and from the pretty text to that text with a few
 *     bytes of x spliced in where x's last bytes say. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/edit_check.h"
#include "gen.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct json_error err;
  memset(&err, 0, sizeof err);
  cJSON *v = json_parse((const char *)data, size, &err);
  if (!v) {
    FUZZ_CHECK(err.offset <= size, "error offset beyond the input");
    FUZZ_CHECK(err.line >= 1 && err.column >= 1, "error line/column");
    FUZZ_CHECK(memchr(err.message, '\0', sizeof err.message),
               "error message not terminated");
    FUZZ_CHECK(err.message[0], "empty error message");
    return 0;
  }
  size_t len1, len2, clen;
  char *p1 = json_print_pretty(v, &len1);
  FUZZ_CHECK(p1 && strlen(p1) == len1, "pretty print");
  FUZZ_CHECK(len1 > 0 && p1[len1 - 1] == '\n', "pretty text ends in a newline");
  struct json_error err2;
  cJSON *v2 = json_parse(p1, len1, &err2);
  if (!v2) fprintf(stderr, "reparse failed: %s at %d:%d\n%s", err2.message, err2.line, err2.column, p1);
  FUZZ_CHECK(v2, "pretty output does not parse");
  FUZZ_CHECK(json_equal(v, v2), "pretty output parses to another value");
  char *p2 = json_print_pretty(v2, &len2);
  FUZZ_CHECK(p2 && len1 == len2 && !memcmp(p1, p2, len1),
             "pretty text is not a fixed point");
  char *c = json_print_compact(v, &clen);
  FUZZ_CHECK(c && strlen(c) == clen, "compact print");
  cJSON *v3 = json_parse(c, clen, NULL);
  FUZZ_CHECK(v3 && json_equal(v, v3), "compact output parses to another value");
  FUZZ_CHECK(json_equal(v, v), "a value equals itself");
  int applied;
  const char *bad = edit_check((const char *)data, size, p1, len1, &applied);
  FUZZ_CHECK(!bad, bad);
  if (size >= 3) {
    size_t at = ((size_t)data[size - 1] << 8 | data[size - 2]) % (len1 + 1);
    size_t del = data[size - 3] % 4, ins = (data[size - 3] >> 2) % 8;
    if (at + del > len1) del = len1 - at;
    if (ins > size) ins = size;
    size_t newlen = len1 - del + ins;
    char *edited = malloc(newlen ? newlen : 1);
    memcpy(edited, p1, at);
    memcpy(edited + at, data, ins);
    memcpy(edited + at + ins, p1 + at + del, len1 - at - del);
    bad = edit_check(p1, len1, edited, newlen, &applied);
    FUZZ_CHECK(!bad, bad);
    free(edited);
  }
  free(p1);
  free(p2);
  free(c);
  cJSON_Delete(v);
  cJSON_Delete(v2);
  cJSON_Delete(v3);
  return 0;
}
