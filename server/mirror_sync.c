/* mirror_sync: "has the server taken in the file as it is now?", answered
 * by reading it at once (docs/protocol.md, "sync"). */
#include "mirror_int.h"

enum mirror_sync mirror_sync(struct mirror *m, struct state *st,
                             uint64_t *version) {
  struct mirror_file *f = st->file;
  *version = st->version;
  /* Saves already queued go through the watcher's path first, so a save
   * is taken in once, whichever path reads it. */
  mirror__drain(m);
  if (!f || f->st != st) return MIRROR_SYNC_MISSING;
  mirror__process(f, 1);
  /* This read had the last word: a settle window the drain started for
   * the same text has nothing left to decide. */
  uv_timer_stop(&f->settle_timer);
  f->settling = 0;
  *version = st->version;
  switch (st->status) {
  case FILE_INVALID: return MIRROR_SYNC_INVALID;
  case FILE_ABSENT:
  case FILE_REMOVED: return MIRROR_SYNC_MISSING;
  default: break;
  }
  if (f->read_version && f->read_version <= st->version) {
    *version = f->read_version;
    return MIRROR_SYNC_APPLIED;
  }
  return MIRROR_SYNC_UNCHANGED;
}
