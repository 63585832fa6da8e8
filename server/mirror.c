/* The file mirror: inotify on the loop, merges from disk, atomic writes. */
#include "mirror.h"

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
#include "mirror_int.h"
#include "names.h"
#include "patch.h"

/* IN_ATTRIB too: a chmod can make an unreadable file readable again. */
#define WATCH_MASK                                                             \
  (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM |      \
   IN_DELETE_SELF | IN_ATTRIB | IN_ONLYDIR)

static void process_file(struct mirror_file *f, int final);
static void write_file(struct mirror_file *f);

/* --- paths and watches --------------------------------------------------- */

void mirror__split(const char *path, char **dir, char **base) {
  const char *slash = strrchr(path, '/');
  *dir = strndup(path, slash && slash != path ? (size_t)(slash - path) : 1);
  *base = strdup(slash ? slash + 1 : path);
}

struct watch *mirror__watch_add(struct mirror *m, const char *dir, int root,
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

/* Where the symlink at path really leads, if that is a place this file
 * may be read from: real (PATH_MAX) is filled and 1 returned. */
static int link_inside(const struct mirror_file *f, const char *path,
                       char *real) {
  struct stat lsb;
  return lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode) &&
         realpath(path, real) &&
         (f->root->follow || file_root_contains(f->root, real));
}

static struct mirror_file *file_add(struct mirror *m, struct state *st,
                                    const struct file_root *root,
                                    int dir_root) {
  struct mirror_file *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->m = m;
  f->st = st;
  f->root = root;
  f->dir_root = dir_root;
  mirror__split(st->path, &f->dir, &f->base);
  char real[PATH_MAX];
  if (link_inside(f, st->path, real))
    mirror__split(real, &f->real_dir, &f->real_base);
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

/* text may be NULL (nothing may be quoted). */
static void report_invalid(struct mirror_file *f, const char *text, size_t len,
                           const struct json_error *err) {
  struct state *st = f->st;
  st->error = *err;
  free(st->error_text);
  st->error_text = text ? line_at(text, len, err->line) : NULL;
  set_status(f, FILE_INVALID);
}

/* Why a file cannot be read, in words that quote nothing from it (out
 * holds at least 96 bytes). */
static void read_error_text(struct mirror_file *f, int rc, char *out,
                            size_t outlen) {
  switch (rc) {
  case -EFBIG:
    snprintf(out, outlen, "cannot read the file: larger than --max-state");
    break;
  case -ENODEV:
  case -EISDIR:
    snprintf(out, outlen, "cannot read the file: it is %.30s, not a file",
             file_kind(f->st->path));
    break;
  case -EXDEV:
    snprintf(out, outlen,
             "not read: a symlink leads it out of the mirrored "
             "directory (--follow-symlinks)");
    break;
  default: snprintf(out, outlen, "cannot read the file: %.60s", strerror(-rc));
  }
}

static void report_io_error(struct mirror_file *f, int rc) {
  /* Whatever the file holds once readable again is news. */
  f->have_last = f->have_sig = 0;
  struct json_error err = {0};
  read_error_text(f, rc, err.message, sizeof err.message);
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
  char real[PATH_MAX];
  if (!link_inside(f, f->st->path, real)) return;
  char *dir, *base;
  mirror__split(real, &dir, &base);
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
  mirror__watch_add(f->m, dir, -1, NULL);
}

static void process_file(struct mirror_file *f, int final) {
  struct state *st = f->st;
  struct file_text ft;
  follow_link(f);
  int rc = file_read(st->path, f->root, f->m->cfg->max_state, &ft);
  if (rc == -ENOENT) {
    uv_timer_stop(&f->settle_timer);
    f->settling = 0;
    f->have_last = f->have_sig = 0;
    if (st->current) {
      set_status(f, FILE_REMOVED);
      f->dirty = 1; /* written again on the next change */
    } else if (st->status != FILE_ABSENT) {
      st->status = FILE_ABSENT; /* never had a value: as if never seen */
      hub_states_changed(f->m->h);
    }
    if (!st->current && f->dir_root >= 0) mirror__sweep_soon(f->m);
    return;
  }
  if (rc) {
    report_io_error(f, rc);
    return;
  }
  char *text = ft.buf;
  size_t len = ft.len;
  struct file_sig sig = ft.sig;
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
    if (ft.outside) {
      /* Followed out of the root on request: say where, quote nothing. */
      snprintf(err.message, sizeof err.message,
               "invalid JSON (a file outside the mirrored directory is not "
               "quoted)");
      report_invalid(f, NULL, 0, &err);
    } else {
      report_invalid(f, text, len, &err);
    }
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

static void touch(struct mirror_file *f) {
  f->touched = 1;
}

static void rescan_all(struct mirror *m) {
  for (int i = 0; i < m->nroots; i++)
    mirror__scan(m, i, m->roots[i], "");
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
      mirror__scan(m, w->root, dir, rel); /* files may already be inside */
    }
    return;
  }
  struct mirror_file *f = file_find(m, w->path, ev->name);
  /* A creation alone carries no content yet (its CLOSE_WRITE follows),
   * unless it is a symlink or a FIFO, socket or device, which get no other
   * event (and are then reported as unreadable, without being opened). */
  int created = 0;
  if ((ev->mask & IN_CREATE) && !(ev->mask & ~(IN_CREATE | IN_ISDIR))) {
    struct stat lsb;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", w->path, ev->name);
    if (lstat(path, &lsb) != 0 || S_ISREG(lsb.st_mode) ||
        S_ISDIR(lsb.st_mode) || (S_ISLNK(lsb.st_mode) && !f))
      return;
    created = 1;
  }
  if (!f && w->root >= 0 &&
      (created || (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)))) {
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%s%s", w->rel, ev->name);
    struct state *st = mirror__dir_state(m, w->root, rel);
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
  int rc = text ? file_write_atomic(path, f->root, text, len, NULL, NULL, NULL)
                : -ENOMEM;
  struct stat lsb;
  if (rc == -EXDEV && lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode) &&
      file_leads_inside(f->root, f->dir) == 1 && unlink(path) == 0) {
    /* A symlink there led out of the directory: the changes go into a
     * file of that name instead, never through the link. (Only the link
     * itself, in a directory inside the root, is removed.) */
    log_warn("%s was a symbolic link leading outside the mirrored "
             "directory: replaced by a file",
             path);
    rc = file_write_atomic(path, f->root, text, len, NULL, NULL, NULL);
  }
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
  rc = 0;
  if (st->status == FILE_ABSENT || st->status == FILE_REMOVED)
    rc = file_make_parents(st->path, f->root);
  struct file_sig sig;
  struct file_swap swap;
  struct file_known known = {f->have_last ? f->last_text : NULL, f->last_len,
                             f->have_sig ? &f->sig : NULL};
  if (rc == 0)
    rc = file_write_atomic(st->path, f->root, text, len, &sig, &known, &swap);
  if (rc == 2 || rc == -ENODEV || rc == -EISDIR) {
    /* Something that is not a regular file is there (it was put back if
     * it came in mid-write): reading it reports it, and nothing is written
     * over it. */
    free(text);
    f->have_last = f->have_sig = 0;
    process_file(f, 1);
    return;
  }
  if (rc < 0) {
    free(text);
    write_failed(f, rc,
                 rc == -EXDEV ? "a symbolic link leads it outside the "
                                "mirrored directory (not followed without "
                                "--follow-symlinks)"
                              : strerror(-rc));
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

struct state *mirror__new_state(struct mirror *m, const char *name,
                                const char *path, const struct file_root *root,
                                int dir_root) {
  struct state *st = store_add(&m->h->store, name, path);
  if (!st) return NULL;
  if (!file_add(m, st, root, dir_root)) {
    store_remove(&m->h->store, st);
    return NULL;
  }
  return st;
}

void mirror__free_file(struct mirror_file *f) {
  free(f->dir);
  free(f->base);
  free(f->real_dir);
  free(f->real_base);
  free(f->last_text);
  free(f);
}

static void on_dropped_timer(uv_handle_t *h) {
  struct mirror_file *f = h->data;
  if (--f->closing == 0) mirror__free_file(f);
}

void mirror__drop(struct mirror *m, struct mirror_file *f) {
  for (struct mirror_file **p = &m->files; *p; p = &(*p)->next)
    if (*p == f) {
      *p = f->next;
      break;
    }
  store_remove(&m->h->store, f->st);
  f->st = NULL;
  f->closing = 2;
  uv_close((uv_handle_t *)&f->settle_timer, on_dropped_timer);
  uv_close((uv_handle_t *)&f->write_timer, on_dropped_timer);
}

/* --- start and stop ------------------------------------------------------ */

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
  uv_timer_init(loop, &m->sweep_timer);
  m->sweep_timer.data = m;
  m->loading = 1;
  for (int i = 0; i < cfg->nfiles; i++)
    if (mirror__add_file(m, cfg->files[i]) != 0) goto fail;
  for (int i = 0; i < cfg->ndirs; i++)
    if (mirror__add_dir(m, cfg->dirs[i]) != 0) goto fail;
  /* Load every file now; events that raced with the load are read next. */
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
  if (!uv_is_closing((uv_handle_t *)&m->poll)) {
    uv_close((uv_handle_t *)&m->poll, on_closed);
    uv_close((uv_handle_t *)&m->sweep_timer, on_closed);
  }
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
    mirror__free_file(f);
  }
  for (int i = 0; i < m->nroots; i++)
    free(m->roots[i]);
  for (int i = 0; i < m->nfile_roots; i++) {
    free(m->file_root_dirs[i][0]);
    free(m->file_root_dirs[i][1]);
  }
  free(m);
}
