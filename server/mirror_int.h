/* The mirror's internals, shared by mirror.c (files, events, reads and
 * writes) and mirror_states.c (the arguments, the --dir scan, names looked
 * up, states that come and go). Not for other modules: they use mirror.h. */
#ifndef MS_MIRROR_INT_H
#define MS_MIRROR_INT_H

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

/* The mirror's bookkeeping for one state's file. */
struct mirror_file {
  struct mirror *m;
  struct state *st;
  const struct file_root *root; /* where its files may be */
  int dir_root;                 /* index of its --dir root, or -1 */
  char *dir, *base;             /* where the file is named */
  char *real_dir, *real_base;   /* where a symlink points, or NULL */
  uv_timer_t settle_timer;
  uv_timer_t write_timer;
  int settling, write_scheduled, dirty, touched;
  int unlisted;    /* created by a look-up, not yet announced to panels */
  int closing;     /* handles closing before the struct is freed */
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
  int loading; /* starting: reading the files, removing stale temps */
};

/* mirror.c */
void mirror__split(const char *path, char **dir,
                   char **base); /* caller frees */
struct watch *mirror__watch_add(struct mirror *m, const char *dir, int root,
                                const char *rel);
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
