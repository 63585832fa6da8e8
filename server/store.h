/* Named states: their values, versions and history. No I/O.
 *
 * A state is created for every --file, and for every valid name under a
 * --dir that a file or a client asks for (one asked for that gets no file,
 * value or subscriber is removed again). `current` is what the browsers
 * see; `disk` is the last value known to be in the file, the base of the
 * three-way merge when the file changes. */
#ifndef MS_STORE_H
#define MS_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <cJSON.h>

#include "json.h"

enum file_status {
  FILE_ABSENT,       /* no file, and no state */
  FILE_OK,           /* the file holds `disk` */
  FILE_INVALID,      /* the file does not parse; it is not overwritten */
  FILE_REMOVED,      /* deleted while serving; the state lives on */
  FILE_WRITE_FAILED, /* the last write failed; retried */
};

struct history_entry {
  uint64_t version;
  double time_ms; /* wall clock, ms since the epoch */
  char origin[40];
  cJSON *ops;     /* turned version-1 into version; owned */
  cJSON *inverse; /* undoes it; owned */
};

struct mirror_file; /* the mirror module's per-file bookkeeping */

struct state {
  char *name;
  char *path;     /* the file, absolute */
  cJSON *current; /* NULL while the state does not exist */
  cJSON *disk;    /* last value known on disk; NULL if none */
  uint64_t version;
  enum file_status status;
  struct json_error error;    /* valid while status is FILE_INVALID */
  char *error_text;           /* the offending line; owned */
  char *write_error;          /* why the last write failed; owned */
  struct history_entry *hist; /* ring of cap entries */
  int hist_cap, hist_len, hist_head;
  struct mirror_file *file;
  struct state *next;
  struct state *hnext; /* the store's index */
};

struct store {
  struct state *head, *tail; /* in the order added */
  struct state **index;      /* by name: nindex chains through hnext */
  size_t nindex;
  int nstates;
  int history_cap;
};

void store_init(struct store *st, int history_cap);
void store_free(struct store *st);

/* Returns the state called name, or NULL. Borrowed. */
struct state *store_find(struct store *st, const char *name);

/* Adds a state with no value yet. Returns it (owned by the store), or NULL
 * on allocation failure. name and path are copied. */
struct state *store_add(struct store *st, const char *name, const char *path);

/* Unlinks s from the store and frees it (s->file is the caller's). */
void store_remove(struct store *st, struct state *s);

/* Applies ops to s->current (which must exist) as the next version.
 * Returns PATCH_OK (and the new version in s->version; an empty or no-op
 * patch spends no version and leaves *changed false), or a patch_result
 * error with a message in err; s is then unchanged. The history records the
 * change; ops is borrowed. */
int store_apply(struct state *s, const cJSON *ops, const char *origin,
                bool *changed, char *err, size_t errlen);

/* Replaces s->current with value (taking ownership) as the next version,
 * e.g. a merged file change or a new state. *ops_out receives the patch
 * from the old value (caller frees; [] if equal, and then no version is
 * spent). For a state that did not exist, the patch is one "replace" of
 * the root. Returns 0, or -1 on allocation failure. */
int store_replace(struct state *s, cJSON *value, const char *origin,
                  cJSON **ops_out);

/* The value of s at an earlier version still in the history ring, as a new
 * tree (caller frees); NULL if the version is no longer held. */
cJSON *store_value_at(const struct state *s, uint64_t version);

/* History entry i, 0 = oldest held. */
const struct history_entry *store_history(const struct state *s, int i);

#endif
