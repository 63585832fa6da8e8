/* Which of the app's files may be served, and opening them. */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "runtime.h"

struct static_files {
  char root[PATH_MAX]; /* real path of the directory */
  const struct config *cfg;
};

int static_new(const struct config *cfg, struct static_files **out) {
  *out = NULL;
  struct static_files *s = calloc(1, sizeof *s);
  if (!s) return -1;
  if (!realpath(cfg->static_dir, s->root)) {
    log_error("--static %s: %s", cfg->static_dir, strerror(errno));
    free(s);
    return -1;
  }
  s->cfg = cfg;
  *out = s;
  return 0;
}

void static_free(struct static_files *s) {
  free(s);
}

static int has_dot_segment(const char *path) {
  for (const char *p = path; *p; p++)
    if (*p == '.' && (p == path || p[-1] == '/')) return 1;
  return 0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* The real path of a file given on the command line, or of where it would
 * be (its directory's real path and its name) when it does not exist. */
static int real_target(const char *path, char *out) {
  if (realpath(path, out)) return 0;
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  const char *name = slash ? slash + 1 : path;
  size_t n = slash ? (size_t)(slash - path) : 0;
  if (n >= sizeof dir) return -1;
  memcpy(dir, path, n);
  dir[n] = '\0';
  if (!realpath(n ? dir : ".", out)) return -1;
  size_t len = strlen(out);
  if (len + 1 + strlen(name) >= PATH_MAX) return -1;
  snprintf(out + len, PATH_MAX - len, "/%s", name);
  return 0;
}

static int same_file(const char *real, const char *configured) {
  char target[PATH_MAX];
  return configured && real_target(configured, target) == 0 &&
         strcmp(real, target) == 0;
}

static int under(const char *real, const char *dir) {
  size_t n = strlen(dir);
  return strncmp(real, dir, n) == 0 && (real[n] == '/' || n == 1);
}

/* Non-zero if st is the file at path (following links): the same inode,
 * whatever name or hard link reached it. */
static int same_inode(const struct stat *st, const char *path) {
  struct stat o;
  return path && stat(path, &o) == 0 && o.st_dev == st->st_dev &&
         o.st_ino == st->st_ino;
}

/* Non-zero if st is a file the server keeps beside a mirrored one: the
 * runtime file (in the directory of any --file or --dir, which covers the
 * one it writes) or a NAME.json.unsaved. */
static int kept_inode(const struct stat *st, const char *entry, int is_dir) {
  char path[PATH_MAX];
  size_t n = strlen(entry);
  if (n + sizeof "/" RUNTIME_DIR "/" RUNTIME_FILE > sizeof path) return 0;
  if (!is_dir) {
    snprintf(path, sizeof path, "%s.unsaved", entry);
    if (same_inode(st, path)) return 1;
  }
  const char *slash = strrchr(entry, '/');
  size_t dlen = is_dir ? n : slash ? (size_t)(slash - entry) : 0;
  snprintf(path, sizeof path, "%.*s%s" RUNTIME_DIR "/" RUNTIME_FILE, (int)dlen,
           entry, is_dir || slash ? "/" : "");
  return same_inode(st, path);
}

/* Non-zero if the opened file is one the server keeps, under any name. */
static int denied_inode(const struct static_files *s, const struct stat *st) {
  const struct config *cfg = s->cfg;
  for (int i = 0; i < cfg->nfiles; i++)
    if (same_inode(st, cfg->files[i]) || kept_inode(st, cfg->files[i], 0))
      return 1;
  for (int i = 0; i < cfg->ndirs; i++)
    if (kept_inode(st, cfg->dirs[i], 1)) return 1;
  return same_inode(st, cfg->log_file) || same_inode(st, cfg->token_file);
}

/* Non-zero if the resolved file must not be served. */
static int denied(const struct static_files *s, const char *real) {
  const struct config *cfg = s->cfg;
  if (!under(real, s->root)) return 1;
  if (has_dot_segment(real + strlen(s->root))) return 1;
  if (ends_with(real, ".unsaved")) return 1;
  for (int i = 0; i < cfg->nfiles; i++)
    if (same_file(real, cfg->files[i])) return 1;
  for (int i = 0; i < cfg->ndirs; i++) {
    char dir[PATH_MAX];
    if (realpath(cfg->dirs[i], dir) && under(real, dir) &&
        ends_with(real, ".json"))
      return 1;
  }
  return same_file(real, cfg->log_file) || same_file(real, cfg->token_file);
}

int static_open(const struct static_files *s, const char *path,
                const char **mime) {
  if (path[0] != '/' || has_dot_segment(path)) return -ENOENT;
  char want[PATH_MAX], real[PATH_MAX];
  size_t n = strlen(path);
  const char *index = path[n - 1] == '/' ? "index.html" : "";
  if (snprintf(want, sizeof want, "%s%s%s", s->root, path, index) >=
      (int)sizeof want)
    return -ENOENT;
  if (!realpath(want, real) || denied(s, real)) return -ENOENT;
  /* Opened without following a link (realpath resolved them all) and
   * without blocking (a FIFO), then required to be a regular file. */
  int fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -ENOENT;
  struct stat st;
  int ok = fstat(fd, &st) == 0;
  if (!ok || !S_ISREG(st.st_mode)) {
    close(fd);
    return ok && S_ISDIR(st.st_mode) && !*index ? -EISDIR : -ENOENT;
  }
  /* What was opened is what was checked: no directory above it was
   * swapped for a link in between, and it is no kept file by another name
   * (a hard link to the state or the runtime file). */
  char proc[48], opened[PATH_MAX];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  ssize_t len = readlink(proc, opened, sizeof opened - 1);
  if (len < 0 || (opened[len] = '\0', strcmp(opened, real) != 0) ||
      denied_inode(s, &st)) {
    close(fd);
    return -ENOENT;
  }
  *mime = static_mime(real);
  return fd;
}

const char *static_mime(const char *name) {
  static const struct {
    const char *ext, *mime;
  } types[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".cjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
      {".csv", "text/csv; charset=utf-8"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".avif", "image/avif"},
      {".ico", "image/x-icon"},
      {".wasm", "application/wasm"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".otf", "font/otf"},
      {".pdf", "application/pdf"},
      {".mp3", "audio/mpeg"},
      {".wav", "audio/wav"},
      {".mp4", "video/mp4"},
      {".webm", "video/webm"},
  };
  const char *slash = strrchr(name, '/');
  const char *dot = strrchr(slash ? slash : name, '.');
  if (dot)
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
      if (strcasecmp(dot, types[i].ext) == 0) return types[i].mime;
  return "application/octet-stream";
}
