/* Whole-file reads and atomic writes, confined to a root. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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

/* --- confinement --------------------------------------------------------- */

int file_root_contains(const struct file_root *root, const char *real) {
  if (!root || root->ndirs == 0) return 1;
  for (int i = 0; i < root->ndirs; i++) {
    const char *d = root->dirs[i];
    size_t n = strlen(d);
    if (n == 1 && d[0] == '/') return 1;
    if (strncmp(real, d, n) == 0 && (real[n] == '/' || real[n] == '\0'))
      return 1;
  }
  return 0;
}

/* Whether the open fd lies inside root: 1, 0, or a negative errno. The
 * kernel's name for the fd is the file really opened, so a link swapped
 * after the open changes nothing. Without /proc, the real path of path
 * stands in, if it still names the same file. */
static int fd_inside(int fd, const char *path, const struct file_root *root) {
  char real[PATH_MAX + 16], link[40];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, real, sizeof real - 1);
  if (n >= 0) {
    real[n] = '\0';
  } else {
    struct stat a, b;
    if (!path || !realpath(path, real)) return -errno;
    if (fstat(fd, &a) != 0 || stat(real, &b) != 0 || a.st_dev != b.st_dev ||
        a.st_ino != b.st_ino)
      return -EAGAIN;
  }
  /* A file unlinked meanwhile reads "PATH (deleted)": still PATH. */
  return file_root_contains(root, real);
}

int file_link_target(const char *path, char *out, size_t outlen) {
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

int file_leads_inside(const struct file_root *root, const char *path) {
  if (!root || root->follow || root->ndirs == 0) return 1;
  char cur[PATH_MAX], real[PATH_MAX];
  int rc = file_link_target(path, cur, sizeof cur);
  if (rc == -ELOOP) return 1; /* leads nowhere: reading it says so */
  if (rc) return rc;
  /* The deepest part that exists decides: what is missing below it can
   * only be created there. */
  for (;;) {
    if (realpath(cur, real)) return file_root_contains(root, real);
    if (errno != ENOENT && errno != ENOTDIR) return -errno;
    char *slash = strrchr(cur, '/');
    if (!slash || slash == cur) return 0;
    *slash = '\0';
  }
}

/* --- reading ------------------------------------------------------------- */

const char *file_kind(const char *path) {
  struct stat sb;
  if (stat(path, &sb) != 0) return "not a regular file";
  if (S_ISDIR(sb.st_mode)) return "a directory";
  if (S_ISFIFO(sb.st_mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(sb.st_mode)) return "a socket";
  if (S_ISCHR(sb.st_mode)) return "a character device";
  if (S_ISBLK(sb.st_mode)) return "a block device";
  return "not a regular file";
}

static int check_regular(const struct stat *sb) {
  if (S_ISDIR(sb->st_mode)) return -EISDIR;
  return S_ISREG(sb->st_mode) ? 0 : -ENODEV;
}

/* Reads fd to EOF (the size may change while we read: a writer mid-save).
 * sb is the file's status, taken on the descriptor it was opened from. */
static int read_fd(int fd, const struct stat *sb, size_t max,
                   struct file_text *out) {
  if ((size_t)sb->st_size > max) return -EFBIG;
  sig_from_stat(&out->sig, sb);
  size_t cap = (size_t)sb->st_size + 1, n = 0;
  char *data = malloc(cap + 1);
  for (;;) {
    if (!data) return -ENOMEM;
    ssize_t r = read(fd, data + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(data);
      return -e;
    }
    if (r == 0) break;
    size_t asked = cap - n;
    n += (size_t)r;
    /* The size it had, and not a byte more: that is the end (a file that
     * grew meanwhile fills the byte asked for beyond it). Saves the read
     * that would return 0. */
    if ((size_t)r < asked && n == (size_t)sb->st_size) break;
    if (n > max) {
      free(data);
      return -EFBIG;
    }
    if (n == cap) {
      cap *= 2;
      char *bigger = realloc(data, cap + 1);
      if (!bigger) free(data);
      data = bigger;
    }
  }
  data[n] = '\0';
  out->buf = data;
  out->len = n;
  return 0;
}

#define READ_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/* Opens for reading the file that the O_PATH descriptor pfd (of dirfd and
 * name, with status sb) refers to: through /proc, or by name again when
 * /proc is missing, as long as the name still leads to the same file. */
static int reopen(int pfd, int dirfd, const char *name, const struct stat *sb) {
  char link[40];
  snprintf(link, sizeof link, "/proc/self/fd/%d", pfd);
  int fd = open(link, READ_FLAGS);
  if (fd >= 0 || errno != ENOENT) return fd >= 0 ? fd : -errno;
  fd = openat(dirfd, name, READ_FLAGS);
  if (fd < 0) return -errno;
  struct stat now;
  if (fstat(fd, &now) != 0 || now.st_dev != sb->st_dev ||
      now.st_ino != sb->st_ino) {
    close(fd);
    return -EAGAIN;
  }
  return fd;
}

/* file_read relative to dirfd; nofollow: the name itself must not be a
 * symlink (the displaced file of a swap). */
static int read_at(int dirfd, const char *name, int nofollow,
                   const struct file_root *root, size_t max,
                   struct file_text *out) {
  memset(out, 0, sizeof *out);
  /* O_PATH opens nothing: no FIFO blocks and no device acts on it. The
   * name itself first: whether it is a symlink comes with its status. */
  int pfd = openat(dirfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
  if (pfd < 0) return -errno;
  struct stat sb;
  int rc = fstat(pfd, &sb) != 0 ? -errno : 0;
  if (!rc && S_ISLNK(sb.st_mode) && !nofollow) {
    out->link = 1;
    close(pfd);
    pfd = openat(dirfd, name, O_PATH | O_CLOEXEC);
    if (pfd < 0) return -errno;
    rc = fstat(pfd, &sb) != 0 ? -errno : 0;
  }
  if (!rc) rc = check_regular(&sb);
  if (!rc && root && root->ndirs > 0) {
    rc = fd_inside(pfd, dirfd == AT_FDCWD ? name : NULL, root);
    if (rc == 0) {
      out->outside = 1;
      rc = root->follow ? 0 : -EXDEV;
    } else if (rc == 1) {
      rc = 0;
    }
  }
  int fd = rc ? -1 : reopen(pfd, dirfd, name, &sb);
  close(pfd);
  if (rc) return rc;
  if (fd < 0) return fd;
  out->opened = 1;
  rc = read_fd(fd, &sb, max, out);
  close(fd);
  return rc;
}

int file_read(const char *path, const struct file_root *root, size_t max,
              struct file_text *out) {
  return read_at(AT_FDCWD, path, 0, root, max, out);
}

/* --- writing ------------------------------------------------------------- */

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

/* Creates ".BASE.mirrorstate-XXXXXX" in dirfd (a dot-name keeps editors
 * and the --dir scan from taking it for a state), its name in tmp. */
static int make_temp(int dirfd, const char *base, char *tmp, size_t tmplen) {
  static const char chars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  for (int tries = 0; tries < 100; tries++) {
    unsigned char rnd[6];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) return -EIO;
    char suffix[7];
    for (int i = 0; i < 6; i++)
      suffix[i] = chars[rnd[i] % (sizeof chars - 1)];
    suffix[6] = '\0';
    if ((size_t)snprintf(tmp, tmplen, ".%s.mirrorstate-%s", base, suffix) >=
        tmplen)
      return -ENAMETOOLONG;
    int fd = openat(dirfd, tmp,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST) return fd >= 0 ? fd : -errno;
  }
  return -EEXIST;
}

/* Moves tmp over target, both in dirfd. With want_swap, the old target is
 * exchanged into tmp's place rather than unlinked, so what it held can be
 * checked; sets *exchanged accordingly. */
static int replace_target(int dirfd, const char *tmp, const char *target,
                          int want_swap, int *exchanged) {
  *exchanged = 0;
  for (int tries = 0; want_swap && tries < 8; tries++) {
    if (renameat2(dirfd, tmp, dirfd, target, RENAME_EXCHANGE) == 0) {
      *exchanged = 1;
      return 0;
    }
    if (errno == EINVAL || errno == ENOSYS) break; /* no support: rename */
    if (errno != ENOENT) return -errno;
    /* No target: create it, unless someone does so right now. */
    if (renameat2(dirfd, tmp, dirfd, target, RENAME_NOREPLACE) == 0) return 0;
    if (errno == EINVAL || errno == ENOSYS) break;
    if (errno != EEXIST) return -errno;
  }
  return renameat(dirfd, tmp, dirfd, target) == 0 ? 0 : -errno;
}

/* Opens the directory a write goes into, checked against root. */
static int open_dir_inside(const char *dir, const struct file_root *root) {
  int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -errno;
  if (root && !root->follow && root->ndirs > 0) {
    int in = fd_inside(dfd, dir, root);
    if (in != 1) {
      close(dfd);
      return in == 0 ? -EXDEV : in;
    }
  }
  return dfd;
}

int file_write_prepare(const char *path, const struct file_root *root,
                       const char *data, size_t len, struct file_pending *p) {
  char target[PATH_MAX], dir[PATH_MAX];
  memset(p, 0, sizeof *p);
  p->dirfd = -1;
  int rc = file_link_target(path, target, sizeof target);
  if (rc) return rc;
  const char *slash = strrchr(target, '/');
  const char *base = slash ? slash + 1 : target;
  if (strlen(base) > NAME_MAX) return -ENAMETOOLONG;
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else
    snprintf(dir, sizeof dir, "%.*s",
             slash == target ? 1 : (int)(slash - target), target);
  int dfd = open_dir_inside(dir, root);
  if (dfd < 0) return dfd;
  struct stat old;
  int have_old = fstatat(dfd, base, &old, AT_SYMLINK_NOFOLLOW) == 0;
  if (have_old && !S_ISREG(old.st_mode) && !S_ISLNK(old.st_mode)) {
    close(dfd);
    return S_ISDIR(old.st_mode) ? -EISDIR : -ENODEV;
  }
  int fd = make_temp(dfd, base, p->tmp, sizeof p->tmp);
  if (fd < 0) {
    close(dfd);
    return fd;
  }
  if (have_old && S_ISREG(old.st_mode)) {
    fchmod(fd, old.st_mode & 07777);
    if (fchown(fd, old.st_uid, old.st_gid) != 0) {
      /* Not permitted for other owners unless root; the mode still holds. */
    }
  } else {
    fchmod(fd, new_file_mode());
  }
  rc = write_all(fd, data, len);
  struct stat sb;
  if (!rc && fstat(fd, &sb) != 0) rc = -errno;
  struct timespec mark[2] = {{0, UTIME_OMIT}, sb.st_mtim};
  if (!rc && mark[1].tv_nsec < 999999999) {
    mark[1].tv_nsec++;
    if (futimens(fd, mark) != 0) mark[1].tv_nsec = -1;
  }
  if (!rc && fsync(fd) != 0) rc = -errno;
  if (!rc && fstat(fd, &sb) != 0) rc = -errno;
  if (close(fd) != 0 && !rc) rc = -errno;
  if (rc) {
    unlinkat(dfd, p->tmp, 0);
    close(dfd);
    return rc;
  }
  sig_from_stat(&p->sig, &sb);
  p->exact = sb.st_mtim.tv_sec == mark[1].tv_sec &&
             sb.st_mtim.tv_nsec == mark[1].tv_nsec;
  memcpy(p->target, base, strlen(base) + 1); /* fits: checked above */
  p->dirfd = dfd;
  return 0;
}

void file_write_abort(struct file_pending *p) {
  if (p->dirfd < 0) return;
  unlinkat(p->dirfd, p->tmp, 0);
  close(p->dirfd);
  p->dirfd = -1;
}

static void finish(struct file_pending *p) {
  close(p->dirfd);
  p->dirfd = -1;
}

static int same_file(const struct stat *sb, const struct file_sig *sig) {
  return sb->st_dev == sig->dev && sb->st_ino == sig->ino;
}

/* The exchange displaced something other than the checked file into tmp:
 * puts it back at once. If the target was replaced once more between the
 * two exchanges (our file is then gone), the newest save goes in place and
 * the one in between is handed over in *older. */
/* Hands the save now at tmp over in *older, and removes it. */
static void hand_over(struct file_pending *p, struct file_swap *older) {
  struct file_text t;
  if (read_at(p->dirfd, p->tmp, 1, NULL, (size_t)-1 / 2, &t) == 0) {
    older->text = t.buf;
    older->len = t.len;
  }
  p->reads += t.opened != 0;
  unlinkat(p->dirfd, p->tmp, 0);
}

static int put_back(struct file_pending *p, struct file_swap *older) {
  int dfd = p->dirfd;
  if (renameat2(dfd, p->tmp, dfd, p->target, RENAME_EXCHANGE) != 0) {
    /* Our file stays in place: the save is handed over to be merged. */
    hand_over(p, older);
    finish(p);
    return FILE_DISPLACED;
  }
  struct stat sb;
  if (fstatat(dfd, p->tmp, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
      !same_file(&sb, &p->sig) && S_ISREG(sb.st_mode) &&
      renameat2(dfd, p->tmp, dfd, p->target, RENAME_EXCHANGE) == 0) {
    hand_over(p, older);
  } else if (fstatat(dfd, p->tmp, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
             same_file(&sb, &p->sig)) {
    unlinkat(dfd, p->tmp, 0);
  }
  finish(p);
  return FILE_PUT_BACK;
}

/* Whether the target is, without doubt, the known file; *now receives its
 * signature. Inode, size and mtime settle it when that mtime is well in
 * the past; file times come from a coarse clock, so a write within the
 * same tick may leave them equal, and then the bytes are compared (a read
 * of the target, counted in p->target_reads). */
static int target_known(struct file_pending *p, const struct file_known *known,
                        struct file_sig *now) {
  struct stat sb;
  if (fstatat(p->dirfd, p->target, &sb, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT && !known->text; /* none, as known */
  sig_from_stat(now, &sb);
  if (!known->text || !S_ISREG(sb.st_mode)) return 0;
  if (known->sig) {
    if (!file_sig_equal(now, known->sig)) return 0;
    if (known->exact) return 1;
    struct timespec clock;
    if (clock_gettime(CLOCK_REALTIME, &clock) == 0 &&
        (double)(clock.tv_sec - now->mtime.tv_sec) +
                (double)(clock.tv_nsec - now->mtime.tv_nsec) / 1e9 >
            0.1)
      return 1;
  } else if ((size_t)sb.st_size != known->len) {
    return 0;
  }
  struct file_text t;
  int rc = read_at(p->dirfd, p->target, 1, NULL, known->len + 1, &t);
  p->target_reads += t.opened != 0;
  if (rc != 0) return 0;
  int same = t.len == known->len && memcmp(t.buf, known->text, t.len) == 0 &&
             file_sig_equal(&t.sig, now);
  free(t.buf);
  return same;
}

int file_write_commit(struct file_pending *p, const struct file_known *known,
                      struct file_swap *older) {
  older->text = NULL;
  older->len = 0;
  /* The check of the target, everything slow done before it, and the swap
   * right after. */
  struct file_sig checked = {0};
  if (known && !target_known(p, known, &checked)) {
    file_write_abort(p);
    return FILE_CHANGED;
  }
  int exchanged = 0;
  int rc =
      replace_target(p->dirfd, p->tmp, p->target, known != NULL, &exchanged);
  if (rc) {
    file_write_abort(p);
    return rc;
  }
  if (!exchanged) {
    finish(p);
    return FILE_WRITTEN;
  }
  /* tmp now holds what the target held: the file just checked, or a save
   * that landed since, which goes back at once. */
  struct stat sb;
  if (fstatat(p->dirfd, p->tmp, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
    finish(p); /* removed by someone meanwhile: nothing to check */
    return FILE_WRITTEN;
  }
  if (!S_ISREG(sb.st_mode)) {
    /* A directory, FIFO or symlink took the target's place: put it back
     * (our file returns to tmp), never reading it. */
    if (renameat2(p->dirfd, p->tmp, p->dirfd, p->target, RENAME_EXCHANGE) ==
            0 &&
        fstatat(p->dirfd, p->tmp, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
        same_file(&sb, &p->sig))
      unlinkat(p->dirfd, p->tmp, 0);
    finish(p);
    return FILE_NOT_REGULAR;
  }
  struct file_sig was;
  sig_from_stat(&was, &sb);
  if (!known->text || !file_sig_equal(&was, &checked))
    return put_back(p, older);
  unlinkat(p->dirfd, p->tmp, 0);
  finish(p);
  return FILE_WRITTEN;
}

void file_swap_done(struct file_swap *swap) {
  free(swap->text);
  swap->text = NULL;
  swap->len = 0;
}

int file_write_atomic(const char *path, const struct file_root *root,
                      const char *data, size_t len, struct file_sig *sig) {
  struct file_pending p;
  int rc = file_write_prepare(path, root, data, len, &p);
  if (rc) return rc;
  if (sig) *sig = p.sig;
  struct file_swap older;
  rc = file_write_commit(&p, NULL, &older);
  file_swap_done(&older);
  return rc < 0 ? rc : 0;
}

/* mkdir -p of path's parent, with no confinement. */
static int make_parents_plain(const char *path) {
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

int file_make_parents(const char *path, const struct file_root *root) {
  if (!root || root->follow || root->ndirs == 0)
    return make_parents_plain(path);
  size_t top = 0;
  const char *dir = NULL;
  for (int i = 0; i < root->ndirs && !dir; i++) {
    size_t n = strlen(root->dirs[i]);
    if (strncmp(path, root->dirs[i], n) == 0 && path[n] == '/') {
      dir = root->dirs[i];
      top = n + 1;
    }
  }
  if (!dir) return 0; /* no directory of ours to create: the write tells */
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  /* One component at a time from the root's own descriptor, each checked
   * where it really is before anything is made inside it. */
  char sofar[PATH_MAX];
  for (size_t seg = top, end; path[seg]; seg = end + 1) {
    const char *slash = strchr(path + seg, '/');
    if (!slash) break;
    end = (size_t)(slash - path);
    size_t n = end - seg;
    char name[NAME_MAX + 1];
    if (n == 0) continue;
    if (n > NAME_MAX || end >= sizeof sofar) {
      close(fd);
      return -ENAMETOOLONG;
    }
    memcpy(name, path + seg, n);
    name[n] = '\0';
    memcpy(sofar, path, end);
    sofar[end] = '\0';
    if (mkdirat(fd, name, 0777) != 0 && errno != EEXIST) {
      int e = errno;
      close(fd);
      return -e;
    }
    int next = openat(fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    close(fd);
    if (next < 0) return -errno;
    int in = fd_inside(next, sofar, root);
    if (in != 1) {
      close(next);
      return in == 0 ? -EXDEV : in;
    }
    fd = next;
  }
  close(fd);
  return 0;
}
