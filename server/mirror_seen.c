/* What the readers and writers of a state's file last saw, so that a
 * whole-file save is merged against the content its writer read rather
 * than the content the mirror last wrote (docs/design.md, "Concurrency").
 *
 * The directory watch reports IN_CLOSE_NOWRITE when a descriptor opened
 * for reading is closed: someone read the file. Events arrive in the order
 * things happened, so the content the mirror knows to be in the file when
 * it handles the event is the content that was read. The mirror's own
 * reads cause the same event: it counts them (f->own_reads) and skips as
 * many. A save, once merged, is what its writer knows as well.
 *
 * What was seen is kept as a version of the state (rebuilt from the
 * history ring when a save needs it), or, when the file held something
 * that is no version (a save not yet merged back), as the text it was
 * read as (the buffer disk keeps, parsed when a save needs it) or, when
 * disk is a tree, as a copy. */
#include <string.h>

#include "json.h"
#include "mirror_int.h"
#include "log.h"

static void set_value(struct mirror_file *f, cJSON *v) {
  cJSON_Delete(f->seen_value);
  f->seen_value = v;
  char *old = f->seen_text;
  f->seen_text = NULL;
  mirror__text_release(f, old);
}

/* What the file holds now, as the mirror knows it. */
static void see_disk(struct mirror_file *f) {
  f->seen = 0;
  set_value(f, NULL);
  if (f->disk_version) {
    f->seen_version = f->disk_version;
    f->seen = 1;
  } else if (f->disk) {
    f->seen_value = cJSON_Duplicate(f->disk, 1);
    f->seen = f->seen_value != NULL;
  } else if (f->disk_text) {
    /* disk kept as its text: that text is kept (shared, not copied), and
     * parsed only if a save is merged against it. */
    f->seen_text = f->disk_text;
    f->seen_len = f->disk_len;
    f->seen = 1;
  }
}

/* Whether what the mirror knows of the file is something a reader can
 * have seen and based a save on: not invalid or unreadable text. */
static int readable(const struct mirror_file *f) {
  const struct state *st = f->st;
  return st && st->current && !f->settling && st->status != FILE_INVALID &&
         st->status != FILE_REMOVED;
}

void mirror__seen_read(struct mirror_file *f) {
  if (f->own_reads) {
    f->own_reads--;
    return;
  }
  /* A change reported before this read and not read yet: the reader saw
   * it, so what was seen is what the mirror finds when it reads it. */
  if (f->unknown) {
    f->seen_pending = 1;
    return;
  }
  if (!readable(f)) return; /* what was seen before stays */
  see_disk(f);
}

void mirror__seen_settle(struct mirror_file *f) {
  if (!f->seen_pending) return;
  f->seen_pending = 0;
  if (readable(f) && !f->unknown) see_disk(f);
}

/* The suffix of a temporary name (".NAME.json.mirrorstate-XXXXXX"). */
static const char *suffix_of(const char *tmp) {
  const char *dash = strrchr(tmp, '-');
  return dash ? dash + 1 : tmp;
}

void mirror__seen_wrote(struct mirror_file *f, const char *tmp,
                        uint64_t version) {
  int i = f->gone_next;
  f->gone_next = (i + 1) % (int)(sizeof f->gone / sizeof *f->gone);
  snprintf(f->gone[i].suffix, sizeof f->gone[i].suffix, "%s", suffix_of(tmp));
  f->gone[i].version = version;
}

void mirror__seen_gone(struct mirror_file *f, const char *suffix) {
  if (f->own_tmp_reads) {
    f->own_tmp_reads--;
    return;
  }
  for (size_t i = 0; i < sizeof f->gone / sizeof *f->gone; i++)
    if (f->gone[i].version && strcmp(f->gone[i].suffix, suffix) == 0) {
      /* Opened before the write, read after: what the file held then. */
      set_value(f, NULL);
      f->seen_version = f->gone[i].version;
      f->seen = 1;
      return;
    }
}

void mirror__seen_save(struct mirror_file *f) {
  see_disk(f);
}

int mirror__seen_is_disk(const struct mirror_file *f) {
  return !f->seen || (!f->seen_value && !f->seen_text && f->disk_version &&
                      f->seen_version == f->disk_version);
}

const cJSON *mirror__seen_base(struct mirror_file *f, cJSON **owned) {
  *owned = NULL;
  if (mirror__seen_is_disk(f)) return mirror__disk_value(f);
  if (f->seen_value) return f->seen_value;
  if (f->seen_text) {
    *owned = json_parse(f->seen_text, f->seen_len, NULL);
    if (*owned) return *owned;
    return mirror__disk_value(f);
  }
  const struct state *st = f->st;
  cJSON *v = store_value_at(st, f->seen_version);
  if (!v && st->hist_len) {
    /* The history no longer reaches back that far: the oldest value it
     * can rebuild keeps at least the later changes. */
    uint64_t oldest = store_history(st, 0)->version - 1;
    if (oldest > f->seen_version) v = store_value_at(st, oldest);
  }
  if (!v) return mirror__disk_value(f);
  *owned = v;
  return v;
}

void mirror__seen_free(struct mirror_file *f) {
  set_value(f, NULL);
  f->seen = 0;
}
