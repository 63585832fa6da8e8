/* State names and their validation. */
#include "names.h"

#include <string.h>

static int name_char_ok(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
         c == '@' || c == '+' || c == ' ';
}

int name_valid(const char *name) {
  if (!name) return 0;
  size_t len = strlen(name);
  if (len == 0 || len > NAME_MAX_LEN) return 0;
  /* ".." nowhere, not only as a segment: a name is pasted into paths, and
   * "a..b" next to an extension or another name is one edit away from a
   * parent reference. */
  if (strstr(name, "..")) return 0;
  const char *seg = name;
  for (;;) {
    const char *end = strchr(seg, '/');
    size_t n = end ? (size_t)(end - seg) : strlen(seg);
    if (n == 0 || seg[0] == '.') return 0; /* also rejects "." and ".." */
    for (size_t i = 0; i < n; i++)
      if (!name_char_ok((unsigned char)seg[i])) return 0;
    if (!end) return 1;
    seg = end + 1;
  }
}

static int strip_json(const char *s, char *out, size_t outlen) {
  size_t len = strlen(s);
  if (len <= 5 || strcmp(s + len - 5, ".json") != 0) return -1;
  if (len - 5 >= outlen) return -1;
  memcpy(out, s, len - 5);
  out[len - 5] = '\0';
  return 0;
}

int name_from_relpath(const char *rel, char *out, size_t outlen) {
  for (const char *seg = rel; seg; seg = strchr(seg, '/')) {
    if (*seg == '/') seg++;
    if (strncmp(seg, "node_modules/", 13) == 0) return -1;
  }
  if (strip_json(rel, out, outlen) != 0) return -1;
  return name_valid(out) ? 0 : -1;
}

int name_from_file(const char *path, char *out, size_t outlen) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strip_json(base, out, outlen) != 0) {
    /* A file without the .json suffix is named by its whole base name. */
    if (strlen(base) >= outlen) return -1;
    strcpy(out, base);
  }
  return name_valid(out) ? 0 : -1;
}
