/* Whole-file reads and atomic writes. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_sig_equal(const struct file_sig *a, const struct file_sig *b) {
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->mtime.tv_sec == b->mtime.tv_sec &&
         a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void sig_from_stat(struct file_sig *sig, const struct stat *sb) {
  sig->dev = sb->st_dev;
  sig->ino = sb->st_ino;
  sig->size = sb->st_size;
  sig->mtime = sb->st_mtim;
}

int file_stat(const char *path, struct file_sig *sig) {
  struct stat sb;
  if (stat(path, &sb) != 0) return -errno;
  sig_from_stat(sig, &sb);
  return 0;
}

int file_read(const char *path, size_t max, char **buf, size_t *len,
              struct file_sig *sig) {
  *buf = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return -errno;
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  if (S_ISDIR(sb.st_mode)) {
    close(fd);
    return -EISDIR;
  }
  if ((size_t)sb.st_size > max) {
    close(fd);
    return -EFBIG;
  }
  if (sig) sig_from_stat(sig, &sb);
  /* The size may change while we read (a writer mid-save): read to EOF. */
  size_t cap = (size_t)sb.st_size + 1, n = 0;
  char *data = malloc(cap + 1);
  for (;;) {
    if (!data) {
      close(fd);
      return -ENOMEM;
    }
    ssize_t r = read(fd, data + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(data);
      close(fd);
      return -e;
    }
    if (r == 0) break;
    n += (size_t)r;
    if (n > max) {
      free(data);
      close(fd);
      return -EFBIG;
    }
    if (n == cap) {
      cap *= 2;
      char *bigger = realloc(data, cap + 1);
      if (!bigger) free(data);
      data = bigger;
    }
  }
  close(fd);
  data[n] = '\0';
  *buf = data;
  *len = n;
  return 0;
}

/* The path a write must replace: a symlink's final target, or path. */
static int resolve_target(const char *path, char *out, size_t outlen) {
  char link[PATH_MAX];
  snprintf(out, outlen, "%s", path);
  for (int hops = 0; hops < 40; hops++) {
    ssize_t n = readlink(out, link, sizeof link - 1);
    if (n < 0) return errno == EINVAL || errno == ENOENT ? 0 : -errno;
    link[n] = '\0';
    if (link[0] == '/') {
      snprintf(out, outlen, "%s", link);
    } else {
      char *slash = strrchr(out, '/');
      size_t keep = slash ? (size_t)(slash - out) + 1 : 0;
      if (keep + (size_t)n + 1 > outlen) return -ENAMETOOLONG;
      memcpy(out + keep, link, (size_t)n + 1);
    }
  }
  return -ELOOP;
}

static int write_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, data, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -errno;
    data += w;
    len -= (size_t)w;
  }
  return 0;
}

static mode_t new_file_mode(void) {
  mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
}

/* Moves tmp over target. With swap, the old target is exchanged into
 * tmp's place rather than unlinked, so what it held can be checked; sets
 * *exchanged accordingly. */
static int replace_target(const char *tmp, const char *target, int want_swap,
                          int *exchanged) {
  *exchanged = 0;
  for (int tries = 0; want_swap && tries < 8; tries++) {
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_EXCHANGE) == 0) {
      *exchanged = 1;
      return 0;
    }
    if (errno == EINVAL || errno == ENOSYS) break; /* no support: rename */
    if (errno != ENOENT) return -errno;
    /* No target: create it, unless someone does so right now. */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_NOREPLACE) == 0)
      return 0;
    if (errno == EINVAL || errno == ENOSYS) break;
    if (errno != EEXIST) return -errno;
  }
  return rename(tmp, target) == 0 ? 0 : -errno;
}

/* Non-zero if the file at path is, without doubt, the one known: same
 * inode, size and mtime, and that mtime well in the past. (File times come
 * from a coarse clock: a write within the same tick may leave them equal,
 * so a recent match proves nothing and the bytes must be compared.) */
static int surely_known(const char *path, const struct file_known *known) {
  struct file_sig now = {0};
  struct timespec clock;
  if (!known->sig || file_stat(path, &now) != 0 ||
      !file_sig_equal(&now, known->sig) ||
      clock_gettime(CLOCK_REALTIME, &clock) != 0)
    return 0;
  double age = (double)(clock.tv_sec - now.mtime.tv_sec) +
               (double)(clock.tv_nsec - now.mtime.tv_nsec) / 1e9;
  return age > 0.1;
}

int file_write_atomic(const char *path, const char *data, size_t len,
                      struct file_sig *sig, const struct file_known *known,
                      struct file_swap *swap) {
  char target[PATH_MAX], tmp[PATH_MAX + 40];
  int rc = resolve_target(path, target, sizeof target);
  if (rc) return rc;
  const char *slash = strrchr(target, '/');
  int dirlen = slash ? (int)(slash - target) : 0;
  const char *base = slash ? slash + 1 : target;
  /* A dot-name keeps editors and the --dir scan from taking it for a state. */
  snprintf(tmp, sizeof tmp, "%.*s%s.%s.mirrorstate-XXXXXX", dirlen, target,
           slash ? "/" : "", base);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) return -errno;
  struct stat old;
  if (stat(target, &old) == 0) {
    fchmod(fd, old.st_mode & 07777);
    if (fchown(fd, old.st_uid, old.st_gid) != 0) {
      /* Not permitted for other owners unless root; the mode still holds. */
    }
  } else {
    fchmod(fd, new_file_mode());
  }
  rc = write_all(fd, data, len);
  if (!rc && fsync(fd) != 0) rc = -errno;
  struct stat sb;
  if (!rc && fstat(fd, &sb) != 0) rc = -errno;
  if (close(fd) != 0 && !rc) rc = -errno;
  int exchanged = 0;
  if (!rc) rc = replace_target(tmp, target, swap != NULL, &exchanged);
  if (rc) {
    unlink(tmp);
    return rc;
  }
  if (sig) sig_from_stat(sig, &sb);
  if (!exchanged) return 0;
  /* tmp now holds the file we replaced: was it the one known? Reading it
   * is needed only when its signature leaves a doubt. */
  int has_known = known && known->text;
  if (has_known && surely_known(tmp, known)) {
    unlink(tmp);
    return 0;
  }
  char *text;
  size_t n;
  if (file_read(tmp, (size_t)-1 / 2, &text, &n, NULL) != 0) {
    unlink(tmp);
    return 0;
  }
  if (has_known && n == known->len && memcmp(text, known->text, n) == 0) {
    free(text);
    unlink(tmp);
    return 0;
  }
  swap->text = text;
  swap->len = n;
  snprintf(swap->kept, sizeof swap->kept, "%s", tmp);
  snprintf(swap->target, sizeof swap->target, "%s", target);
  return 1;
}

int file_swap_restore(struct file_swap *swap) {
  int rc = rename(swap->kept, swap->target) == 0 ? 0 : -errno;
  free(swap->text);
  swap->text = NULL;
  return rc;
}

void file_swap_done(struct file_swap *swap) {
  unlink(swap->kept);
  free(swap->text);
  swap->text = NULL;
}

int file_make_parents(const char *path) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -errno;
    *p = '/';
  }
  return 0;
}
