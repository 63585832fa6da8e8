/* The file mirror: inotify on the loop, merges from disk, atomic writes. */
#include "mirror.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hub.h"
#include "json.h"
#include "log.h"
#include "merge.h"
#include "names.h"
#include "patch.h"

/* IN_ATTRIB too: a chmod can make an unreadable file readable again. */
#define WATCH_MASK                                                             \
  (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM |      \
   IN_DELETE_SELF | IN_ATTRIB | IN_ONLYDIR)

/* A watched directory: the parent of a --file, or a folder below a --dir. */
struct watch {
  int wd;
  char *path; /* absolute, no trailing slash */
  int root;   /* index of its --dir root, or -1 */
  char *rel;  /* path below that root ("" or "sub/"), or NULL */
  struct watch *next;
};

/* The mirror's bookkeeping for one state's file. */
struct mirror_file {
  struct mirror *m;
  struct state *st;
  char *dir, *base;           /* where the file is named */
  char *real_dir, *real_base; /* where a symlink points, or NULL */
  uv_timer_t settle_timer;
  uv_timer_t write_timer;
  int settling, write_scheduled, dirty, touched;
  char *last_text; /* bytes last read from or written to the file */
  size_t last_len;
  int have_last;
  struct file_sig sig; /* of last_text */
  int have_sig;
  uint64_t disk_version; /* current's version that equals disk; 0: none */
  struct mirror_file *next;
};

struct mirror {
  uv_loop_t *loop;
  struct hub *h;
  const struct config *cfg;
  int ifd;
  uv_poll_t poll;
  struct watch *watches;
  struct mirror_file *files;
  char *roots[CLI_MAX_LIST]; /* --dir roots, absolute */
  int nroots;
  int stopping;
  int loading; /* reading the files at start */
};

static void process_file(struct mirror_file *f, int final);
static void write_file(struct mirror_file *f);

/* --- paths and watches --------------------------------------------------- */

static char *absolute(const char *path) {
  if (path[0] == '/') return strdup(path);
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return NULL;
  size_t n = strlen(cwd) + strlen(path) + 2;
  char *out = malloc(n);
  if (out) snprintf(out, n, "%s/%s", cwd, path);
  return out;
}

static void split(const char *path, char **dir, char **base) {
  const char *slash = strrchr(path, '/');
  *dir = strndup(path, slash && slash != path ? (size_t)(slash - path) : 1);
  *base = strdup(slash ? slash + 1 : path);
}

static struct watch *watch_add(struct mirror *m, const char *dir, int root,
                               const char *rel) {
  int wd = inotify_add_watch(m->ifd, dir, WATCH_MASK);
  if (wd < 0) {
    log_warn("cannot watch %s: %s", dir, strerror(errno));
    return NULL;
  }
  for (struct watch *w = m->watches; w; w = w->next)
    if (w->wd == wd) return w; /* inotify hands out one wd per directory */
  struct watch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->wd = wd;
  w->path = strdup(dir);
  w->root = root;
  w->rel = rel ? strdup(rel) : NULL;
  w->next = m->watches;
  m->watches = w;
  return w;
}

static struct watch *watch_find(struct mirror *m, int wd) {
  for (struct watch *w = m->watches; w; w = w->next)
    if (w->wd == wd) return w;
  return NULL;
}

static void watch_forget(struct mirror *m, int wd) {
  for (struct watch **p = &m->watches; *p; p = &(*p)->next)
    if ((*p)->wd == wd) {
      struct watch *w = *p;
      *p = w->next;
      free(w->path);
      free(w->rel);
      free(w);
      return;
    }
}

/* --- files --------------------------------------------------------------- */

static void on_settle(uv_timer_t *t) {
  process_file(t->data, 1);
}
static void on_write_timer(uv_timer_t *t) {
  struct mirror_file *f = t->data;
  f->write_scheduled = 0;
  write_file(f);
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

static struct mirror_file *file_add(struct mirror *m, struct state *st) {
  struct mirror_file *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->m = m;
  f->st = st;
  split(st->path, &f->dir, &f->base);
  remove_stale_temps(f->dir, f->base);
  char real[PATH_MAX];
  struct stat lsb;
  if (lstat(st->path, &lsb) == 0 && S_ISLNK(lsb.st_mode) &&
      realpath(st->path, real))
    split(real, &f->real_dir, &f->real_base);
  uv_timer_init(m->loop, &f->settle_timer);
  uv_timer_init(m->loop, &f->write_timer);
  f->settle_timer.data = f->write_timer.data = f;
  st->file = f;
  f->next = m->files;
  m->files = f;
  return f;
}

static struct mirror_file *file_find(struct mirror *m, const char *dir,
                                     const char *base) {
  for (struct mirror_file *f = m->files; f; f = f->next) {
    if (strcmp(f->base, base) == 0 && strcmp(f->dir, dir) == 0) return f;
    if (f->real_dir && strcmp(f->real_base, base) == 0 &&
        strcmp(f->real_dir, dir) == 0)
      return f;
  }
  return NULL;
}

static void remember(struct mirror_file *f, char *text, size_t len,
                     const struct file_sig *sig) {
  free(f->last_text);
  f->last_text = text;
  f->last_len = len;
  f->have_last = 1;
  if (sig) f->sig = *sig;
  f->have_sig = sig != NULL;
}

static void set_status(struct mirror_file *f, enum file_status status) {
  struct state *st = f->st;
  if (st->status == status && status != FILE_INVALID) return;
  enum file_status was = st->status;
  st->status = status;
  /* Going from absent to ok is news only through the snapshot. */
  if (status == FILE_OK && (was == FILE_ABSENT || was == FILE_OK)) return;
  hub_file_status(f->m->h, st);
}

/* The line of text at a 1-based line number, for error messages. */
static char *line_at(const char *text, size_t len, int line) {
  const char *p = text, *end = text + len;
  for (int l = 1; l < line && p < end; p++)
    if (*p == '\n') l++;
  const char *eol = memchr(p, '\n', (size_t)(end - p));
  size_t n = (size_t)((eol ? eol : end) - p);
  return strndup(p, n > 300 ? 300 : n);
}

static void report_invalid(struct mirror_file *f, const char *text, size_t len,
                           const struct json_error *err) {
  struct state *st = f->st;
  st->error = *err;
  free(st->error_text);
  st->error_text = text ? line_at(text, len, err->line) : NULL;
  set_status(f, FILE_INVALID);
}

static void report_io_error(struct mirror_file *f, int rc) {
  /* Whatever the file holds once readable again is news. */
  f->have_last = f->have_sig = 0;
  struct json_error err = {0};
  snprintf(err.message, sizeof err.message, "cannot read the file: %s",
           rc == -EFBIG ? "larger than --max-state" : strerror(-rc));
  err.line = err.column = 1;
  report_invalid(f, NULL, 0, &err);
}

static void schedule_write(struct mirror_file *f) {
  if (f->write_scheduled || f->m->stopping) return;
  f->write_scheduled = 1;
  uv_timer_start(&f->write_timer, on_write_timer,
                 (uint64_t)f->m->cfg->write_delay_ms, 0);
}

/* The file's content cannot become the state: it, or its merge with the
 * browsers' changes, would be larger than --max-state. Reported like an
 * unreadable file, so it is never overwritten; the state is unchanged. */
static int report_too_large(struct mirror_file *f, cJSON *theirs) {
  cJSON_Delete(theirs);
  f->have_last = f->have_sig = 0;
  struct json_error err = {0};
  snprintf(err.message, sizeof err.message,
           "the state would be larger than --max-state (%zu bytes)",
           f->m->cfg->max_state);
  err.line = err.column = 1;
  report_invalid(f, NULL, 0, &err);
  return -1;
}

/* A valid file content D' arrived: fold it into the state. Returns 0, or
 * -1 when the result would be larger than --max-state (then nothing
 * changed, and the file is reported). */
static int merge_from_disk(struct mirror_file *f, cJSON *theirs) {
  struct state *st = f->st;
  struct hub *h = f->m->h;
  if (!st->current) {
    cJSON *ops = NULL;
    int rc = store_replace(st, cJSON_Duplicate(theirs, 1), "file", &ops);
    if (rc == PATCH_TOO_LARGE) return report_too_large(f, theirs);
    cJSON_Delete(st->disk);
    st->disk = theirs;
    if (rc == 0) {
      f->disk_version = st->version;
      set_status(f, FILE_OK);
      hub_appeared(h, st, f->m->loading ? NULL : ops);
      cJSON_Delete(ops);
    }
    return 0;
  }
  cJSON *ops;
  if (!f->dirty && st->disk && f->disk_version == st->version) {
    /* Nothing unsaved: the file simply wins, and the diff is the change
     * (empty if the agent only reformatted). */
    ops = patch_diff(st->current, theirs);
    bool changed = false;
    char err[128];
    int rc = ops ? store_apply(st, ops, "file", &changed, err, sizeof err)
                 : PATCH_NOMEM;
    if (rc == PATCH_TOO_LARGE) {
      cJSON_Delete(ops);
      return report_too_large(f, theirs);
    }
    if (changed) hub_changed(h, st, ops, "file", NULL);
    cJSON_Delete(ops);
    cJSON_Delete(st->disk);
    st->disk = theirs;
    f->disk_version = st->version;
    return 0;
  }
  if (st->disk && json_equal(st->disk, theirs)) {
    cJSON_Delete(theirs); /* reformatted, or touched: nothing new */
    return 0;
  }
  cJSON *merged = merge3(st->disk, st->current, theirs);
  if (!merged) {
    cJSON_Delete(theirs);
    return 0;
  }
  int differs = !json_equal(merged, theirs);
  int rc = store_replace(st, merged, "file", &ops);
  if (rc == PATCH_TOO_LARGE) return report_too_large(f, theirs);
  if (rc == 0) {
    if (cJSON_GetArraySize(ops) > 0) hub_changed(h, st, ops, "file", NULL);
    cJSON_Delete(ops);
  }
  cJSON_Delete(st->disk);
  st->disk = theirs;
  f->disk_version = differs ? 0 : st->version;
  f->dirty = differs;
  if (differs) schedule_write(f);
  return 0;
}

/* Reads the file after an event (or at start) and acts on what it holds.
 * final: the settle window is over, so an invalid file is reported. */
/* The file may have become a symlink (or pointed elsewhere) since start:
 * watch where it points now, so edits made through the target are seen. */
static void follow_link(struct mirror_file *f) {
  struct stat lsb;
  char real[PATH_MAX];
  if (lstat(f->st->path, &lsb) != 0 || !S_ISLNK(lsb.st_mode) ||
      !realpath(f->st->path, real))
    return;
  char *dir, *base;
  split(real, &dir, &base);
  if (f->real_dir && strcmp(dir, f->real_dir) == 0 &&
      strcmp(base, f->real_base) == 0) {
    free(dir);
    free(base);
    return;
  }
  free(f->real_dir);
  free(f->real_base);
  f->real_dir = dir;
  f->real_base = base;
  watch_add(f->m, dir, -1, NULL);
}

static void process_file(struct mirror_file *f, int final) {
  struct state *st = f->st;
  char *text;
  size_t len;
  struct file_sig sig;
  follow_link(f);
  int rc = file_read(st->path, f->m->cfg->max_state, &text, &len, &sig);
  if (rc == -ENOENT) {
    uv_timer_stop(&f->settle_timer);
    f->settling = 0;
    f->have_last = f->have_sig = 0;
    if (st->current) {
      set_status(f, FILE_REMOVED);
      f->dirty = 1; /* written again on the next change */
    }
    return;
  }
  if (rc) {
    report_io_error(f, rc);
    return;
  }
  if (f->have_last && len == f->last_len &&
      memcmp(text, f->last_text, len) == 0) {
    /* Our own write, or a save of the same bytes: nothing new. */
    free(text);
    f->sig = sig;
    f->have_sig = 1;
    if (f->settling) {
      uv_timer_stop(&f->settle_timer);
      f->settling = 0;
    }
    return;
  }
  struct json_error err;
  cJSON *theirs = json_parse(text, len, &err);
  if (!theirs) {
    if (!final && f->m->cfg->settle_ms > 0) {
      /* An editor may be mid-save: give it the settle window. */
      if (!f->settling) {
        f->settling = 1;
        uv_timer_start(&f->settle_timer, on_settle,
                       (uint64_t)f->m->cfg->settle_ms, 0);
      }
      free(text);
      return;
    }
    f->settling = 0;
    report_invalid(f, text, len, &err);
    remember(f, text, len, &sig);
    return;
  }
  uv_timer_stop(&f->settle_timer);
  f->settling = 0;
  remember(f, text, len, &sig);
  int was_bad = st->status != FILE_OK && st->status != FILE_ABSENT;
  if (merge_from_disk(f, theirs) != 0) return;
  if (was_bad) set_status(f, FILE_OK);
  if (f->dirty) schedule_write(f);
}

/* Applies the history since the last write to st->disk, or copies. */
static void disk_catch_up(struct mirror_file *f) {
  struct state *st = f->st;
  if (st->disk && f->disk_version > 0 && f->disk_version <= st->version) {
    int first = -1;
    for (int i = 0; i < st->hist_len; i++)
      if (store_history(st, i)->version == f->disk_version + 1) first = i;
    if (f->disk_version == st->version) return;
    if (first >= 0) {
      int ok = 1;
      for (int i = first; i < st->hist_len && ok; i++)
        ok = patch_apply(&st->disk, store_history(st, i)->ops, NULL, NULL, 0) ==
             PATCH_OK;
      if (ok) {
        f->disk_version = st->version;
        return;
      }
    }
  }
  cJSON_Delete(st->disk);
  st->disk = cJSON_Duplicate(st->current, 1);
  f->disk_version = st->version;
}

/* --- inotify ------------------------------------------------------------- */

static struct state *dir_state(struct mirror *m, int root, const char *rel);
static void scan_dir(struct mirror *m, int root, const char *dir,
                     const char *rel);

static void touch(struct mirror_file *f) {
  f->touched = 1;
}

static void rescan_all(struct mirror *m) {
  for (int i = 0; i < m->nroots; i++)
    scan_dir(m, i, m->roots[i], "");
  for (struct mirror_file *f = m->files; f; f = f->next)
    touch(f);
}

static void on_event(struct mirror *m, const struct inotify_event *ev) {
  if (ev->mask & IN_Q_OVERFLOW) {
    log_warn("inotify queue overflowed: re-reading every file");
    rescan_all(m);
    return;
  }
  struct watch *w = watch_find(m, ev->wd);
  if (!w) return;
  if (ev->mask & IN_IGNORED) {
    watch_forget(m, ev->wd);
    return;
  }
  if (ev->mask & IN_DELETE_SELF) {
    for (struct mirror_file *f = m->files; f; f = f->next)
      if (strcmp(f->dir, w->path) == 0) touch(f);
    return;
  }
  if (!ev->len) return;
  if (ev->mask & IN_ISDIR) {
    if (w->root >= 0 && (ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
        ev->name[0] != '.' && strcmp(ev->name, "node_modules") != 0) {
      char dir[PATH_MAX], rel[PATH_MAX];
      snprintf(dir, sizeof dir, "%s/%s", w->path, ev->name);
      snprintf(rel, sizeof rel, "%s%s/", w->rel, ev->name);
      scan_dir(m, w->root, dir, rel); /* files may already be inside */
    }
    return;
  }
  struct mirror_file *f = file_find(m, w->path, ev->name);
  /* A creation alone carries no content yet (its CLOSE_WRITE follows),
   * unless it is a symlink, which gets no other event. */
  if ((ev->mask & IN_CREATE) && !(ev->mask & ~(IN_CREATE | IN_ISDIR))) {
    struct stat lsb;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", w->path, ev->name);
    if (!f || lstat(path, &lsb) != 0 || !S_ISLNK(lsb.st_mode)) return;
  }
  if (!f && w->root >= 0 && (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))) {
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%s%s", w->rel, ev->name);
    struct state *st = dir_state(m, w->root, rel);
    f = st ? st->file : NULL;
  }
  if (f) touch(f);
}

/* Reads every queued event, then processes each touched file once. */
static void drain_events(struct mirror *m) {
  char buf[64 * 1024]
      __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(m->ifd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      on_event(m, ev);
      p += sizeof *ev + ev->len;
    }
  }
  for (struct mirror_file *f = m->files; f; f = f->next)
    if (f->touched) {
      f->touched = 0;
      process_file(f, 0);
    }
}

static void on_inotify(uv_poll_t *p, int status, int events) {
  (void)events;
  if (status == 0) drain_events(p->data);
}

/* --- writing ------------------------------------------------------------- */

static void write_unsaved(struct mirror_file *f) {
  struct state *st = f->st;
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s.unsaved", st->path);
  size_t len;
  char *text = json_print_pretty(st->current, &len);
  int rc =
      text ? file_write_atomic(path, text, len, NULL, NULL, NULL) : -ENOMEM;
  free(text);
  if (rc)
    log_error("%s is invalid and the unsaved changes could not be kept: %s",
              st->path, strerror(-rc));
  else
    log_warn("%s holds invalid JSON: unsaved changes written to %s", st->path,
             path);
}

/* why: what went wrong, for clients and the log (hub_file_status tells
 * both). Reported once per failure, not on every retry. */
static void write_failed(struct mirror_file *f, int rc, const char *why) {
  struct state *st = f->st;
  if (st->status != FILE_WRITE_FAILED || !st->write_error ||
      strcmp(st->write_error, why) != 0) {
    free(st->write_error);
    st->write_error = strdup(why);
    set_status(f, FILE_WRITE_FAILED);
  }
  /* Retry, so the change lands once space or permission returns; a state
   * too large to write waits for the next change instead. */
  if (!f->m->stopping && rc != -EFBIG) {
    f->write_scheduled = 1;
    uv_timer_start(&f->write_timer, on_write_timer, 1000, 0);
  }
}

/* The write replaced a save the agent made after our last look (the swap
 * kept it). Returns 1 if it was handled here (text is then owned), 0 if it
 * holds nothing new and the write stands as usual. */
static int displaced(struct mirror_file *f, struct file_swap *swap, char *text,
                     size_t len, const struct file_sig *sig) {
  struct state *st = f->st;
  struct json_error err;
  cJSON *theirs = json_parse(swap->text, swap->len, &err);
  if (!theirs) {
    /* An invalid file is never overwritten: put the agent's text back;
     * the settle window then reports it or sees it fixed. */
    file_swap_restore(swap);
    free(text);
    f->have_last = f->have_sig = 0;
    process_file(f, 0);
    return 1;
  }
  if (st->disk && json_equal(st->disk, theirs)) {
    cJSON_Delete(theirs);
    file_swap_done(swap);
    return 0;
  }
  log_debug("%s: saved while being written: merging that save", st->path);
  if (merge_from_disk(f, theirs) != 0) {
    /* Too large to take in: the save goes back into the file. */
    file_swap_restore(swap);
    free(text);
    return 1;
  }
  file_swap_done(swap);
  remember(f, text, len, sig);
  /* The file holds our bytes, without the agent's change: write again. */
  f->dirty = 1;
  f->disk_version = 0;
  schedule_write(f);
  set_status(f, FILE_OK);
  return 1;
}

static void write_file(struct mirror_file *f) {
  struct mirror *m = f->m;
  struct state *st = f->st;
  /* An agent may have saved since we last looked: merge that first, so the
   * rename below never clobbers it. */
  drain_events(m);
  struct file_sig now;
  int rc = file_stat(st->path, &now);
  if ((rc == 0 && (!f->have_sig || !file_sig_equal(&now, &f->sig))) ||
      (rc == -ENOENT && f->have_sig))
    process_file(f, 0);
  /* A save in progress: the settle window decides, and schedules this
   * write again if the result still needs one. */
  if (f->settling) return;
  if (!f->dirty || !st->current || st->status == FILE_INVALID) return;
  size_t len;
  char *text = json_print_pretty(st->current, &len);
  if (!text) return;
  if (len > m->cfg->max_state) {
    /* Written, it could not be read back: keep it in memory and say so. */
    char why[96];
    snprintf(why, sizeof why, "the state is %zu bytes, over --max-state", len);
    free(text);
    write_failed(f, -EFBIG, why);
    return;
  }
  if (st->status == FILE_ABSENT || st->status == FILE_REMOVED)
    file_make_parents(st->path);
  struct file_sig sig;
  struct file_swap swap;
  struct file_known known = {f->have_last ? f->last_text : NULL, f->last_len,
                             f->have_sig ? &f->sig : NULL};
  rc = file_write_atomic(st->path, text, len, &sig, &known, &swap);
  if (rc < 0) {
    free(text);
    write_failed(f, rc, strerror(-rc));
    return;
  }
  if (rc == 1 && displaced(f, &swap, text, len, &sig)) return;
  remember(f, text, len, &sig);
  f->dirty = 0;
  disk_catch_up(f);
  set_status(f, FILE_OK);
}

void mirror_changed(struct mirror *m, struct state *st) {
  struct mirror_file *f = st->file;
  (void)m;
  f->dirty = 1;
  if (st->status != FILE_INVALID) schedule_write(f);
}

void mirror_flush(struct mirror *m) {
  for (struct mirror_file *f = m->files; f; f = f->next) {
    if (!f->dirty || !f->st->current) continue;
    if (f->write_scheduled) uv_timer_stop(&f->write_timer);
    f->write_scheduled = 0;
    if (f->st->status != FILE_INVALID) write_file(f);
    if (f->dirty) write_unsaved(f); /* invalid, or the write failed */
  }
}

/* --- states -------------------------------------------------------------- */

static struct state *new_state(struct mirror *m, const char *name,
                               const char *path) {
  struct state *st = store_add(&m->h->store, name, path);
  if (!st) return NULL;
  if (!file_add(m, st)) return NULL;
  return st;
}

/* The state for a file at rel below --dir root, created (and loaded) if
 * new. NULL if rel names no valid state. */
static struct state *dir_state(struct mirror *m, int root, const char *rel) {
  char name[NAME_MAX_LEN + 1], path[PATH_MAX];
  if (name_from_relpath(rel, name, sizeof name) != 0) return NULL;
  struct state *st = store_find(&m->h->store, name);
  if (st) return st;
  snprintf(path, sizeof path, "%s/%s", m->roots[root], rel);
  st = new_state(m, name, path);
  if (st) hub_states_changed(m->h);
  return st;
}

static void scan_dir(struct mirror *m, int root, const char *dir,
                     const char *rel) {
  watch_add(m, dir, root, rel);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.' || strcmp(de->d_name, "node_modules") == 0)
      continue;
    char path[PATH_MAX], sub[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    struct stat sb;
    if (stat(path, &sb) != 0) continue;
    if (S_ISDIR(sb.st_mode)) {
      snprintf(sub, sizeof sub, "%s%s/", rel, de->d_name);
      scan_dir(m, root, path, sub);
    } else if (S_ISREG(sb.st_mode)) {
      snprintf(sub, sizeof sub, "%s%s", rel, de->d_name);
      struct state *st = dir_state(m, root, sub);
      if (st) touch(st->file);
    }
  }
  closedir(d);
}

struct state *mirror_state(struct mirror *m, const char *name) {
  struct state *st = store_find(&m->h->store, name);
  if (st || m->nroots == 0 || !name_valid(name)) return st;
  char rel[PATH_MAX];
  snprintf(rel, sizeof rel, "%s.json", name);
  return dir_state(m, 0, rel);
}

/* --- start and stop ------------------------------------------------------ */

static int add_file_arg(struct mirror *m, const char *arg) {
  char name[NAME_MAX_LEN + 1];
  if (name_from_file(arg, name, sizeof name) != 0) {
    log_error("--file %s: cannot name a state after this file (use letters, "
              "digits, '-', '_', '.')",
              arg);
    return -1;
  }
  if (store_find(&m->h->store, name)) {
    log_error("--file %s: a state called '%s' is already mirrored", arg, name);
    return -1;
  }
  char *path = absolute(arg);
  if (!path) return -1;
  char *dir, *base;
  split(path, &dir, &base);
  struct stat sb;
  int rc = -1;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    log_error("--file %s: the directory %s does not exist", arg, dir);
  } else if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    log_error("--file %s: is a directory (use --dir to mirror a directory)",
              arg);
  } else if (stat(path, &sb) == 0 && access(path, R_OK | W_OK) != 0) {
    log_error("--file %s: %s", arg, strerror(errno));
  } else if (!new_state(m, name, path)) {
    log_error("out of memory");
  } else if (!watch_add(m, dir, -1, NULL)) {
    log_error("--file %s: cannot watch %s", arg, dir);
  } else {
    struct mirror_file *f = store_find(&m->h->store, name)->file;
    if (f->real_dir) watch_add(m, f->real_dir, -1, NULL);
    rc = 0;
  }
  free(dir);
  free(base);
  free(path);
  return rc;
}

static int add_dir_arg(struct mirror *m, const char *arg) {
  struct stat sb;
  if (stat(arg, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    log_error("--dir %s: not a directory", arg);
    return -1;
  }
  char real[PATH_MAX];
  if (!realpath(arg, real) || !(m->roots[m->nroots] = strdup(real))) return -1;
  m->nroots++;
  scan_dir(m, m->nroots - 1, real, "");
  return 0;
}

struct mirror *mirror_start(uv_loop_t *loop, struct hub *h,
                            const struct config *cfg) {
  struct mirror *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->loop = loop;
  m->h = h;
  m->cfg = cfg;
  h->mirror = m;
  m->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (m->ifd < 0) {
    log_error("inotify: %s", strerror(errno));
    h->mirror = NULL;
    free(m);
    return NULL;
  }
  uv_poll_init(loop, &m->poll, m->ifd);
  m->poll.data = m;
  for (int i = 0; i < cfg->nfiles; i++)
    if (add_file_arg(m, cfg->files[i]) != 0) goto fail;
  for (int i = 0; i < cfg->ndirs; i++)
    if (add_dir_arg(m, cfg->dirs[i]) != 0) goto fail;
  /* Load every file now; events that raced with the load are read next. */
  m->loading = 1;
  for (struct mirror_file *f = m->files; f; f = f->next)
    process_file(f, 1);
  m->loading = 0;
  for (struct mirror_file *f = m->files; f; f = f->next)
    f->touched = 0;
  uv_poll_start(&m->poll, UV_READABLE, on_inotify);
  return m;
fail:
  mirror_stop(m);
  return NULL;
}

static void on_closed(uv_handle_t *h) {
  (void)h;
}

void mirror_stop(struct mirror *m) {
  m->stopping = 1;
  if (!uv_is_closing((uv_handle_t *)&m->poll))
    uv_close((uv_handle_t *)&m->poll, on_closed);
  for (struct mirror_file *f = m->files; f; f = f->next) {
    if (!uv_is_closing((uv_handle_t *)&f->settle_timer)) {
      uv_close((uv_handle_t *)&f->settle_timer, on_closed);
      uv_close((uv_handle_t *)&f->write_timer, on_closed);
    }
  }
}

void mirror_free(struct mirror *m) {
  if (!m) return;
  if (m->ifd >= 0) close(m->ifd);
  while (m->watches)
    watch_forget(m, m->watches->wd);
  while (m->files) {
    struct mirror_file *f = m->files;
    m->files = f->next;
    free(f->dir);
    free(f->base);
    free(f->real_dir);
    free(f->real_base);
    free(f->last_text);
    free(f);
  }
  for (int i = 0; i < m->nroots; i++)
    free(m->roots[i]);
  free(m);
}
