/* Lookup of the web assets packed into the binary. */
#include "assets.h"

#include <string.h>

const struct asset *assets_find(const char *path) {
  for (const struct asset *a = assets_table; a->path; a++)
    if (strcmp(a->path, path) == 0) return a;
  return NULL;
}

const char *assets_mime(const char *path) {
  static const struct {
    const char *ext, *mime;
  } types[] = {
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".html", "text/html; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".md", "text/markdown; charset=utf-8"},
      {".ts", "text/plain; charset=utf-8"},
  };
  const char *dot = strrchr(path, '.');
  if (dot)
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
      if (strcmp(dot, types[i].ext) == 0) return types[i].mime;
  return "application/octet-stream";
}
