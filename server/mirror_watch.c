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

/* IN_ATTRIB too: a chmod can make an unreadable file readable again. */
#define WATCH_MASK                                                             \
  (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM |      \
   IN_DELETE_SELF | IN_ATTRIB | IN_ONLYDIR)

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
      free(w);
      return;
    }
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

/* --- inotify ------------------------------------------------------------- */

static void touch(struct mirror_file *f) {
  f->touched = 1;
}

static void rescan_all(struct mirror *m) {
  for (int i = 0; i < m->nroots; i++)
    mirror__scan(m, i, m->roots[i], "");
  for (struct mirror_file *f = m->files; f; f = f->next)
    touch(f);
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
  if (!ev->len) return;
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
  if (f) touch(f);
}

/* Reads every queued event, then processes each touched file once. */
void mirror__drain(struct mirror *m) {
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
  uv_poll_init(m->loop, &m->poll, m->ifd);
  m->poll.data = m;
  m->poll_init = 1;
  return 0;
}

void mirror__watch_start(struct mirror *m) {
  uv_poll_start(&m->poll, UV_READABLE, on_inotify);
}

void mirror__watch_close(struct mirror *m, uv_close_cb cb) {
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
