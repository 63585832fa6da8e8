/* The mirror's watcher: inotify on the directories its files are in, read
 * on the loop through a uv_poll_t. Events are mapped to the files they
 * touch, and each touched file is then read once (mirror_file.c); new
 * directories and files under a --dir are scanned (mirror_states.c), and an
 * overflowed queue re-reads everything. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mirror_int.h"

/* IN_ATTRIB too: a chmod can make an unreadable file readable again. And
 * IN_CLOSE_NOWRITE: a file was read, which tells what its reader saw
 * (mirror_seen.c). IN_OPEN only keeps two reads in a row apart: inotify
 * merges an event into the one before it when both are alike and unread,
 * so the mirror's own read and an agent's right after it would be one. */
#define WATCH_MASK                                                             \
  (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM |      \
   IN_DELETE_SELF | IN_ATTRIB | IN_CLOSE_NOWRITE | IN_OPEN | IN_ONLYDIR)

/* --- watches ------------------------------------------------------------- */

struct watch *mirror__watch_add(struct mirror *m, const char *dir, int root,
                                const char *rel) {
  int wd = inotify_add_watch(m->ifd, dir, WATCH_MASK);
  if (wd < 0) {
    log_warn("cannot watch %s: %s", dir, strerror(errno));
    return NULL;
  }
  for (struct watch *w = m->watches; w; w = w->next)
    if (w->wd == wd) return w; /* inotify hands out one wd per directory */
  struct watch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->wd = wd;
  w->path = strdup(dir);
  w->root = root;
  w->rel = rel ? strdup(rel) : NULL;
  w->next = m->watches;
  m->watches = w;
  return w;
}

static struct watch *watch_find(struct mirror *m, int wd) {
  for (struct watch *w = m->watches; w; w = w->next)
    if (w->wd == wd) return w;
  return NULL;
}

static void watch_forget(struct mirror *m, int wd) {
  for (struct watch **p = &m->watches; *p; p = &(*p)->next)
    if ((*p)->wd == wd) {
      struct watch *w = *p;
      *p = w->next;
      free(w->path);
      free(w->rel);
      free(w->busy);
      free(w);
      return;
    }
}

/* How long a written file beside a state counts as a save under way: a
 * save renames its temporary file within microseconds, so this is only a
 * bound for a file that is never renamed (an editor's swap file). */
#define SAVE_UNDER_WAY_MS 20

/* Tracks files written in w that are not states (f is NULL): the
 * temporary file of a save, until it is renamed or removed. */
static void note_busy(struct mirror *m, struct watch *w,
                      const struct inotify_event *ev) {
  if ((ev->mask & IN_CLOSE_WRITE) && !strstr(ev->name, ".mirrorstate-")) {
    char *name = strdup(ev->name);
    if (!name) return;
    free(w->busy);
    w->busy = name;
    w->busy_ms = uv_now(m->loop);
  } else if ((ev->mask & (IN_MOVED_FROM | IN_DELETE)) && w->busy &&
             strcmp(w->busy, ev->name) == 0) {
    free(w->busy);
    w->busy = NULL;
  }
}

uint64_t mirror__save_under_way(struct mirror *m, const struct mirror_file *f) {
  uv_update_time(m->loop);
  uint64_t now = uv_now(m->loop), wait = 0;
  for (struct watch *w = m->watches; w; w = w->next) {
    if (!w->busy || (strcmp(w->path, f->dir) != 0 &&
                     (!f->real_dir || strcmp(w->path, f->real_dir) != 0)))
      continue;
    if (now - w->busy_ms >= SAVE_UNDER_WAY_MS) {
      free(w->busy);
      w->busy = NULL;
    } else if (SAVE_UNDER_WAY_MS - (now - w->busy_ms) > wait) {
      wait = SAVE_UNDER_WAY_MS - (now - w->busy_ms);
    }
  }
  return wait;
}

static struct mirror_file *file_find(struct mirror *m, const char *dir,
                                     const char *base) {
  for (struct mirror_file *f = m->files; f; f = f->next) {
    if (strcmp(f->base, base) == 0 && strcmp(f->dir, dir) == 0) return f;
    if (f->real_dir && strcmp(f->real_base, base) == 0 &&
        strcmp(f->real_dir, dir) == 0)
      return f;
  }
  return NULL;
}

/* The file a read in w's directory touched, looked up by its state's name
 * under a --dir (reads are frequent, and most are of other files). */
static struct mirror_file *
read_file_find(struct mirror *m, const struct watch *w, const char *base) {
  size_t n = strlen(base);
  if (n <= 5 || strcmp(base + n - 5, ".json") != 0) return NULL;
  if (w->root >= 0 && w->rel) {
    char name[PATH_MAX];
    if ((size_t)snprintf(name, sizeof name, "%s%.*s", w->rel, (int)(n - 5),
                         base) < sizeof name) {
      struct state *st = store_find(m->store, name);
      struct mirror_file *f = st ? st->file : NULL;
      if (f && strcmp(f->base, base) == 0 && strcmp(f->dir, w->path) == 0)
        return f;
    }
  }
  return file_find(m, w->path, base);
}

/* The file whose write used the temporary name (".BASE.mirrorstate-
 * XXXXXX"), with *suffix set to XXXXXX; NULL for any other name. */
static struct mirror_file *temp_owner(struct mirror *m, const struct watch *w,
                                      const char *name, const char **suffix) {
  static const char mark[] = ".mirrorstate-";
  if (name[0] != '.') return NULL;
  const char *at = strstr(name, mark);
  if (!at || at == name + 1 || strlen(at + sizeof mark - 1) != 6) return NULL;
  char base[NAME_MAX + 1];
  snprintf(base, sizeof base, "%.*s", (int)(at - name - 1), name + 1);
  *suffix = at + sizeof mark - 1;
  return file_find(m, w->path, base);
}

/* --- inotify ------------------------------------------------------------- */

static void touch(struct mirror_file *f) {
  f->touched = 1;
}

static void rescan_all(struct mirror *m) {
  for (int i = 0; i < m->nroots; i++)
    mirror__scan(m, i, m->roots[i], "");
  for (struct mirror_file *f = m->files; f; f = f->next) {
    touch(f);
    f->unknown = 1; /* events were lost: reads may have seen anything */
  }
}

/* Whether ev put new content in f's place that the mirror has not read.
 * (A name moved away or deleted cannot be read until something new
 * comes.) */
static int new_content(const struct inotify_event *ev) {
  return (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE)) != 0;
}

/* While the events of the mirror's own swap are read: an exchange is two
 * renames, the temporary file to the name (its IN_MOVED_FROM comes first
 * and gives the pair's cookie) and the name to the temporary file. Returns
 * 1 if ev is one of them (nothing to read back: the mirror knows what it
 * wrote). */
static int own_rename(struct mirror *m, struct mirror_file *f,
                      const struct inotify_event *ev) {
  if (!m->landing || !ev->cookie) return 0;
  int tmp = strcmp(ev->name, m->landing_tmp) == 0;
  if (tmp && (ev->mask & IN_MOVED_FROM)) {
    m->landing_in = ev->cookie;
    return 1;
  }
  if (tmp && (ev->mask & IN_MOVED_TO) && ev->cookie == m->landing_out) {
    m->landing_out = 0;
    return 1;
  }
  if (f != m->landing) return 0;
  if ((ev->mask & IN_MOVED_TO) && ev->cookie == m->landing_in) {
    /* Reads reported before this saw the file as it was. */
    mirror__landed(f);
    return 1;
  }
  if ((ev->mask & IN_MOVED_FROM) && !m->landing_out) {
    m->landing_out = ev->cookie; /* confirmed when it reaches tmp */
    return 1;
  }
  return 0;
}

static void on_event(struct mirror *m, const struct inotify_event *ev) {
  if (ev->mask & IN_Q_OVERFLOW) {
    log_warn("inotify queue overflowed: re-reading every file");
    rescan_all(m);
    return;
  }
  struct watch *w = watch_find(m, ev->wd);
  if (!w) return;
  if (ev->mask & IN_IGNORED) {
    watch_forget(m, ev->wd);
    return;
  }
  if (ev->mask & IN_DELETE_SELF) {
    for (struct mirror_file *f = m->files; f; f = f->next)
      if (strcmp(f->dir, w->path) == 0) touch(f);
    return;
  }
  if (!ev->len || (ev->mask & IN_OPEN)) return;
  if (m->landing && !(ev->mask & IN_ISDIR) &&
      own_rename(m, file_find(m, w->path, ev->name), ev))
    return;
  if ((ev->mask & (IN_CLOSE_NOWRITE | IN_ISDIR)) == IN_CLOSE_NOWRITE) {
    const char *suffix;
    struct mirror_file *f = temp_owner(m, w, ev->name, &suffix);
    if (f)
      mirror__seen_gone(f, suffix);
    else if ((f = read_file_find(m, w, ev->name)))
      mirror__seen_read(f);
    return;
  }
  if (ev->mask & IN_ISDIR) {
    if (w->root >= 0 && (ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
        ev->name[0] != '.' && strcmp(ev->name, "node_modules") != 0) {
      char dir[PATH_MAX], rel[PATH_MAX];
      snprintf(dir, sizeof dir, "%s/%s", w->path, ev->name);
      snprintf(rel, sizeof rel, "%s%s/", w->rel, ev->name);
      mirror__scan(m, w->root, dir, rel); /* files may already be inside */
    }
    return;
  }
  struct mirror_file *f = file_find(m, w->path, ev->name);
  /* A creation alone carries no content yet (its CLOSE_WRITE follows),
   * unless it is a symlink or a FIFO, socket or device, which get no other
   * event (and are then reported as unreadable, without being opened). */
  int created = 0;
  if ((ev->mask & IN_CREATE) && !(ev->mask & ~(IN_CREATE | IN_ISDIR))) {
    /* Not a mirrored file, nor one a --dir could take (an editor's
     * temporary file): nothing to look at. */
    if (!f && w->root < 0) return;
    struct stat lsb;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", w->path, ev->name);
    if (lstat(path, &lsb) != 0 || S_ISREG(lsb.st_mode) ||
        S_ISDIR(lsb.st_mode) || (S_ISLNK(lsb.st_mode) && !f))
      return;
    created = 1;
  }
  if (!f && w->root >= 0 &&
      (created || (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)))) {
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%s%s", w->rel, ev->name);
    struct state *st = mirror__dir_state(m, w->root, rel);
    f = st ? st->file : NULL;
  }
  if (!f) {
    note_busy(m, w, ev);
    return;
  }
  if (new_content(ev)) f->unknown = 1;
  touch(f);
}

static void on_drain_timer(uv_timer_t *t) {
  mirror__drain(t->data);
}

void mirror__read_events(struct mirror *m) {
  char buf[64 * 1024]
      __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(m->ifd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      on_event(m, ev);
      p += sizeof *ev + ev->len;
    }
    /* Room was left for another event: the queue was empty. (One that
     * arrives now wakes the poll again.) */
    if ((size_t)n + sizeof(struct inotify_event) + NAME_MAX + 1 <= sizeof buf)
      break;
  }
  /* Files changed are processed by a drain: this one, or one on the next
   * turn when the events were read elsewhere. */
  for (struct mirror_file *f = m->files; f; f = f->next)
    if (f->touched && m->drain_init && !m->stopping) {
      uv_timer_start(&m->drain_timer, on_drain_timer, 0, 0);
      break;
    }
  /* Every read the mirror made before now has been reported: a count left
   * over is a read the watch did not see (through a link to an unwatched
   * place), and must not hide someone else's. */
  for (struct mirror_file *f = m->files; f; f = f->next)
    f->own_reads = f->own_tmp_reads = 0;
}

void mirror__read_own_write(struct mirror *m, struct mirror_file *f,
                            const char *tmp) {
  m->landing = f;
  m->landing_tmp = tmp;
  m->landing_in = m->landing_out = 0;
  mirror__read_events(m);
  /* The name moved away, but not into tmp: someone else moved it. */
  if (m->landing_out) touch(f);
  m->landing = NULL;
  mirror__landed(f); /* if its rename was not seen (the queue overflowed) */
}

/* Reads every queued event, then processes each touched file once. */
void mirror__drain(struct mirror *m) {
  mirror__read_events(m);
  for (struct mirror_file *f = m->files; f; f = f->next)
    if (f->touched) {
      f->touched = 0;
      mirror__process(f, 0);
    }
}

static void on_inotify(uv_poll_t *p, int status, int events) {
  (void)events;
  if (status == 0) mirror__drain(p->data);
}

/* --- the inotify descriptor ---------------------------------------------- */

int mirror__watch_init(struct mirror *m) {
  m->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (m->ifd < 0) {
    log_error("inotify: %s", strerror(errno));
    return -1;
  }
  uv_timer_init(m->loop, &m->drain_timer);
  m->drain_timer.data = m;
  m->drain_init = 1;
  uv_poll_init(m->loop, &m->poll, m->ifd);
  m->poll.data = m;
  m->poll_init = 1;
  return 0;
}

void mirror__watch_start(struct mirror *m) {
  uv_poll_start(&m->poll, UV_READABLE, on_inotify);
}

void mirror__watch_close(struct mirror *m, uv_close_cb cb) {
  if (m->drain_init && !uv_is_closing((uv_handle_t *)&m->drain_timer)) {
    m->closing++;
    uv_close((uv_handle_t *)&m->drain_timer, cb);
  }
  if (!m->poll_init || uv_is_closing((uv_handle_t *)&m->poll)) return;
  m->closing++;
  uv_close((uv_handle_t *)&m->poll, cb);
}

void mirror__watch_free(struct mirror *m) {
  if (m->ifd >= 0) close(m->ifd);
  m->ifd = -1;
  while (m->watches)
    watch_forget(m, m->watches->wd);
}
