/* Named states: their values, versions and history. No I/O.
 *
 * The mirror adds a state for every --file, and for every valid name under
 * a --dir that a file or a client asks for (one asked for that gets no
 * file, value or subscriber is removed again). `current` is what the
 * browsers see. The store owns the states; each state's file bookkeeping
 * (`file`, with the value last known on disk) is the mirror's.
 *
 * Who writes what: a state's value, size, version and history change only
 * through the functions below (the hub and the mirror call them); its
 * file's status and errors are written by the mirror alone; the store frees
 * error_text and write_error with the state. */
#ifndef MS_STORE_H
#define MS_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <cJSON.h>

#include "json.h"

enum file_status {
  FILE_ABSENT,       /* no file, and no state */
  FILE_OK,           /* the file holds what the mirror last read or wrote */
  FILE_INVALID,      /* the file does not parse; it is not overwritten */
  FILE_REMOVED,      /* deleted while serving; the state lives on */
  FILE_WRITE_FAILED, /* the last write failed; retried */
};

struct history_entry {
  uint64_t version;
  double time_ms; /* wall clock, ms since the epoch */
  char origin[40];
  char sender[16]; /* the connection that made it ("c3"), or "" */
  cJSON *ops;      /* turned version-1 into version; owned */
  cJSON *inverse;  /* undoes it; owned */
  cJSON *desc;     /* one short line per op (describe.h), or NULL; owned */
  size_t bytes;    /* estimated heap bytes of ops and inverse */
  uint64_t seq;    /* order of recording across all states */
};

struct mirror_file; /* the mirror module's per-file bookkeeping */

struct store;

struct state {
  char *name;
  char *path;     /* the file, absolute */
  cJSON *current; /* NULL while the state does not exist */
  size_t size;    /* json_pretty_size(current): the bytes of its file */
  uint64_t version;
  enum file_status status;
  struct json_error error;    /* valid while status is FILE_INVALID */
  char *error_text;           /* the offending line; owned */
  char *write_error;          /* why the last write failed; owned */
  struct history_entry *hist; /* ring of cap entries */
  int hist_cap, hist_len, hist_head;
  struct mirror_file *file; /* the mirror's, NULL if none */
  struct store *store;
  struct state *next;
  struct state *hnext; /* the store's index */
};

struct store {
  struct state *head, *tail; /* in the order added */
  struct state **index;      /* by name: nindex chains through hnext */
  size_t nindex;
  int nstates;
  int history_cap;      /* entries kept per state */
  size_t history_max;   /* bytes kept by all states' history together */
  size_t history_bytes; /* bytes held now */
  size_t max_state;     /* largest json_pretty_size of a state; 0: none */
  uint64_t seq;
};

/* history_cap: entries kept per state; history_max: estimated heap bytes
 * the history of all states may hold together, the oldest entries (of any
 * state) being dropped first (0: no limit); max_state: the largest
 * json_pretty_size a state may have, i.e. the size of its file (0: no
 * limit). */
void store_init(struct store *st, int history_cap, size_t history_max,
                size_t max_state);
void store_free(struct store *st);

/* Returns the state called name, or NULL. Borrowed. */
struct state *store_find(struct store *st, const char *name);

/* Adds a state with no value yet. Returns it (owned by the store), or NULL
 * on allocation failure. name and path are copied. */
struct state *store_add(struct store *st, const char *name, const char *path);

/* Unlinks s from the store and frees it (s->file is the caller's). */
void store_remove(struct store *st, struct state *s);

/* Applies ops to s->current (which must exist) as the next version.
 * Returns PATCH_OK (and the new version in s->version), or a patch_result
 * error with a message in err; s is then unchanged. PATCH_TOO_LARGE when
 * the result would be larger than the store's max_state or nested too
 * deep. A patch that changes nothing (empty, tests only, values put back
 * equal) spends no version and leaves *changed false. The history records
 * the change; ops is borrowed. */
int store_apply(struct state *s, const cJSON *ops, const char *origin,
                bool *changed, char *err, size_t errlen);

/* store_apply for a change sent by a connection: sender (its id, "c3"; may
 * be NULL) is recorded with the change, so the connection's own changes
 * never make its strict patches stale (strict.h). */
int store_apply_from(struct state *s, const cJSON *ops, const char *origin,
                     const char *sender, bool *changed, char *err,
                     size_t errlen);

/* Replaces s->current with value (taking ownership) as the next version,
 * e.g. a merged file change or a new state. *ops_out receives the patch
 * from the old value (caller frees; [] if equal, and then no version is
 * spent). For a state that did not exist, the patch is one "replace" of
 * the root whose value refers to the new s->current (not a copy: use and
 * free the patch before the state changes again). Returns 0,
 * PATCH_TOO_LARGE if value is larger than max_state or nested deeper than
 * JSON_MAX_DEPTH, or PATCH_NOMEM; on failure value is freed and s is
 * unchanged. */
int store_replace(struct state *s, cJSON *value, const char *origin,
                  cJSON **ops_out);

/* The value of s at an earlier version still in the history ring (or the
 * current one), as a new tree (caller frees); NULL if the version is no
 * longer held. */
cJSON *store_value_at(const struct state *s, uint64_t version);

/* History entry i, 0 = oldest held. */
const struct history_entry *store_history(const struct state *s, int i);

#endif
