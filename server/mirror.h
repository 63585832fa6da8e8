/* The file mirror: loads each state's file, watches its directory with
 * inotify on the loop, merges edits made on disk into the state, and writes
 * changes back atomically. See docs/design.md, "The file mirror".
 *
 * The mirror adds its states to a store it is given and reports what
 * happens to them through struct mirror_events; it knows nothing of the
 * clients. server.c wires the events to the hub. */
#ifndef MS_MIRROR_H
#define MS_MIRROR_H

#include <cJSON.h>
#include <uv.h>

#include "cli.h"
#include "store.h"

struct mirror;

/* What the mirror reports, and what it asks. Each runs on the loop. */
struct mirror_events {
  /* The file changed st: ops were applied as st->version (origin "file"). */
  void (*changed)(void *arg, struct state *st, const cJSON *ops);
  /* st got its first value from its file; ops set it (NULL for the files
   * loaded at start, which are not news). */
  void (*appeared)(void *arg, struct state *st, const cJSON *ops);
  /* st->status changed (invalid, fixed, removed, write failed). */
  void (*file_status)(void *arg, struct state *st);
  /* A state was added to or dropped from the list, or its file came or
   * went. */
  void (*states_changed)(void *arg);
  /* How many clients subscribed to st: a state under --dir with no file,
   * no value and no subscriber is dropped. */
  int (*subscribers)(void *arg, const struct state *st);
  void *arg;
};

/* Checks every --file and --dir of cfg, adds their states to store
 * (borrowed; it must outlive the mirror), loads them, and starts watching;
 * ev is copied. Returns 0 with *out set, or -1 after logging why (a
 * configuration error: the caller exits with status 2). On failure *out
 * is NULL and nothing is left for the caller: the states it added are
 * removed from store again, and the handles it opened are closed, their
 * memory released once the loop has run their close callbacks. */
int mirror_start(uv_loop_t *loop, const struct config *cfg, struct store *store,
                 const struct mirror_events *ev, struct mirror **out);

/* The state called name: an existing one, or for a valid name under a --dir,
 * a new state with no value yet. NULL if name is not mirrored, leads out of
 * its --dir through a symlink, or --max-states states exist already
 * (mirror_why says which). A state made by a look-up that gets no file, no
 * value and no subscriber is dropped on the next loop turn: looking names up
 * leaves nothing behind. */
struct state *mirror_state(struct mirror *m, const char *name);

/* Why the last mirror_state returned NULL (a static string), or NULL. */
const char *mirror_why(const struct mirror *m);

/* A subscription ended: a state it alone kept may go (on the next turn). */
void mirror_unused(struct mirror *m);

/* st->current changed: schedule a write (after --write-delay). */
void mirror_changed(struct mirror *m, struct state *st);

/* What mirror_sync found in a state's file. */
enum mirror_sync {
  MIRROR_SYNC_APPLIED,   /* its last save was taken in as *version */
  MIRROR_SYNC_UNCHANGED, /* it holds what the state holds */
  MIRROR_SYNC_INVALID,   /* it does not parse or cannot be read */
  MIRROR_SYNC_MISSING,   /* there is no file */
};

/* Reads st's file now, as an inotify event would have it read (the events
 * queued are read first), but with no settle window: invalid text is
 * reported at once. *version: the version the file's content is in (the
 * version its save made, or the current one). */
enum mirror_sync mirror_sync(struct mirror *m, struct state *st,
                             uint64_t *version);

/* Writes every pending change now. A state whose file is invalid gets its
 * unsaved changes written beside it as NAME.json.unsaved instead. */
void mirror_flush(struct mirror *m);

/* Stops watching and closes the mirror's handles; it reports nothing more.
 * Free it with mirror_free once the loop has run their close callbacks. Its
 * states stay in the store (the caller frees the store after the mirror). */
void mirror_stop(struct mirror *m);
void mirror_free(struct mirror *m);

#endif
