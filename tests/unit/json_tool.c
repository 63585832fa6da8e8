/* Reads JSON on stdin and prints it as JSON.stringify(v, null, 2) + "\n"
 * would, or as JSON.stringify(v) with -c. On invalid input it prints
 * "LINE:COLUMN: MESSAGE" to stderr and exits with 1. Tests drive the
 * printer and parser through it from node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static char *read_all(FILE *f, size_t *len) {
  size_t cap = 1 << 16, n = 0, got;
  char *buf = malloc(cap);
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      char *bigger = realloc(buf, cap *= 2);
      if (!bigger) free(buf);
      buf = bigger;
    }
  }
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  int compact = argc > 1 && strcmp(argv[1], "-c") == 0;
  size_t len, out_len;
  char *buf = read_all(stdin, &len);
  if (!buf) return 2;
  struct json_error err;
  cJSON *v = json_parse(buf, len, &err);
  free(buf);
  if (!v) {
    fprintf(stderr, "%d:%d: %s\n", err.line, err.column, err.message);
    return 1;
  }
  char *out = compact ? json_print_compact(v, &out_len)
                      : json_print_pretty(v, &out_len);
  cJSON_Delete(v);
  if (!out) return 2;
  fwrite(out, 1, out_len, stdout);
  if (compact) fputc('\n', stdout);
  free(out);
  return 0;
}
