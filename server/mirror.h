/* The file mirror: loads each state's file, watches its directory with
 * inotify on the loop, merges edits made on disk into the state, and writes
 * changes back atomically. See docs/design.md, "The file mirror". */
#ifndef MS_MIRROR_H
#define MS_MIRROR_H

#include <uv.h>

#include "cli.h"
#include "store.h"

struct hub;
struct mirror;

/* Checks and loads every --file and --dir of cfg into h->store and starts
 * watching. Returns NULL after logging why (a configuration error: the
 * caller exits with status 2). */
struct mirror *mirror_start(uv_loop_t *loop, struct hub *h,
                            const struct config *cfg);

/* The state called name: an existing one, or for a valid name under a --dir,
 * a new state with no value yet. NULL if name is not mirrored, leads out of
 * its --dir through a symlink, or --max-states states exist already
 * (mirror_why says which). A state made by a look-up that gets no file, no
 * value and no subscriber is dropped on the next loop turn: looking names up
 * leaves nothing behind. */
struct state *mirror_state(struct mirror *m, const char *name);

/* Why the last mirror_state returned NULL (a static string). */
const char *mirror_why(const struct mirror *m);

/* A subscription ended: a state it alone kept may go (on the next turn). */
void mirror_unused(struct mirror *m);

/* st->current changed: schedule a write (after --write-delay). */
void mirror_changed(struct mirror *m, struct state *st);

/* Writes every pending change now. A state whose file is invalid gets its
 * unsaved changes written beside it as NAME.json.unsaved instead. */
void mirror_flush(struct mirror *m);

/* Stops watching and closes the mirror's handles; free it with
 * mirror_free once the loop has run their close callbacks. */
void mirror_stop(struct mirror *m);
void mirror_free(struct mirror *m);

#endif
