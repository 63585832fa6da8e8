/* Claims on mirrored files: flock'ed lock files (see claim.h). */
#include "claim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cJSON.h>

#include "log.h"
#include "names.h"
#include "runtime.h"

#define MAX_CLAIMS (2 * CLI_MAX_LIST + 1)

struct claim {
  int fd;
  char path[PATH_MAX]; /* DIR/.mirrorstate/NAME.lock */
};

struct claims {
  struct claim c[MAX_CLAIMS];
  int n;
  char url[512];
};

/* Who holds the lock file open on fd. */
struct holder {
  char who[600]; /* "pid 12, http://127.0.0.1:7420" */
  char url[512]; /* "" if it has not said yet */
};

static void describe_holder(int fd, struct holder *h) {
  char buf[1024];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  cJSON *j = n > 0 ? cJSON_ParseWithLength(buf, (size_t)n) : NULL;
  const cJSON *pid = cJSON_GetObjectItemCaseSensitive(j, "pid");
  const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "url");
  h->url[0] = '\0';
  if (cJSON_IsString(url))
    snprintf(h->url, sizeof h->url, "%s", url->valuestring);
  if (cJSON_IsNumber(pid) && h->url[0])
    snprintf(h->who, sizeof h->who, "pid %.0f, %s", pid->valuedouble, h->url);
  else if (cJSON_IsNumber(pid))
    snprintf(h->who, sizeof h->who, "pid %.0f, still starting",
             pid->valuedouble);
  else
    snprintf(h->who, sizeof h->who, "a server that has not said its pid yet");
  cJSON_Delete(j);
}

static void refuse(const char *what, const char *how, const struct holder *h) {
  if (h->url[0])
    log_error("%s is mirrored already by another server%s (%s); stop that "
              "one first, or talk to it: mirrorstate --url %s status",
              what, how, h->who, h->url);
  else
    log_error("%s is mirrored already by another server%s (%s); stop that "
              "one first",
              what, how, h->who);
}

/* Locks path (created if need be). Returns 0 with *fd set, -EBUSY with
 * the holder in who, or another negative errno. A lock file unlinked by
 * its last holder between our open and our flock is opened again. */
static int lock_path(const char *path, int *fd, struct holder *who) {
  for (int tries = 0; tries < 10; tries++) {
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f < 0) return -errno;
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      if (e == EWOULDBLOCK) describe_holder(f, who);
      close(f);
      return e == EWOULDBLOCK ? -EBUSY : -e;
    }
    struct stat a, b;
    if (fstat(f, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino) {
      *fd = f;
      return 0;
    }
    close(f);
  }
  return -EAGAIN;
}

/* Is path (a lock file that exists) held by a live server? Fills who. */
static int held(const char *path, struct holder *who) {
  int f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (f < 0) return 0;
  int busy = flock(f, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  if (busy) describe_holder(f, who);
  close(f);
  return busy;
}

static void write_note(struct claims *cs, int fd) {
  char text[700];
  int n = snprintf(text, sizeof text, "{\"pid\": %ld%s%s%s}\n", (long)getpid(),
                   cs->url[0] ? ", \"url\": \"" : "", cs->url,
                   cs->url[0] ? "\"" : "");
  if (n < 0 || (size_t)n >= sizeof text || ftruncate(fd, 0) != 0 ||
      pwrite(fd, text, (size_t)n, 0) != n)
    log_debug("cannot note this server in its lock file: %s", strerror(errno));
}

/* Takes the lock file NAME in DIR/.mirrorstate. Returns 0 (taken, or
 * skipped because the place cannot hold one) or -EBUSY after saying so. */
static int take(struct claims *cs, const char *dir, const char *name,
                const char *what) {
  if (cs->n >= MAX_CLAIMS) return 0;
  struct claim *c = &cs->c[cs->n];
  char rdir[PATH_MAX];
  if ((size_t)snprintf(rdir, sizeof rdir, "%s/%s", dir, RUNTIME_DIR) >=
          sizeof rdir ||
      (size_t)snprintf(c->path, sizeof c->path, "%s/%s", rdir, name) >=
          sizeof c->path)
    return 0;
  if (mkdir(rdir, 0700) != 0 && errno != EEXIST) {
    log_debug("no claim on %s: %s: %s", what, rdir, strerror(errno));
    return 0;
  }
  struct holder who;
  int rc = lock_path(c->path, &c->fd, &who);
  if (rc == -EBUSY) {
    refuse(what, "", &who);
    return rc;
  }
  if (rc) {
    log_debug("no claim on %s: %s: %s", what, c->path, strerror(-rc));
    rmdir(rdir); /* if we made it for nothing */
    return 0;
  }
  write_note(cs, c->fd);
  cs->n++;
  return 0;
}

/* Non-zero if a --dir mirrors what is at rel below it: a .json file
 * outside dot folders and node_modules (its state name is then written to
 * name), or a directory it scans. */
static int mirrored_below(const char *rel, int is_file, char *name,
                          size_t len) {
  if (is_file) return name_from_relpath(rel, name, len) == 0;
  return rel[0] != '.' && !strstr(rel, "/.") && !strstr(rel, "node_modules");
}

/* Refuses real (a file's or directory's real path) if a live --dir
 * server above it mirrors it: its root holds .mirrorstate/dir.lock. */
static int covered_by_dir_server(const char *real, int is_file,
                                 const char *what) {
  char up[PATH_MAX];
  if (strlen(real) >= sizeof up) return 0;
  memcpy(up, real, strlen(real) + 1);
  for (;;) {
    char *slash = strrchr(up, '/');
    if (!slash) return 0;
    if (slash == up)
      up[1] = '\0';
    else
      *slash = '\0';
    const char *rel = real + strlen(up) + (strcmp(up, "/") ? 1 : 0);
    char name[NAME_MAX_LEN + 1], probe[PATH_MAX + 64], how[PATH_MAX + 32];
    struct holder who;
    int mirrored = mirrored_below(rel, is_file, name, sizeof name);
    snprintf(probe, sizeof probe, "%s%s%s/dir.lock", up,
             strcmp(up, "/") ? "/" : "", RUNTIME_DIR);
    if (mirrored && held(probe, &who)) {
      snprintf(how, sizeof how, " with --dir %s", up);
      refuse(what, how, &who);
      return 1;
    }
    if (strcmp(up, "/") == 0) return 0;
  }
}

/* Refuses a --dir whose own files (not those of its subdirectories: that
 * would take a scan of the tree) another server mirrors with --file. */
static int files_held_in(const char *dir) {
  char rdir[PATH_MAX + 16];
  snprintf(rdir, sizeof rdir, "%s/%s", dir, RUNTIME_DIR);
  DIR *d = opendir(rdir);
  if (!d) return 0;
  struct dirent *de;
  int busy = 0;
  while (!busy && (de = readdir(d))) {
    size_t n = strlen(de->d_name);
    if (n < 11 || strcmp(de->d_name + n - 10, ".json.lock") != 0) continue;
    char path[PATH_MAX + 300], what[PATH_MAX + 300];
    struct holder who;
    snprintf(path, sizeof path, "%s/%s", rdir, de->d_name);
    if (!held(path, &who)) continue;
    snprintf(what, sizeof what, "%s/%.*s", dir, (int)(n - 5), de->d_name);
    refuse(what, "", &who);
    busy = 1;
  }
  closedir(d);
  return busy;
}

/* The real path of a --file (after symlinks, as the mirror writes
 * through them), split into directory and base name. -1 if its directory
 * does not exist. */
static int real_file(const char *arg, char *dir, char *base) {
  char real[PATH_MAX], tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", realpath(arg, real) ? real : arg);
  char *slash = strrchr(tmp, '/');
  const char *b = slash ? slash + 1 : tmp;
  if (!*b || strlen(b) > NAME_MAX) return -1;
  memcpy(base, b, strlen(b) + 1);
  if (slash == tmp) {
    snprintf(dir, PATH_MAX, "/");
    return 0;
  }
  if (slash) *slash = '\0';
  return realpath(slash ? tmp : ".", dir) ? 0 : -1;
}

/* If real is below dir (both real paths), the part below it; else NULL. */
static const char *below(const char *real, const char *dir) {
  size_t n = strlen(dir);
  if (strcmp(dir, "/") == 0) return real[1] ? real + 1 : NULL;
  return strncmp(real, dir, n) == 0 && real[n] == '/' && real[n + 1]
             ? real + n + 1
             : NULL;
}

/* The real paths of cfg's --file and --dir arguments ("" when unknown:
 * the mirror reports what is wrong with those). */
struct real_args {
  char files[CLI_MAX_LIST][PATH_MAX + NAME_MAX + 2];
  char dirs[CLI_MAX_LIST][PATH_MAX];
};

/* Refuses a command line that names one file twice: the same --file twice
 * (or two paths of one file, through a link), a --dir twice or inside
 * another one, a --file inside a --dir that mirrors it. The file would be
 * two states, each writing over the other's changes. Returns 0, or 2 after
 * saying which arguments overlap. */
static int check_overlaps(const struct config *cfg, struct real_args *r) {
  for (int i = 0; i < cfg->nfiles; i++) {
    char dir[PATH_MAX], base[NAME_MAX + 1];
    r->files[i][0] = '\0';
    if (real_file(cfg->files[i], dir, base) == 0)
      snprintf(r->files[i], sizeof r->files[i], "%s%s%s", dir,
               strcmp(dir, "/") ? "/" : "", base);
  }
  for (int i = 0; i < cfg->ndirs; i++)
    if (!realpath(cfg->dirs[i], r->dirs[i])) r->dirs[i][0] = '\0';
  for (int i = 0; i < cfg->nfiles; i++)
    for (int j = 0; j < i; j++) {
      if (!r->files[i][0] || strcmp(r->files[i], r->files[j]) != 0) continue;
      if (strcmp(cfg->files[i], cfg->files[j]) == 0)
        log_error("--file %s is given twice", cfg->files[i]);
      else
        log_error("--file %s and --file %s are the same file (%s): give it "
                  "once",
                  cfg->files[j], cfg->files[i], r->files[i]);
      return 2;
    }
  for (int i = 0; i < cfg->ndirs; i++)
    for (int j = 0; j < cfg->ndirs; j++) {
      if (i == j || !r->dirs[i][0] || !r->dirs[j][0]) continue;
      const char *rel = below(r->dirs[i], r->dirs[j]);
      char name[NAME_MAX_LEN + 1];
      if (j < i && strcmp(r->dirs[i], r->dirs[j]) == 0) {
        if (strcmp(cfg->dirs[i], cfg->dirs[j]) == 0)
          log_error("--dir %s is given twice", cfg->dirs[i]);
        else
          log_error("--dir %s and --dir %s are the same directory (%s): give "
                    "it once",
                    cfg->dirs[j], cfg->dirs[i], r->dirs[i]);
        return 2;
      }
      if (rel && mirrored_below(rel, 0, name, sizeof name)) {
        log_error("--dir %s is inside --dir %s, which mirrors its files "
                  "already (as states %s/...): give one or the other",
                  cfg->dirs[i], cfg->dirs[j], rel);
        return 2;
      }
    }
  for (int i = 0; i < cfg->nfiles; i++)
    for (int j = 0; j < cfg->ndirs; j++) {
      const char *rel = r->files[i][0] && r->dirs[j][0]
                            ? below(r->files[i], r->dirs[j])
                            : NULL;
      char name[NAME_MAX_LEN + 1];
      if (rel && mirrored_below(rel, 1, name, sizeof name)) {
        log_error("--file %s is inside --dir %s, which mirrors it already "
                  "(as state '%s'): give one or the other",
                  cfg->files[i], cfg->dirs[j], name);
        return 2;
      }
    }
  return 0;
}

int claims_take(const struct config *cfg, struct claims **out) {
  *out = NULL;
  struct real_args *real = malloc(sizeof *real);
  int overlap = real ? check_overlaps(cfg, real) : 0;
  free(real);
  if (overlap) return overlap;
  struct claims *cs = calloc(1, sizeof *cs);
  *out = cs;
  if (!cs) return 0; /* no claims, no harm: serving goes on */
  for (int i = 0; i < cfg->nfiles; i++) {
    char dir[PATH_MAX], base[NAME_MAX + 1], lock[NAME_MAX + 8],
        what[PATH_MAX + NAME_MAX + 2];
    if (real_file(cfg->files[i], dir, base) != 0) continue;
    snprintf(what, sizeof what, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
             base);
    snprintf(lock, sizeof lock, "%s.lock", base);
    if (covered_by_dir_server(what, 1, what) || take(cs, dir, lock, what) != 0)
      goto refused;
  }
  for (int i = 0; i < cfg->ndirs; i++) {
    char real[PATH_MAX], what[PATH_MAX + 16];
    if (!realpath(cfg->dirs[i], real)) continue;
    snprintf(what, sizeof what, "--dir %s", real);
    if (covered_by_dir_server(real, 0, what) || files_held_in(real) ||
        take(cs, real, "dir.lock", what) != 0)
      goto refused;
  }
  return 0;
refused:
  claims_release(cs);
  *out = NULL;
  return 1;
}

int claims_runtime(struct claims *cs, const char *dir) {
  if (!cs || cs->n >= MAX_CLAIMS) return 1;
  struct claim *c = &cs->c[cs->n];
  struct holder who;
  if ((size_t)snprintf(c->path, sizeof c->path, "%s/server.lock", dir) >=
      sizeof c->path)
    return 1;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) return 1;
  int rc = lock_path(c->path, &c->fd, &who);
  if (rc == -EBUSY) {
    log_warn("another server in %s owns its %s (%s): the CLI there finds "
             "that one; give it --url for this one",
             dir, RUNTIME_FILE, who.who);
    return 0;
  }
  if (rc) return 1; /* no lock to be had: write it as before */
  write_note(cs, c->fd);
  cs->n++;
  return 1;
}

void claims_note(struct claims *cs, const char *url) {
  if (!cs) return;
  snprintf(cs->url, sizeof cs->url, "%s", url);
  for (int i = 0; i < cs->n; i++)
    write_note(cs, cs->c[i].fd);
}

void claims_release(struct claims *cs) {
  if (!cs) return;
  for (int i = cs->n - 1; i >= 0; i--) {
    /* Unlinked while still locked: whoever opens the name next gets a
     * new file, and lock_path's inode check catches the old one. */
    unlink(cs->c[i].path);
    close(cs->c[i].fd);
    char *slash = strrchr(cs->c[i].path, '/');
    *slash = '\0';
    rmdir(cs->c[i].path); /* fails harmlessly when something else is there */
  }
  free(cs);
}
