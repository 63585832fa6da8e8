/* The mirror's files, one at a time: read (and echo suppression), the
 * settle window for invalid text, the three-way merge of a save into the
 * state, and the atomic write back, with the check for a save made in
 * between. What touches a file is decided by the watcher (mirror_watch.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "json.h"
#include "json_edit.h"
#include "log.h"
#include "merge.h"
#include "mirror_int.h"
#include "patch.h"

static void write_file(struct mirror_file *f);

/* --- reading and merging ------------------------------------------------- */

static void on_settle(uv_timer_t *t) {
  mirror__process(t->data, 1);
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

/* disk, the value last known to be in the file, is kept as a tree
 * (f->disk) or, while it is what a text the mirror read or wrote parses to
 * (after every read, and every write: always, unless a merge is pending),
 * as that text alone (f->disk_text, usually the very buffer of last_text):
 * a large state then costs one tree, not two. disk_value parses the text
 * when a merge needs the tree. A text buffer is freed once none of
 * last_text, disk_text and seen_text (mirror_seen.c) holds it. */
void mirror__text_release(struct mirror_file *f, char *p) {
  if (p && p != f->last_text && p != f->disk_text && p != f->seen_text)
    free(p);
}

static void text_release(struct mirror_file *f, char *p) {
  mirror__text_release(f, p);
}

/* disk becomes what last_text parses to. */
static void disk_from_text(struct mirror_file *f) {
  char *old = f->disk_text;
  cJSON_Delete(f->disk);
  f->disk = NULL;
  f->disk_text = f->last_text;
  f->disk_len = f->last_len;
  text_release(f, old);
}

/* disk becomes the tree v (taken; may be NULL: nothing known). */
static void disk_set(struct mirror_file *f, cJSON *v) {
  char *old = f->disk_text;
  if (f->disk != v) cJSON_Delete(f->disk);
  f->disk = v;
  f->disk_text = NULL;
  text_release(f, old);
}

/* The tree of disk, parsed from its text if need be; NULL if none is
 * known (or memory ran out). */
cJSON *mirror__disk_value(struct mirror_file *f) {
  if (!f->disk && f->disk_text)
    disk_set(f, json_parse(f->disk_text, f->disk_len, NULL));
  return f->disk;
}

static int disk_known(const struct mirror_file *f) {
  return f->disk || f->disk_text;
}

static void remember(struct mirror_file *f, char *text, size_t len,
                     const struct file_sig *sig) {
  char *old = f->last_text;
  f->last_dups = 0; /* until the reader says otherwise */
  f->last_text = text;
  f->last_len = len;
  f->have_last = 1;
  if (sig) f->sig = *sig;
  f->have_sig = sig != NULL;
  text_release(f, old);
  f->sig_exact = 0;
}

static void set_status(struct mirror_file *f, enum file_status status) {
  struct state *st = f->st;
  if (st->status == status && status != FILE_INVALID) return;
  enum file_status was = st->status;
  st->status = status;
  /* Going from absent to ok is news only through the snapshot. */
  if (status == FILE_OK && (was == FILE_ABSENT || was == FILE_OK)) return;
  mirror__tell_status(f->m, st);
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

/* A valid file content D' arrived: fold it into the state. from_text: it
 * is what last_text parses to (disk may then be kept as that text).
 * Returns 0, or -1 when the result would be larger than --max-state (then
 * nothing changed, and the file is reported). */
static int merge_from_disk(struct mirror_file *f, cJSON *theirs,
                           int from_text) {
  struct state *st = f->st;
  struct mirror *m = f->m;
  if (!st->current) {
    /* The first value: the parsed tree becomes the state, and disk stays
     * as the text (or, for another text, a copy). */
    cJSON *ops = NULL;
    int rc = store_replace(st, theirs, "file", &ops);
    if (rc == PATCH_TOO_LARGE) return report_too_large(f, NULL);
    if (rc == 0) {
      if (from_text)
        disk_from_text(f);
      else
        disk_set(f, cJSON_Duplicate(st->current, 1));
      f->disk_version = st->version;
      mirror__seen_save(f);
      set_status(f, FILE_OK);
      mirror__tell_appeared(m, st, m->loading ? NULL : ops);
      cJSON_Delete(ops);
    }
    return 0;
  }
  cJSON *ops;
  if (!f->dirty && disk_known(f) && f->disk_version == st->version &&
      mirror__seen_is_disk(f)) {
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
    if (changed) mirror__tell_changed(m, st, ops);
    cJSON_Delete(ops);
    if (from_text) {
      cJSON_Delete(theirs);
      disk_from_text(f);
    } else {
      disk_set(f, theirs);
    }
    f->disk_version = st->version;
    mirror__seen_save(f);
    return 0;
  }
  cJSON *disk = mirror__disk_value(f);
  if (disk && json_equal(disk, theirs)) {
    cJSON_Delete(theirs); /* reformatted, or touched: nothing new */
    mirror__seen_save(f);
    return 0;
  }
  /* Merged against what the writer saw: a save based on an older read
   * keeps what it never saw (docs/design.md, "Concurrency"). */
  cJSON *owned;
  const cJSON *base = mirror__seen_base(f, &owned);
  cJSON *merged = merge3(base, st->current, theirs);
  cJSON_Delete(owned);
  if (!merged) {
    cJSON_Delete(theirs);
    return 0;
  }
  int differs = !json_equal(merged, theirs);
  int rc = store_replace(st, merged, "file", &ops);
  if (rc == PATCH_TOO_LARGE) return report_too_large(f, theirs);
  if (rc == 0) {
    if (cJSON_GetArraySize(ops) > 0) mirror__tell_changed(m, st, ops);
    cJSON_Delete(ops);
  }
  if (from_text) {
    cJSON_Delete(theirs);
    disk_from_text(f);
  } else {
    disk_set(f, theirs);
  }
  f->disk_version = differs ? 0 : st->version;
  f->dirty = differs;
  mirror__seen_save(f);
  if (differs) schedule_write(f);
  return 0;
}

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

/* The fast path for a small edit: when nothing is unsaved and the last
 * text is the text of the state, a new text that differs only inside one
 * value is read by parsing that value alone and diffing it against the
 * state's (json_edit.h). The patch is the one the full path would make.
 * Returns 1 when it handled the text (taken), 0 to take the full path
 * (which also reports every error). */
static int apply_edit(struct mirror_file *f, char *text, size_t len,
                      const struct file_sig *sig) {
  struct state *st = f->st;
  if (!f->have_last || f->disk_text != f->last_text || f->last_dups ||
      !st->current || f->dirty || f->writing || f->settling ||
      f->disk_version != st->version || st->status != FILE_OK ||
      !mirror__seen_is_disk(f))
    return 0;
  /* A region that does not parse alone may be part of a larger change
   * (an item added after the value): the enclosing value is tried once. */
  for (int outer = 0; outer < 2; outer++) {
    struct json_edit e;
    if (json_edit_locate(f->last_text, f->last_len, text, len, outer, &e) != 1)
      return 0;
    int folded = 0;
    cJSON *v = json_parse_ex(text + e.start, e.new_end - e.start, e.level,
                             &folded, NULL);
    const cJSON *was = v ? ptr_get(st->current, e.path) : NULL;
    cJSON *ops = was ? patch_diff_at(was, v, e.path) : NULL;
    cJSON_Delete(v);
    free(e.path);
    if (!v) continue;
    if (!ops) return 0;
    bool changed = false;
    char err[128];
    if (store_apply(st, ops, "file", &changed, err, sizeof err) != PATCH_OK) {
      cJSON_Delete(ops); /* over a limit: the full path reports it */
      return 0;
    }
    if (changed) mirror__tell_changed(f->m, st, ops);
    cJSON_Delete(ops);
    /* What mirror_sync reports, as on the full path. */
    f->read_version = changed && !f->m->loading ? st->version : 0;
    uv_timer_stop(&f->settle_timer);
    f->settling = 0;
    remember(f, text, len, sig);
    disk_from_text(f);
    f->last_dups = folded;
    f->disk_version = st->version;
    mirror__seen_save(f);
    return 1;
  }
  return 0;
}

static void process(struct mirror_file *f, int final, int foreign);

void mirror__process(struct mirror_file *f, int final) {
  /* Reads reported until now, in order: those before a change to the file
   * saw what it held before (still disk), those after it saw what is read
   * now (noted once it is merged). */
  mirror__read_events(f->m);
  int foreign = f->unknown;
  f->unknown = 0;
  process(f, final, foreign);
  mirror__seen_settle(f);
}

/* foreign: someone else changed the file since the mirror last read it. */
static void process(struct mirror_file *f, int final, int foreign) {
  struct state *st = f->st;
  struct file_text ft;
  int rc = file_read(st->path, f->root, f->m->cfg->max_state, &ft);
  f->own_reads += ft.opened != 0; /* the watch reports this read too */
  if (ft.link) follow_link(f);
  if (rc == -ENOENT) {
    uv_timer_stop(&f->settle_timer);
    f->settling = 0;
    f->read_version = 0;
    f->have_last = f->have_sig = 0;
    if (st->current) {
      set_status(f, FILE_REMOVED);
      f->dirty = 1; /* written again on the next change */
    } else if (st->status != FILE_ABSENT) {
      st->status = FILE_ABSENT; /* never had a value: as if never seen */
      mirror__tell_states(f->m);
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
    /* Our own write, or a save of the same bytes: nothing new (but the
     * saver knows what it wrote). */
    free(text);
    f->sig_exact = f->sig_exact && f->have_sig && file_sig_equal(&f->sig, &sig);
    f->sig = sig;
    f->have_sig = 1;
    if (foreign && st->status == FILE_OK) mirror__seen_save(f);
    if (f->settling) {
      uv_timer_stop(&f->settle_timer);
      f->settling = 0;
    }
    return;
  }
  if (apply_edit(f, text, len, &sig)) return;
  struct json_error err;
  int folded = 0;
  cJSON *theirs = json_parse_ex(text, len, 0, &folded, &err);
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
  uint64_t before = st->version;
  if (merge_from_disk(f, theirs, 1) != 0) return;
  f->last_dups = folded;
  f->read_version = st->version != before && !f->m->loading ? st->version : 0;
  if (was_bad) set_status(f, FILE_OK);
  if (f->dirty) schedule_write(f);
}

/* A write landed: disk becomes the text written, which is last_text (the
 * write's events are read right after it, before anything else is). */
static void disk_catch_up(struct mirror_file *f) {
  if (!f->writing) return;
  f->writing = 0;
  disk_from_text(f);
  f->disk_version = f->st->version;
}

void mirror__landed(struct mirror_file *f) {
  disk_catch_up(f);
}

/* --- writing ------------------------------------------------------------- */

static void write_unsaved(struct mirror_file *f) {
  struct state *st = f->st;
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s.unsaved", st->path);
  size_t len;
  char *text = json_print_pretty(st->current, &len);
  int rc = text ? file_write_atomic(path, f->root, text, len, NULL) : -ENOMEM;
  struct stat lsb;
  if (rc == -EXDEV && lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode) &&
      file_leads_inside(f->root, f->dir) == 1 && unlink(path) == 0) {
    /* A symlink there led out of the directory: the changes go into a
     * file of that name instead, never through the link. (Only the link
     * itself, in a directory inside the root, is removed.) */
    log_warn("%s was a symbolic link leading outside the mirrored "
             "directory: replaced by a file",
             path);
    rc = file_write_atomic(path, f->root, text, len, NULL);
  }
  free(text);
  if (rc)
    log_error("%s is invalid and the unsaved changes could not be kept: %s",
              st->path, strerror(-rc));
  else
    log_warn("%s holds invalid JSON: unsaved changes written to %s", st->path,
             path);
}

/* why: what went wrong, for clients and the log (the file_status event
 * tells both). Reported once per failure, not on every retry. */
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

/* A save that a write displaced and could not leave in place (the swap
 * hands its bytes over): merged like any other save, and the result
 * written again. */
static void merge_displaced(struct mirror_file *f, struct file_swap *older) {
  struct json_error err;
  cJSON *theirs = json_parse(older->text, older->len, &err);
  file_swap_done(older);
  if (!theirs) return; /* replaced by a newer save meanwhile */
  log_debug("%s: saved while being written: merging that save", f->st->path);
  if (merge_from_disk(f, theirs, 0) != 0) return;
  f->dirty = 1;
  f->disk_version = 0;
}

/* Takes in a save made since the mirror last looked at the file (drains
 * pending events, then compares the file's signature). */
static void look(struct mirror_file *f) {
  mirror__drain(f->m);
  struct file_sig now;
  int rc = file_stat(f->st->path, &now);
  if ((rc == 0 && (!f->have_sig || !file_sig_equal(&now, &f->sig))) ||
      (rc == -ENOENT && f->have_sig)) {
    /* The events queued before the change are read first: a read reported
     * there saw what the file held before it, not what is read now. */
    mirror__read_events(f->m);
    f->unknown = 1; /* changed (a writer may still have it open) */
    mirror__process(f, 0);
  }
}

enum { WRITE_DONE, WRITE_AGAIN };

/* One attempt to write the state: the text is printed, written to a
 * temporary file and fsync'ed first; then the last look at the target and
 * the swap come back to back. A save found by that look, or displaced by
 * the swap (which puts it back at once), is merged, and the write is made
 * again with the result. */
static int write_once(struct mirror_file *f) {
  struct mirror *m = f->m;
  struct state *st = f->st;
  look(f);
  /* A save in progress: the settle window decides, and schedules this
   * write again if the result still needs one. */
  if (f->settling) return WRITE_DONE;
  if (!f->dirty || !st->current || st->status == FILE_INVALID)
    return WRITE_DONE;
  size_t len;
  char *text = json_print_pretty(st->current, &len);
  if (!text) return WRITE_DONE;
  if (len > m->cfg->max_state) {
    /* Written, it could not be read back: keep it in memory and say so. */
    char why[96];
    snprintf(why, sizeof why, "the state is %zu bytes, over --max-state", len);
    free(text);
    write_failed(f, -EFBIG, why);
    return WRITE_DONE;
  }
  int rc = 0;
  if (st->status == FILE_ABSENT || st->status == FILE_REMOVED)
    rc = file_make_parents(st->path, f->root);
  struct file_pending p;
  if (rc == 0) rc = file_write_prepare(st->path, f->root, text, len, &p);
  if (rc == 0) {
    uint64_t version = st->version;
    look(f);
    /* Reads reported until now saw the file before this write: note them
     * before it changes (the file's own changes wait for the next look). */
    mirror__read_events(m);
    if (st->version != version || f->settling || !f->dirty || f->touched ||
        st->status == FILE_INVALID) {
      /* A save came in while the data was written: that text is stale. */
      file_write_abort(&p);
      free(text);
      return WRITE_AGAIN;
    }
    uint64_t wait = mirror__save_under_way(m, f);
    if (wait) {
      /* A save is about to land: let it, and merge it first, rather than
       * swap this write in under it. */
      file_write_abort(&p);
      free(text);
      f->write_scheduled = 1;
      uv_timer_start(&f->write_timer, on_write_timer, wait, 0);
      return WRITE_DONE;
    }
    struct file_known known = {f->have_last ? f->last_text : NULL, f->last_len,
                               f->have_sig ? &f->sig : NULL,
                               f->have_sig && f->sig_exact};
    struct file_swap older;
    uint64_t displaced = f->disk_version;
    rc = file_write_commit(&p, &known, &older);
    f->own_tmp_reads += (unsigned)p.reads;
    f->own_reads += (unsigned)p.target_reads;
    if (rc == FILE_CHANGED) {
      /* A save came in right now: the next look takes it in. */
      free(text);
      return WRITE_AGAIN;
    }
    if (rc == FILE_PUT_BACK || rc == FILE_DISPLACED) {
      /* The save is in the file again (or its bytes were handed over):
       * take it in, and write the merge. */
      if (rc == FILE_DISPLACED) {
        remember(f, text, len, &p.sig);
        text = NULL;
      }
      if (older.text) merge_displaced(f, &older);
      free(text);
      mirror__process(f, 0);
      return WRITE_AGAIN;
    }
    if (rc == FILE_WRITTEN) {
      remember(f, text, len, &p.sig);
      f->sig_exact = p.exact;
      f->dirty = 0;
      set_status(f, FILE_OK);
      /* The write's own events, read at once: reads reported before its
       * rename saw the file as it was, those after saw what was written
       * (disk catches up in between, mirror__landed). */
      f->writing = 1;
      mirror__seen_wrote(f, p.tmp, displaced);
      mirror__read_own_write(m, f, p.tmp);
      return WRITE_DONE;
    }
  }
  free(text);
  if (rc == FILE_NOT_REGULAR || rc == -ENODEV || rc == -EISDIR) {
    /* Something that is not a regular file is there (it was put back if
     * it came in mid-write): reading it reports it, and nothing is written
     * over it. */
    f->have_last = f->have_sig = 0;
    mirror__process(f, 1);
    return WRITE_DONE;
  }
  write_failed(f, rc,
               rc == -EXDEV ? "a symbolic link leads it outside the "
                              "mirrored directory (not followed without "
                              "--follow-symlinks)"
                            : strerror(-rc));
  return WRITE_DONE;
}

static void write_file(struct mirror_file *f) {
  /* Each new attempt follows a save that came in: an agent saving again
   * and again only delays the write, and after a few tries it waits for
   * the next turn of the loop. */
  for (int tries = 0; tries < 8; tries++)
    if (write_once(f) == WRITE_DONE) return;
  schedule_write(f);
}

void mirror_changed(struct mirror *m, struct state *st) {
  struct mirror_file *f = st->file;
  (void)m;
  f->dirty = 1;
  f->read_version = 0; /* the state moved on from the file's last save */
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

/* --- the file records ---------------------------------------------------- */

struct state *mirror__new_state(struct mirror *m, const char *name,
                                const char *path, const struct file_root *root,
                                int dir_root) {
  struct state *st = store_add(m->store, name, path);
  if (!st) return NULL;
  if (!file_add(m, st, root, dir_root)) {
    store_remove(m->store, st);
    return NULL;
  }
  return st;
}

void mirror__free_file(struct mirror_file *f) {
  mirror__seen_free(f);
  cJSON_Delete(f->disk);
  if (f->disk_text != f->last_text) free(f->disk_text);
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
  store_remove(m->store, f->st);
  f->st = NULL;
  f->closing = 2;
  uv_close((uv_handle_t *)&f->settle_timer, on_dropped_timer);
  uv_close((uv_handle_t *)&f->write_timer, on_dropped_timer);
}

void mirror__file_close(struct mirror_file *f, uv_close_cb cb) {
  if (uv_is_closing((uv_handle_t *)&f->settle_timer)) return;
  f->m->closing += 2;
  uv_close((uv_handle_t *)&f->settle_timer, cb);
  uv_close((uv_handle_t *)&f->write_timer, cb);
}
