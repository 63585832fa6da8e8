/* The runtime file that lets the CLI find a running server. */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "isotime.h"
#include "json.h"
#include "log.h"
#include "store.h"

#define RUNTIME_MAX_BYTES (1u << 20)

/* The directory the file goes in: that of the first --file, else the first
 * --dir, as an absolute path. */
static int base_dir(const struct config *cfg, char *out, size_t outlen) {
  char dir[PATH_MAX];
  if (cfg->nfiles > 0) {
    snprintf(dir, sizeof dir, "%s", cfg->files[0]);
    char *slash = strrchr(dir, '/');
    if (!slash)
      snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
      dir[1] = '\0';
    else
      *slash = '\0';
  } else if (cfg->ndirs > 0) {
    snprintf(dir, sizeof dir, "%s", cfg->dirs[0]);
  } else {
    return -ENOENT;
  }
  char real[PATH_MAX];
  if (!realpath(dir, real)) return -errno;
  if (strlen(real) + 1 > outlen) return -ENAMETOOLONG;
  memcpy(out, real, strlen(real) + 1);
  return 0;
}

static int runtime_path(const struct config *cfg, char *dir, size_t dirlen,
                        char *file, size_t filelen) {
  char base[PATH_MAX];
  int rc = base_dir(cfg, base, sizeof base);
  if (rc) return rc;
  if ((size_t)snprintf(dir, dirlen, "%s/%s", base, RUNTIME_DIR) >= dirlen ||
      (size_t)snprintf(file, filelen, "%s/%s/%s", base, RUNTIME_DIR,
                       RUNTIME_FILE) >= filelen)
    return -ENAMETOOLONG;
  return 0;
}

int runtime_dir(const struct config *cfg, char *out, size_t outlen) {
  char file[PATH_MAX + 64];
  return runtime_path(cfg, out, outlen, file, sizeof file);
}

/* A URL the CLI can connect to: a wildcard or "tailscale" bind includes
 * loopback, so those are reached through it. */
static void local_url(const struct config *cfg, int port, char *out,
                      size_t outlen) {
  const char *h = cfg->nhosts > 0 ? cfg->hosts[0] : "127.0.0.1";
  if (!strcmp(h, "0.0.0.0") || !strcmp(h, "tailscale")) h = "127.0.0.1";
  if (!strcmp(h, "::")) h = "::1";
  int v6 = strchr(h, ':') != NULL;
  snprintf(out, outlen, "http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "",
           port);
}

static cJSON *runtime_json(const struct config *cfg, const char *session,
                           const struct store *store, int port) {
  char url[400];
  local_url(cfg, port, url, sizeof url);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "url", url);
  cJSON_AddNumberToObject(o, "pid", (double)getpid());
  cJSON_AddStringToObject(o, "session", session);
  if (cfg->token) cJSON_AddStringToObject(o, "token", cfg->token);
  cJSON *names = cJSON_AddArrayToObject(o, "states");
  for (const struct state *st = store->head; st; st = st->next)
    cJSON_AddItemToArray(names, cJSON_CreateString(st->name));
  char when[ISOTIME_LEN];
  isotime_format(isotime_now_ms(), when, sizeof when);
  cJSON_AddStringToObject(o, "started", when);
  return o;
}

/* The directory must be ours and private: it may hold the token. */
static int make_private_dir(const char *dir) {
  if (mkdir(dir, 0700) == 0) return 0;
  if (errno != EEXIST) return -errno;
  struct stat sb;
  if (lstat(dir, &sb) != 0) return -errno;
  if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid()) return -EPERM;
  if ((sb.st_mode & 0077) && chmod(dir, 0700) != 0) return -errno;
  return 0;
}

/* Temporary file (mode 0600 from its creation) renamed over path. */
static int write_private(const char *path, const char *text, size_t len) {
  char tmp[PATH_MAX + 32];
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
  unlink(tmp); /* a stale one; O_EXCL then never opens what else is there */
  int fd =
      open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -errno;
  ssize_t n = write(fd, text, len);
  int rc = n == (ssize_t)len ? 0 : (n < 0 ? -errno : -EIO);
  if (close(fd) != 0 && !rc) rc = -errno;
  if (!rc && rename(tmp, path) != 0) rc = -errno;
  if (rc) unlink(tmp);
  return rc;
}

int runtime_write(const struct config *cfg, const char *session,
                  const struct store *store, int port) {
  char dir[PATH_MAX], file[PATH_MAX];
  int rc = runtime_path(cfg, dir, sizeof dir, file, sizeof file);
  if (!rc) rc = make_private_dir(dir);
  if (rc) {
    log_warn("cannot write %s/%s: %s (the CLI then needs --url)", RUNTIME_DIR,
             RUNTIME_FILE, strerror(-rc));
    return rc;
  }
  cJSON *o = runtime_json(cfg, session, store, port);
  size_t len;
  char *text = json_print_pretty(o, &len);
  cJSON_Delete(o);
  rc = text ? write_private(file, text, len) : -ENOMEM;
  free(text);
  if (rc)
    log_warn("cannot write %s: %s (the CLI then needs --url)", file,
             strerror(-rc));
  else
    log_debug("runtime file %s", file);
  return rc;
}

void runtime_remove(const struct config *cfg) {
  char dir[PATH_MAX], file[PATH_MAX];
  if (runtime_path(cfg, dir, sizeof dir, file, sizeof file)) return;
  cJSON *o = runtime_read(file);
  const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
  int ours = cJSON_IsNumber(pid) && pid->valuedouble == (double)getpid();
  cJSON_Delete(o);
  if (!ours) return;
  unlink(file);
  rmdir(dir); /* fails harmlessly when something else lives there */
}

/* What it says decides where the CLI sends its token: only a file the
 * user wrote, that no one else can change, may say it. */
const char *runtime_untrusted(const struct stat *sb, int want_dir, char *buf,
                              size_t buflen) {
  if (want_dir ? !S_ISDIR(sb->st_mode) : !S_ISREG(sb->st_mode))
    return want_dir ? "not a directory" : "not a regular file";
  if (sb->st_uid != geteuid()) {
    snprintf(buf, buflen, "owned by uid %ld, not by you (uid %ld)",
             (long)sb->st_uid, (long)geteuid());
    return buf;
  }
  if (sb->st_mode & 022) {
    snprintf(buf, buflen, "writable by %s (mode %04o)",
             sb->st_mode & 002 ? "everyone" : "its group",
             (unsigned)(sb->st_mode & 07777));
    return buf;
  }
  return NULL;
}

static void say_ignored(const char *path, const char *why) {
  log_warn("ignoring %s: %s; the CLI only uses a runtime file that you own "
           "and nobody else can write (give --url instead)",
           path, why);
}

int runtime_find(const char *dir, char *out, size_t outlen) {
  char cur[PATH_MAX], rtdir[PATH_MAX + 16], why[96];
  if (!realpath(dir, cur)) return -ENOENT;
  for (;;) {
    struct stat sb, db;
    const char *sep = strcmp(cur, "/") ? "/" : "";
    int n =
        snprintf(out, outlen, "%s%s%s/%s", cur, sep, RUNTIME_DIR, RUNTIME_FILE);
    snprintf(rtdir, sizeof rtdir, "%s%s%s", cur, sep, RUNTIME_DIR);
    if (n > 0 && (size_t)n < outlen && lstat(out, &sb) == 0) {
      const char *bad = lstat(rtdir, &db) != 0
                            ? strerror(errno)
                            : runtime_untrusted(&db, 1, why, sizeof why);
      if (bad)
        say_ignored(rtdir, bad);
      else if ((bad = runtime_untrusted(&sb, 0, why, sizeof why)))
        say_ignored(out, bad);
      else
        return 0;
    }
    char *slash = strrchr(cur, '/');
    if (!slash || strcmp(cur, "/") == 0) return -ENOENT;
    if (slash == cur)
      cur[1] = '\0';
    else
      *slash = '\0';
  }
}

cJSON *runtime_read(const char *path) {
  /* Checked again on what is opened: O_NOFOLLOW, O_NONBLOCK (a FIFO must
   * not hang the CLI or the server's exit), and the owner and mode. */
  int fd =
      open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat sb;
  char why[96];
  const char *bad = fstat(fd, &sb) != 0 ? strerror(errno)
                                        : runtime_untrusted(&sb, 0, why, sizeof why);
  if (!bad && sb.st_size > RUNTIME_MAX_BYTES) bad = "too large";
  if (bad) {
    say_ignored(path, bad);
    close(fd);
    return NULL;
  }
  char *buf = malloc((size_t)sb.st_size + 1);
  ssize_t n = buf ? read(fd, buf, (size_t)sb.st_size) : -1;
  close(fd);
  cJSON *o = n >= 0 ? json_parse(buf, (size_t)n, NULL) : NULL;
  free(buf);
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}
