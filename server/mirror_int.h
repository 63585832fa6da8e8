/* The mirror's internals, shared by its files: mirror.c (start and stop),
 * mirror_watch.c (inotify: watches, events, rescans), mirror_file.c (one
 * file: read, settle, merge, write) and mirror_states.c (the arguments,
 * the --dir scan, names looked up, states that come and go). Not for other
 * modules: they use mirror.h. */
#ifndef MS_MIRROR_INT_H
#define MS_MIRROR_INT_H

#include <cJSON.h>
#include <uv.h>

#include "cli.h"
#include "fileio.h"
#include "mirror.h"
#include "store.h"

/* A watched directory: the parent of a --file, or a folder below a --dir. */
struct watch {
  int wd;
  char *path; /* absolute, no trailing slash */
  int root;   /* index of its --dir root, or -1 */
  char *rel;  /* path below that root ("" or "sub/"), or NULL */
  /* A file someone else just wrote here that is not a state: most likely
   * the temporary file of a save, about to be renamed over its state. */
  char *busy;       /* its name, until it is moved or removed; owned */
  uint64_t busy_ms; /* when it was written (uv_now) */
  struct watch *next;
};

/* The mirror's bookkeeping for one state's file, owned by the mirror (in
 * m->files, and in st->file of its state). */
struct mirror_file {
  struct mirror *m;
  struct state *st;             /* in m->store; NULL once dropped */
  const struct file_root *root; /* where its files may be */
  int dir_root;                 /* index of its --dir root, or -1 */
  char *dir, *base;             /* where the file is named */
  char *real_dir, *real_base;   /* where a symlink points, or NULL */
  uv_timer_t settle_timer;
  uv_timer_t write_timer;
  int settling, write_scheduled, dirty, touched;
  int unlisted;    /* created by a look-up, not yet announced to panels */
  int closing;     /* handles closing before the struct is freed */
  cJSON *disk;     /* the last value known to be in the file, as a tree, or
                      NULL: then it is what disk_text parses to, or none is
                      known. The base of the three-way merge; owned */
  char *disk_text; /* see mirror_file.c: usually the buffer of last_text */
  size_t disk_len;
  char *last_text; /* bytes last read from or written to the file */
  size_t last_len;
  int have_last;
  struct file_sig sig; /* of last_text */
  int have_sig;
  int sig_exact;         /* sig is that of the mirror's own write (fileio.h) */
  uint64_t disk_version; /* current's version that equals disk; 0: none */
  int last_dups;         /* an object in last_text repeats a key */
  /* What the file's readers and writers last saw (mirror_seen.c): the
   * base a save is merged against. */
  int seen;              /* 0: nothing seen: a save is merged against disk */
  uint64_t seen_version; /* it was current's value at this version, */
  cJSON *seen_value;     /* or this value, when it was no version; owned */
  char *seen_text;       /* or what this text parses to (a buffer shared
                            with last_text or disk_text, see mirror_file.c) */
  size_t seen_len;
  unsigned own_reads;    /* the mirror's reads whose IN_CLOSE_NOWRITE is
                            still to come */
  /* The files the mirror's last writes displaced: each is renamed to the
   * write's temporary name and removed, and a reader that had it open
   * reports its close under that name (mirror_seen.c). */
  struct {
    char suffix[8];   /* of ".NAME.json.mirrorstate-XXXXXX" */
    uint64_t version; /* what it held; 0: no version */
  } gone[4];
  int gone_next;
  unsigned own_tmp_reads; /* the mirror's reads of those, to skip */
  int unknown;      /* a change reported that the mirror has not read yet */
  int writing;      /* written, disk not yet caught up (mirror__landed) */
  int seen_pending; /* a read saw that change: seen is what it holds */
  uint64_t read_version; /* the version the content last read made, while
                            nothing else changed the state since; 0: that
                            read changed nothing (mirror_sync) */
  struct mirror_file *next;
};

struct mirror {
  uv_loop_t *loop;
  struct store *store;     /* borrowed: where the states are */
  struct mirror_events ev; /* whom it reports to */
  const struct config *cfg;
  int ifd;
  uv_poll_t poll;
  int poll_init;          /* poll is a handle to close */
  uv_timer_t sweep_timer; /* drops states nobody needs (mirror_states.c) */
  /* Processes files whose events were read outside a drain (the inotify
   * descriptor no longer wakes the loop for them). */
  uv_timer_t drain_timer;
  int drain_init;
  int sweep_scheduled;
  struct watch *watches;
  struct mirror_file *files;
  char *roots[CLI_MAX_LIST]; /* --dir roots, real paths */
  int nroots;
  struct file_root dir_roots[CLI_MAX_LIST];  /* over roots[] */
  struct file_root file_roots[CLI_MAX_LIST]; /* one per --file */
  char *file_root_dirs[CLI_MAX_LIST][2];
  int nfile_roots;
  const char *why; /* why the last look-up found nothing */
  int full_warned; /* --max-states reached and said so */
  int stopping;
  int loading;     /* starting: reading the files, removing stale temps */
  int free_closed; /* a failed start: freed once its handles closed */
  /* A write just swapped in, whose events are being read (see
   * mirror__read_own_write). */
  struct mirror_file *landing;
  const char *landing_tmp;
  uint32_t landing_in, landing_out; /* the cookies of its two renames */
  int closing;                      /* handles still closing */
};

/* Reporting through m->ev; an event left unset is not reported. */
static inline void mirror__tell_changed(struct mirror *m, struct state *st,
                                        const cJSON *ops) {
  if (m->ev.changed) m->ev.changed(m->ev.arg, st, ops);
}
static inline void mirror__tell_appeared(struct mirror *m, struct state *st,
                                         const cJSON *ops) {
  if (m->ev.appeared) m->ev.appeared(m->ev.arg, st, ops);
}
static inline void mirror__tell_status(struct mirror *m, struct state *st) {
  if (m->ev.file_status) m->ev.file_status(m->ev.arg, st);
}
static inline void mirror__tell_states(struct mirror *m) {
  if (m->ev.states_changed) m->ev.states_changed(m->ev.arg);
}
static inline int mirror__subscribers(struct mirror *m,
                                      const struct state *st) {
  return m->ev.subscribers ? m->ev.subscribers(m->ev.arg, st) : 0;
}

/* mirror.c */
void mirror__split(const char *path, char **dir,
                   char **base); /* caller frees */

/* mirror_watch.c */
/* Opens the inotify descriptor and its poll handle. Returns 0, or -1 after
 * logging why. */
int mirror__watch_init(struct mirror *m);
/* Starts reading events on the loop. */
void mirror__watch_start(struct mirror *m);
/* Closes the poll handle (counted in m->closing; cb gets it). */
void mirror__watch_close(struct mirror *m, uv_close_cb cb);
/* Closes the descriptor and forgets every watch. */
void mirror__watch_free(struct mirror *m);
/* Watches dir (once: inotify gives one descriptor per directory). */
struct watch *mirror__watch_add(struct mirror *m, const char *dir, int root,
                                const char *rel);
/* Reads every queued event now, then reads each file they touched. */
void mirror__drain(struct mirror *m);
/* Milliseconds to hold back a write of f because a save seems to be under
 * way beside it (a file written there, not yet renamed), or 0. */
uint64_t mirror__save_under_way(struct mirror *m, const struct mirror_file *f);
/* Reads every queued event now: reads of files are noted at once, files
 * changed are only marked (f->touched) for the next drain. */
void mirror__read_events(struct mirror *m);
/* mirror__read_events right after the mirror swapped its temporary file
 * tmp in as f's file: the two renames of that swap are recognised as its
 * own (no re-read, no unknown content), anything else is news. */
void mirror__read_own_write(struct mirror *m, struct mirror_file *f,
                            const char *tmp);

/* mirror_file.c */
/* The mirror's own write of f has replaced the file (its rename was
 * reported): disk becomes what was written. Idempotent. */
void mirror__landed(struct mirror_file *f);
/* The tree of disk, parsed from disk_text if it is kept as text (it then
 * stays a tree until disk is set again); NULL if none is known. */
cJSON *mirror__disk_value(struct mirror_file *f);
/* Frees the text buffer p unless last_text, disk_text or seen_text holds
 * it. */
void mirror__text_release(struct mirror_file *f, char *p);
/* Reads f's file after an event (or at start) and acts on what it holds.
 * final: the settle window is over, so an invalid file is reported. */
void mirror__process(struct mirror_file *f, int final);
/* Closes f's timers (counted in m->closing; cb gets each). */
void mirror__file_close(struct mirror_file *f, uv_close_cb cb);
/* A new state with its file bookkeeping; NULL on allocation failure. */
struct state *mirror__new_state(struct mirror *m, const char *name,
                                const char *path, const struct file_root *root,
                                int dir_root);
/* Forgets st and its file: unlisted from the store, freed once its timers
 * have closed. */
void mirror__drop(struct mirror *m, struct mirror_file *f);
void mirror__free_file(struct mirror_file *f);

/* mirror_seen.c: what was read, so a save is merged against what its
 * writer saw (docs/design.md, "Concurrency"). */
/* The directory watch saw a read of f's file end (IN_CLOSE_NOWRITE). The
 * mirror's own reads are counted in f->own_reads and skipped. */
void mirror__seen_read(struct mirror_file *f);
/* A save was taken in (it is f->disk now): its writer knows what it
 * wrote. */
void mirror__seen_save(struct mirror_file *f);
/* f's file was just read: a read that saw a change not read yet then saw
 * what the file holds now. */
void mirror__seen_settle(struct mirror_file *f);
/* A write swapped in from temporary file tmp displaced the file, which
 * held current's value at version (0: no version). */
void mirror__seen_wrote(struct mirror_file *f, const char *tmp,
                        uint64_t version);
/* A read of a displaced file ended (IN_CLOSE_NOWRITE under the temporary
 * name with this suffix): the reader saw what it held. */
void mirror__seen_gone(struct mirror_file *f, const char *suffix);
/* The base to merge a save against: *owned receives a tree to free (NULL
 * if none was made); returns the base, or f->disk when nothing was seen. */
const cJSON *mirror__seen_base(struct mirror_file *f, cJSON **owned);
/* Whether a save can be merged against disk: nothing older was seen. */
int mirror__seen_is_disk(const struct mirror_file *f);
void mirror__seen_free(struct mirror_file *f);

/* mirror_states.c */
/* Checks and adds a --file or --dir argument. Returns 0, or -1 after
 * logging why (a configuration error). */
int mirror__add_file(struct mirror *m, const char *arg);
int mirror__add_dir(struct mirror *m, const char *arg);
/* The state for a file at rel below --dir root, created if new (and then
 * read on the next drain). NULL if rel names no valid state, leads out of
 * the root, or --max-states is reached; m->why says which. */
struct state *mirror__dir_state(struct mirror *m, int root, const char *rel);
/* Scans dir (rel below --dir root; "" for the root itself) and everything
 * below it: watches each directory once, and marks each file. */
void mirror__scan(struct mirror *m, int root, const char *dir, const char *rel);
/* Schedules a look for states that have no file, no value and no
 * subscriber, which are then dropped. */
void mirror__sweep_soon(struct mirror *m);

#endif
