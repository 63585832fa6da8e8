/* The per-user registry of running servers (see registry.h). */
#include "registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "isotime.h"
#include "json.h"
#include "log.h"
#include "runtime.h"

#define ENTRY_MAX_BYTES (1u << 20)
#define TMP_STALE_SECONDS 60

struct registry_entry {
  int fd;
  char path[PATH_MAX + 64];
};

/* $XDG_RUNTIME_DIR when it is set to an absolute path of an existing
 * directory, else /tmp. The same rule on both sides: the server writes
 * where the CLI looks. */
static void base_dir(char *out, size_t outlen, const char **sub) {
  const char *x = getenv("XDG_RUNTIME_DIR");
  struct stat sb;
  if (x && x[0] == '/' && stat(x, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    snprintf(out, outlen, "%s", x);
    *sub = REGISTRY_SUBDIR;
  } else {
    snprintf(out, outlen, "/tmp");
    *sub = NULL;
  }
}

int registry_dir(char *out, size_t outlen, int create) {
  char base[PATH_MAX], why[96];
  const char *sub;
  base_dir(base, sizeof base, &sub);
  int n =
      sub ? snprintf(out, outlen, "%s/%s", base, sub)
          : snprintf(out, outlen, "%s/mirrorstate-%ld", base, (long)geteuid());
  if (n < 0 || (size_t)n >= outlen) return -ENAMETOOLONG;
  if (create && mkdir(out, 0700) != 0 && errno != EEXIST) {
    int e = errno;
    log_warn("cannot create the server registry %s: %s", out, strerror(e));
    return -e;
  }
  struct stat sb;
  if (lstat(out, &sb) != 0) return -ENOENT;
  const char *bad = runtime_untrusted(&sb, 1, why, sizeof why);
  if (!bad && (sb.st_mode & 0077) && create && chmod(out, 0700) != 0)
    bad = strerror(errno);
  if (bad) {
    log_warn("not using the server registry %s: %s", out, bad);
    return -EPERM;
  }
  return 0;
}

/* --- the server's entry ------------------------------------------------- */

/* The absolute form of path: its real path, or for a file that does not
 * exist yet, its directory's real path and its base name. */
static void absolute(const char *path, char *out, size_t outlen) {
  char real[PATH_MAX], dir[PATH_MAX];
  if (realpath(path, real)) {
    snprintf(out, outlen, "%s", real);
    return;
  }
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  const char *base = slash ? slash + 1 : path;
  if (slash == dir)
    snprintf(dir, sizeof dir, "/");
  else if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  int n = realpath(dir, real) ? snprintf(out, outlen, "%s%s%s", real,
                                         strcmp(real, "/") ? "/" : "", base)
                              : snprintf(out, outlen, "%s", path);
  if (n < 0 || (size_t)n >= outlen) snprintf(out, outlen, "%s", path);
}

static void add_path(cJSON *arr, const char *path) {
  char abs[PATH_MAX + NAME_MAX + 2];
  absolute(path, abs, sizeof abs);
  cJSON_AddItemToArray(arr, cJSON_CreateString(abs));
}

static cJSON *entry_json(const struct config *cfg, const char *session,
                         const char *url, const char *runtime) {
  char cwd[PATH_MAX], when[ISOTIME_LEN];
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "pid", (double)getpid());
  cJSON_AddStringToObject(o, "session", session);
  cJSON_AddStringToObject(o, "url", url);
  cJSON_AddStringToObject(o, "server", "mirrorstate/" MS_VERSION);
  cJSON_AddStringToObject(o, "start_dir", getcwd(cwd, sizeof cwd) ? cwd : "");
  cJSON *files = cJSON_AddArrayToObject(o, "files");
  for (int i = 0; i < cfg->nfiles; i++)
    add_path(files, cfg->files[i]);
  cJSON *dirs = cJSON_AddArrayToObject(o, "dirs");
  for (int i = 0; i < cfg->ndirs; i++)
    add_path(dirs, cfg->dirs[i]);
  if (runtime) cJSON_AddStringToObject(o, "runtime", runtime);
  /* Where the token is, never the token: the runtime file holds it too. */
  cJSON_AddBoolToObject(o, "token_required", cfg->token != NULL);
  if (cfg->token_file) {
    char abs[PATH_MAX + NAME_MAX + 2];
    absolute(cfg->token_file, abs, sizeof abs);
    cJSON_AddStringToObject(o, "token_file", abs);
  }
  if (cfg->log_file) {
    char abs[PATH_MAX + NAME_MAX + 2];
    absolute(cfg->log_file, abs, sizeof abs);
    cJSON_AddStringToObject(o, "log", abs);
  }
  isotime_format(isotime_now_ms(), when, sizeof when);
  cJSON_AddStringToObject(o, "started", when);
  return o;
}

struct registry_entry *registry_add(const struct config *cfg,
                                    const char *session, const char *url,
                                    const char *runtime) {
  char dir[PATH_MAX], tmp[PATH_MAX + 64];
  if (registry_dir(dir, sizeof dir, 1) != 0) return NULL;
  struct registry_entry *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->fd = -1;
  if ((size_t)snprintf(e->path, sizeof e->path, "%s/%ld-%s.json", dir,
                       (long)getpid(), session) >= sizeof e->path ||
      (size_t)snprintf(tmp, sizeof tmp, "%s/.%ld-%s.tmp", dir, (long)getpid(),
                       session) >= sizeof tmp) {
    free(e);
    return NULL;
  }
  cJSON *o = entry_json(cfg, session, url, runtime);
  size_t len;
  char *text = json_print_pretty(o, &len);
  cJSON_Delete(o);
  /* Locked before it is renamed into place: a reader never sees the
   * entry of a live server unlocked, nor half written. */
  int rc = text ? 0 : -ENOMEM;
  if (!rc) {
    e->fd =
        open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (e->fd < 0) rc = -errno;
  }
  if (!rc && flock(e->fd, LOCK_EX | LOCK_NB) != 0) rc = -errno;
  if (!rc && write(e->fd, text, len) != (ssize_t)len)
    rc = errno ? -errno : -EIO;
  if (!rc && rename(tmp, e->path) != 0) rc = -errno;
  free(text);
  if (rc) {
    log_warn("cannot write %s: %s (mirrorstate status --all will not list "
             "this server)",
             e->path, strerror(-rc));
    if (e->fd >= 0) {
      unlink(tmp);
      close(e->fd);
    }
    free(e);
    return NULL;
  }
  log_debug("registry entry %s", e->path);
  return e;
}

void registry_remove(struct registry_entry *e) {
  if (!e) return;
  /* Unlinked before the lock goes: a reader that took the lock after us
   * finds no file left to remove. */
  unlink(e->path);
  close(e->fd);
  free(e);
}

/* --- reading ------------------------------------------------------------ */

/* Is the server that wrote the entry open on fd gone? Its lock says; where
 * locks do not work, its pid does. */
static int gone(int fd, const cJSON *entry) {
  if (flock(fd, LOCK_SH | LOCK_NB) == 0) return 1;
  if (errno == EWOULDBLOCK) return 0;
  const cJSON *pid = cJSON_GetObjectItemCaseSensitive(entry, "pid");
  return cJSON_IsNumber(pid) && kill((pid_t)pid->valuedouble, 0) != 0 &&
         errno == ESRCH;
}

static char *read_fd(int fd, size_t size) {
  char *buf = malloc(size + 1);
  if (!buf) return NULL;
  size_t n = 0;
  while (n < size) {
    ssize_t r = read(fd, buf + n, size - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  return buf;
}

/* Reads one entry; removes it if its server is gone. A new object or NULL. */
static cJSON *read_entry(const char *path) {
  int fd =
      open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat sb, now;
  char why[96];
  const char *bad = fstat(fd, &sb) != 0
                        ? strerror(errno)
                        : runtime_untrusted(&sb, 0, why, sizeof why);
  if (!bad && sb.st_size > ENTRY_MAX_BYTES) bad = "too large";
  if (bad) {
    log_warn("ignoring %s: %s; only entries that you own and nobody else "
             "can write are used",
             path, bad);
    close(fd);
    return NULL;
  }
  char *text = read_fd(fd, (size_t)sb.st_size);
  cJSON *o = text ? json_parse(text, strlen(text), NULL) : NULL;
  free(text);
  if (gone(fd, o)) {
    /* The name is this entry's own: the inode check only guards against
     * a file put there by hand meanwhile. */
    if (lstat(path, &now) == 0 && now.st_ino == sb.st_ino &&
        now.st_dev == sb.st_dev)
      unlink(path);
    log_debug("removed the stale registry entry %s", path);
    cJSON_Delete(o);
    o = NULL;
  }
  close(fd);
  if (o && !cJSON_IsObject(o)) {
    cJSON_Delete(o);
    o = NULL;
  }
  if (o) cJSON_AddStringToObject(o, "entry", path);
  return o;
}

/* A temporary file left by a server that died while writing its entry. */
static void drop_stale_tmp(const char *path) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat sb;
  if (fd < 0) return;
  if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
      time(NULL) - sb.st_mtime > TMP_STALE_SECONDS &&
      flock(fd, LOCK_SH | LOCK_NB) == 0)
    unlink(path);
  close(fd);
}

static int by_start(const void *a, const void *b) {
  const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
  const cJSON *sx = cJSON_GetObjectItemCaseSensitive(x, "started");
  const cJSON *sy = cJSON_GetObjectItemCaseSensitive(y, "started");
  int c = strcmp(cJSON_IsString(sx) ? sx->valuestring : "",
                 cJSON_IsString(sy) ? sy->valuestring : "");
  if (c) return c;
  const cJSON *px = cJSON_GetObjectItemCaseSensitive(x, "pid");
  const cJSON *py = cJSON_GetObjectItemCaseSensitive(y, "pid");
  double dx = cJSON_IsNumber(px) ? px->valuedouble : 0;
  double dy = cJSON_IsNumber(py) ? py->valuedouble : 0;
  return (dx > dy) - (dx < dy);
}

cJSON *registry_list(void) {
  cJSON *out = cJSON_CreateArray();
  char dir[PATH_MAX];
  if (!out || registry_dir(dir, sizeof dir, 0) != 0) return out;
  DIR *d = opendir(dir);
  if (!d) return out;
  cJSON **found = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    const char *name = de->d_name;
    size_t len = strlen(name);
    char path[PATH_MAX + NAME_MAX + 2];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (name[0] == '.') {
      if (len > 4 && !strcmp(name + len - 4, ".tmp")) drop_stale_tmp(path);
      continue;
    }
    if (len < 6 || strcmp(name + len - 5, ".json") != 0) continue;
    cJSON *e = read_entry(path);
    if (!e) continue;
    if (n == cap) {
      cJSON **p = realloc(found, (cap = cap ? cap * 2 : 8) * sizeof *p);
      if (!p) {
        cJSON_Delete(e);
        break;
      }
      found = p;
    }
    found[n++] = e;
  }
  closedir(d);
  if (n) qsort(found, n, sizeof *found, by_start);
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(out, found[i]);
  free(found);
  return out;
}
