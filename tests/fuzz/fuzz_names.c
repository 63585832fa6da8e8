/* Fuzz target: state names and their paths (names.h). The input is a name
 * (up to the first NUL). Properties: an accepted name is short, contains no
 * "..", does not start with "/", has no empty, "." or ".."-led segment, only
 * allowed characters; the path it maps to under a root stays under that
 * root after normalisation; name_from_relpath and name_from_file only ever
 * produce valid names and never write beyond the buffer they are given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "names.h"

/* Lexically normalises "/root/" + name and checks it stays below /root. */
static int stays_under_root(const char *name) {
  int depth = 0;
  const char *seg = name;
  for (;;) {
    const char *end = strchr(seg, '/');
    size_t n = end ? (size_t)(end - seg) : strlen(seg);
    if (n == 2 && !strncmp(seg, "..", 2)) depth--;
    else if (!(n == 1 && seg[0] == '.') && n > 0) depth++;
    if (depth < 0) return 0;
    if (!end) break;
    seg = end + 1;
  }
  return depth > 0;
}

static void check_valid_name(const char *s) {
  size_t len = strlen(s);
  FUZZ_CHECK(len > 0 && len <= NAME_MAX_LEN, "accepted name length");
  FUZZ_CHECK(!strstr(s, ".."), "accepted name contains ..");
  FUZZ_CHECK(s[0] != '/', "accepted name is absolute");
  FUZZ_CHECK(s[0] != '.' && !strstr(s, "/."), "accepted segment starts with .");
  FUZZ_CHECK(!strstr(s, "//") && s[len - 1] != '/', "empty segment");
  FUZZ_CHECK(stays_under_root(s), "accepted name escapes its root");
  for (const char *p = s; *p; p++)
    FUZZ_CHECK((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || strchr("_-.@+ /", *p),
               "accepted name has a character outside the set");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  if (name_valid(s)) check_valid_name(s);
  /* Small and exact buffers, so an overflow is caught. */
  size_t outlen = size ? (size_t)data[0] % (NAME_MAX_LEN + 8) + 1 : 1;
  char *out = malloc(outlen);
  if (out) {
    if (name_from_relpath(s, out, outlen) == 0) {
      check_valid_name(out);
      FUZZ_CHECK(strlen(out) + 5 == strlen(s), "relpath name is rel without .json");
      FUZZ_CHECK(strncmp(s, "node_modules/", 13) && !strstr(s, "/node_modules/"),
                 "name from a node_modules path");
    }
    if (name_from_file(s, out, outlen) == 0) {
      check_valid_name(out);
      FUZZ_CHECK(!strchr(out, '/'), "a --file name has a slash");
    }
    free(out);
  }
  free(s);
  return 0;
}
