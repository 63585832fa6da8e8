/* The file mirror: its start, stop and teardown. The watcher is in
 * mirror_watch.c, the per-file work (read, merge, write) in mirror_file.c,
 * where states come from and go in mirror_states.c. */
#include "mirror.h"

#include <stdlib.h>
#include <string.h>

#include "mirror_int.h"

void mirror__split(const char *path, char **dir, char **base) {
  const char *slash = strrchr(path, '/');
  *dir = strndup(path, slash && slash != path ? (size_t)(slash - path) : 1);
  *base = strdup(slash ? slash + 1 : path);
}

static void on_closed(uv_handle_t *handle);

/* A handle of the mirror, or of one of its files, finished closing. */
static void closed(struct mirror *m) {
  if (--m->closing == 0 && m->free_closed) mirror_free(m);
}

static void on_closed(uv_handle_t *handle) {
  closed(handle->data);
}

static void on_file_closed(uv_handle_t *handle) {
  struct mirror_file *f = handle->data;
  closed(f->m);
}

int mirror_start(uv_loop_t *loop, const struct config *cfg, struct store *store,
                 const struct mirror_events *ev, struct mirror **out) {
  *out = NULL;
  struct mirror *m = calloc(1, sizeof *m);
  if (!m) return -1;
  m->loop = loop;
  m->store = store;
  m->ev = *ev;
  m->cfg = cfg;
  m->ifd = -1;
  uv_timer_init(loop, &m->sweep_timer);
  m->sweep_timer.data = m;
  if (mirror__watch_init(m) != 0) goto fail;
  m->loading = 1;
  for (int i = 0; i < cfg->nfiles; i++)
    if (mirror__add_file(m, cfg->files[i]) != 0) goto fail;
  for (int i = 0; i < cfg->ndirs; i++)
    if (mirror__add_dir(m, cfg->dirs[i]) != 0) goto fail;
  /* Load every file now; events that raced with the load are read next. */
  for (struct mirror_file *f = m->files; f; f = f->next)
    mirror__process(f, 1);
  m->loading = 0;
  for (struct mirror_file *f = m->files; f; f = f->next)
    f->touched = 0;
  mirror__watch_start(m);
  *out = m;
  return 0;
fail:
  /* Nothing is left for the caller: the states go from the store now, the
   * mirror once its handles have closed. */
  for (struct mirror_file *f = m->files; f; f = f->next) {
    store_remove(store, f->st);
    f->st = NULL;
  }
  m->free_closed = 1;
  mirror_stop(m);
  return -1;
}

void mirror_stop(struct mirror *m) {
  if (!m || m->stopping) return;
  m->stopping = 1;
  mirror__watch_close(m, on_closed);
  m->closing++;
  uv_close((uv_handle_t *)&m->sweep_timer, on_closed);
  for (struct mirror_file *f = m->files; f; f = f->next)
    mirror__file_close(f, on_file_closed);
}

void mirror_free(struct mirror *m) {
  if (!m) return;
  mirror__watch_free(m);
  while (m->files) {
    struct mirror_file *f = m->files;
    m->files = f->next;
    if (f->st) f->st->file = NULL;
    mirror__free_file(f);
  }
  for (int i = 0; i < m->nroots; i++)
    free(m->roots[i]);
  for (int i = 0; i < m->nfile_roots; i++) {
    free(m->file_root_dirs[i][0]);
    free(m->file_root_dirs[i][1]);
  }
  free(m);
}
