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
  uint64_t disk_version; /* current's version that equals disk; 0: none */
  int last_dups;         /* an object in last_text repeats a key */
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
  int closing;     /* handles still closing */
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

/* mirror_file.c */
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
