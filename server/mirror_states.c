/* Where the mirror's states come from and go: the --file and --dir
 * arguments at start, the --dir scan, names looked up by clients, and
 * states nobody needs any more. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mirror_int.h"
#include "names.h"

/* --- the arguments ------------------------------------------------------ */

static char *absolute(const char *path) {
  if (path[0] == '/') return strdup(path);
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return NULL;
  size_t n = strlen(cwd) + strlen(path) + 2;
  char *out = malloc(n);
  if (out) snprintf(out, n, "%s/%s", cwd, path);
  return out;
}

/* A server killed mid-write leaves its temporary file behind: remove
 * those of this file (".NAME.json.mirrorstate-XXXXXX") on start. */
static void remove_stale_temps(const char *dir, const char *base) {
  char prefix[NAME_MAX + 32];
  int n = snprintf(prefix, sizeof prefix, ".%s.mirrorstate-", base);
  DIR *d = opendir(dir);
  if (!d || n <= 0) {
    if (d) closedir(d);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d)))
    if (strncmp(de->d_name, prefix, (size_t)n) == 0 &&
        strlen(de->d_name) == (size_t)n + 6)
      unlinkat(dirfd(d), de->d_name, 0);
  closedir(d);
}

/* A --file's root: the real directory it is named in, and the one it
 * really is in at start when it is a symlink (the link the user named is
 * theirs to make). NULL with errno set on failure. */
static const struct file_root *file_root_add(struct mirror *m, const char *dir,
                                             const char *path) {
  char real[PATH_MAX];
  struct file_root *r = &m->file_roots[m->nfile_roots];
  char **dirs = m->file_root_dirs[m->nfile_roots];
  if (!realpath(dir, real) || !(dirs[0] = strdup(real))) return NULL;
  m->nfile_roots++;
  r->dirs[r->ndirs++] = dirs[0];
  r->follow = m->cfg->follow_symlinks;
  /* The target's directory, also when the target does not exist yet. */
  char target[PATH_MAX], *slash;
  if (file_link_target(path, target, sizeof target) == 0 &&
      (slash = strrchr(target, '/'))) {
    *slash = '\0';
    if (realpath(slash == target ? "/" : target, real) &&
        strcmp(real, dirs[0]) != 0 && (dirs[1] = strdup(real)))
      r->dirs[r->ndirs++] = dirs[1];
  }
  return r;
}

int mirror__add_file(struct mirror *m, const char *arg) {
  char name[NAME_MAX_LEN + 1];
  if (name_from_file(arg, name, sizeof name) != 0) {
    log_error("--file %s: cannot name a state after this file (use letters, "
              "digits, '-', '_', '.')",
              arg);
    return -1;
  }
  if (store_find(m->store, name)) {
    log_error("--file %s: a state called '%s' is already mirrored", arg, name);
    return -1;
  }
  char *path = absolute(arg);
  if (!path) return -1;
  char *dir, *base;
  mirror__split(path, &dir, &base);
  struct stat sb;
  int rc = -1;
  const struct file_root *root = NULL;
  remove_stale_temps(dir, base);
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    log_error("--file %s: the directory %s does not exist", arg, dir);
  } else if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    log_error("--file %s: is a directory (use --dir to mirror a directory)",
              arg);
  } else if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
    log_error("--file %s: is %s, not a regular file", arg, file_kind(path));
  } else if (stat(path, &sb) == 0 && access(path, R_OK | W_OK) != 0) {
    log_error("--file %s: %s", arg, strerror(errno));
  } else if (!(root = file_root_add(m, dir, path))) {
    log_error("--file %s: %s", arg, strerror(errno));
  } else if (!mirror__new_state(m, name, path, root, -1)) {
    log_error("out of memory");
  } else if (!mirror__watch_add(m, dir, -1, NULL)) {
    log_error("--file %s: cannot watch %s", arg, dir);
  } else {
    struct mirror_file *f = store_find(m->store, name)->file;
    if (f->real_dir) mirror__watch_add(m, f->real_dir, -1, NULL);
    rc = 0;
  }
  free(dir);
  free(base);
  free(path);
  return rc;
}

int mirror__add_dir(struct mirror *m, const char *arg) {
  struct stat sb;
  if (stat(arg, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    log_error("--dir %s: not a directory", arg);
    return -1;
  }
  char real[PATH_MAX];
  if (!realpath(arg, real) || !(m->roots[m->nroots] = strdup(real))) return -1;
  struct file_root *r = &m->dir_roots[m->nroots];
  r->dirs[0] = m->roots[m->nroots];
  r->ndirs = 1;
  r->follow = m->cfg->follow_symlinks;
  m->nroots++;
  mirror__scan(m, m->nroots - 1, real, "");
  return 0;
}

/* --- --dir names --------------------------------------------------------- */

static const char WHY_OUTSIDE[] =
    "a symbolic link leads it outside the mirrored directory (not followed "
    "without --follow-symlinks)";
static const char WHY_FULL[] = "--max-states states are mirrored already";

struct state *mirror__dir_state(struct mirror *m, int root, const char *rel) {
  char name[NAME_MAX_LEN + 1], path[PATH_MAX];
  m->why = NULL;
  if (name_from_relpath(rel, name, sizeof name) != 0) return NULL;
  struct state *st = store_find(m->store, name);
  if (st) return st;
  if ((size_t)snprintf(path, sizeof path, "%s/%s", m->roots[root], rel) >=
      sizeof path)
    return NULL;
  const struct file_root *r = &m->dir_roots[root];
  if (file_leads_inside(r, path) != 1) {
    m->why = WHY_OUTSIDE;
    return NULL;
  }
  if (m->store->nstates >= m->cfg->max_states) {
    m->why = WHY_FULL;
    if (!m->full_warned)
      log_warn("%d states are mirrored (--max-states): '%s' and further "
               "new names are not",
               m->store->nstates, name);
    m->full_warned = 1;
    return NULL;
  }
  st = mirror__new_state(m, name, path, r, root);
  if (!st) return NULL;
  struct stat lsb;
  if (lstat(path, &lsb) == 0) {
    mirror__tell_states(m);
  } else {
    /* Only looked up so far: listed once it turns out to be kept. */
    st->file->unlisted = 1;
    mirror__sweep_soon(m);
  }
  return st;
}

/* --- the scan ------------------------------------------------------------ */

/* Directories already scanned in one pass, by (device, inode): a symlink
 * loop, or two links to one directory, is walked once. */
struct visited {
  struct {
    dev_t dev;
    ino_t ino;
  } * dirs;
  size_t n, cap;
};

static int first_visit(struct visited *v, const struct stat *sb) {
  for (size_t i = 0; i < v->n; i++)
    if (v->dirs[i].dev == sb->st_dev && v->dirs[i].ino == sb->st_ino) return 0;
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 16;
    void *more = realloc(v->dirs, cap * sizeof *v->dirs);
    if (!more) return 0;
    v->dirs = more;
    v->cap = cap;
  }
  v->dirs[v->n].dev = sb->st_dev;
  v->dirs[v->n].ino = sb->st_ino;
  v->n++;
  return 1;
}

static int leads_out(const struct file_root *r, const char *path) {
  char real[PATH_MAX];
  if (r->follow) return 0;
  return !realpath(path, real) || !file_root_contains(r, real);
}

/* A server killed mid-write leaves its temporary file behind
 * (".NAME.json.mirrorstate-XXXXXX"): those are removed on start. */
static int stale_temp(const char *name) {
  static const char mark[] = ".json.mirrorstate-";
  const char *p = strstr(name, mark);
  return name[0] == '.' && p && strlen(p + sizeof mark - 1) == 6;
}

static void scan(struct mirror *m, int root, const char *dir, const char *rel,
                 struct visited *v) {
  const struct file_root *r = &m->dir_roots[root];
  /* O_DIRECTORY: a FIFO in a directory's place fails at once. */
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  struct stat sb;
  DIR *d = NULL;
  if (fstat(dfd, &sb) != 0 || !first_visit(v, &sb) || !(d = fdopendir(dfd))) {
    close(dfd);
    return;
  }
  mirror__watch_add(m, dir, root, rel);
  struct dirent *de;
  while ((de = readdir(d))) {
    if (m->loading && stale_temp(de->d_name)) unlinkat(dirfd(d), de->d_name, 0);
    if (de->d_name[0] == '.' || strcmp(de->d_name, "node_modules") == 0)
      continue;
    char path[PATH_MAX], sub[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >=
        sizeof path)
      continue;
    /* Follows links but opens nothing, so no FIFO or device is touched. */
    struct stat esb;
    if (fstatat(dirfd(d), de->d_name, &esb, 0) != 0) continue;
    if (S_ISDIR(esb.st_mode)) {
      if (leads_out(r, path)) {
        log_warn("%s: a symbolic link to a directory outside %s: not "
                 "followed (--follow-symlinks follows it)",
                 path, m->roots[root]);
        continue;
      }
      snprintf(sub, sizeof sub, "%s%s/", rel, de->d_name);
      scan(m, root, path, sub, v);
    } else {
      /* Anything else named *.json is a state; one that is not a regular
       * file is reported as unreadable when it is read. */
      snprintf(sub, sizeof sub, "%s%s", rel, de->d_name);
      struct state *st = mirror__dir_state(m, root, sub);
      if (st)
        st->file->touched = 1;
      else if (m->why == WHY_OUTSIDE)
        log_warn("%s: a symbolic link leading outside %s: not mirrored "
                 "(--follow-symlinks follows it)",
                 path, m->roots[root]);
    }
  }
  closedir(d);
}

void mirror__scan(struct mirror *m, int root, const char *dir,
                  const char *rel) {
  struct visited v = {0};
  scan(m, root, dir, rel, &v);
  free(v.dirs);
}

/* --- look-ups and states that go --------------------------------------- */

struct state *mirror_state(struct mirror *m, const char *name) {
  struct state *st = store_find(m->store, name);
  m->why = NULL;
  if (st || m->nroots == 0 || !name_valid(name)) return st;
  char rel[PATH_MAX];
  snprintf(rel, sizeof rel, "%s.json", name);
  return mirror__dir_state(m, 0, rel);
}

const char *mirror_why(const struct mirror *m) {
  return m ? m->why : NULL;
}

/* A state nobody needs: under a --dir, never had a value, has no file and
 * nothing pending, and nobody subscribed. Dropping it loses nothing. */
static int unneeded(struct mirror *m, const struct mirror_file *f) {
  const struct state *st = f->st;
  return f->dir_root >= 0 && !st->current && st->version == 0 &&
         st->status == FILE_ABSENT && !f->dirty && !f->settling &&
         !f->write_scheduled && !f->touched && mirror__subscribers(m, st) == 0;
}

static void on_sweep(uv_timer_t *t) {
  struct mirror *m = t->data;
  m->sweep_scheduled = 0;
  if (m->stopping) return;
  int changed = 0;
  for (struct mirror_file *f = m->files, *next; f; f = next) {
    next = f->next;
    if (f->st->current) continue;
    if (unneeded(m, f)) {
      changed |= !f->unlisted;
      mirror__drop(m, f);
    } else if (f->unlisted) {
      f->unlisted = 0;
      changed = 1;
    }
  }
  if (m->store->nstates < m->cfg->max_states) m->full_warned = 0;
  if (changed) mirror__tell_states(m);
}

void mirror__sweep_soon(struct mirror *m) {
  if (m->sweep_scheduled || m->stopping) return;
  m->sweep_scheduled = 1;
  uv_timer_start(&m->sweep_timer, on_sweep, 0, 0);
}

void mirror_unused(struct mirror *m) {
  if (m) mirror__sweep_soon(m);
}
