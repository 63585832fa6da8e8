/* Fault-injection shim, loaded with LD_PRELOAD: while the control file
 * exists, calls on files whose path contains a pattern fail with a chosen
 * errno. Lets the tests fill the disk (ENOSPC), break it (EIO) or make a
 * file unreadable even for root (EACCES), and give it back, without
 * touching a real device.
 *
 *   FAILWRITE_MATCH    substring of the path to fail (required)
 *   FAILWRITE_CONTROL  path of the control file: faults only while it exists
 *                      (required)
 *   FAILWRITE_ERRNO    ENOSPC (default), EIO, EACCES, EROFS or a number
 *   FAILWRITE_CALLS    comma list of write,fsync,rename,open (default
 *                      write,fsync,rename)
 *
 *   FAILWRITE_MOVE_FROM, FAILWRITE_MOVE_TO
 *                      instead of failing, move FROM over TO (once: while
 *                      FROM exists) and let the call go on: something
 *                      appears at TO at that exact point, e.g. a FIFO in
 *                      a file's place between the server's fsync and its
 *                      rename
 *
 * For write() and fsync() the path is the descriptor's, read from
 * /proc/self/fd; for rename() and renameat2() either path may match; open() matches its
 * path argument. Each injected fault adds a line to FAILWRITE_COUNT, a
 * file, if set. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int in_shim; /* the shim's own calls are never faulted */

static int wanted(const char *call) {
  const char *calls = getenv("FAILWRITE_CALLS");
  if (!calls) calls = "write,fsync,rename";
  size_t n = strlen(call);
  for (const char *p = calls; (p = strstr(p, call)); p += n)
    if ((p == calls || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
      return 1;
  return 0;
}

static int fault_errno(void) {
  const char *e = getenv("FAILWRITE_ERRNO");
  if (!e || !strcmp(e, "ENOSPC")) return ENOSPC;
  if (!strcmp(e, "EIO")) return EIO;
  if (!strcmp(e, "EACCES")) return EACCES;
  if (!strcmp(e, "EROFS")) return EROFS;
  return atoi(e) > 0 ? atoi(e) : ENOSPC;
}

static void count(const char *call, const char *path) {
  const char *file = getenv("FAILWRITE_COUNT");
  if (!file) return;
  int fd = (int)syscall(SYS_openat, AT_FDCWD, file,
                        O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char line[4200];
  int n = snprintf(line, sizeof line, "%s %s\n", call, path);
  if (n > 0) syscall(SYS_write, fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  close(fd);
}

/* Non-zero if a call on path should fail now. */
static int should_fail(const char *call, const char *path) {
  if (in_shim || !path) return 0;
  const char *match = getenv("FAILWRITE_MATCH");
  const char *control = getenv("FAILWRITE_CONTROL");
  if (!match || !control || !*match || !wanted(call)) return 0;
  if (!strstr(path, match)) return 0;
  in_shim = 1;
  struct stat sb;
  int on = stat(control, &sb) == 0;
  const char *from = getenv("FAILWRITE_MOVE_FROM");
  const char *to = getenv("FAILWRITE_MOVE_TO");
  if (on && from && to) {
    /* A directory cannot be renamed over a file: the file goes first. */
    if (lstat(from, &sb) == 0 && rename(from, to) != 0 &&
        (errno == ENOTDIR || errno == EISDIR) && unlink(to) == 0)
      rename(from, to);
    on = 0;
  }
  in_shim = 0;
  if (on) count(call, path);
  return on;
}

static int fd_fails(const char *call, int fd) {
  if (in_shim || fd < 0 || !getenv("FAILWRITE_MATCH")) return 0;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  in_shim = 1;
  ssize_t n = readlink(link, path, sizeof path - 1);
  in_shim = 0;
  if (n <= 0) return 0;
  path[n] = '\0';
  return should_fail(call, path);
}

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*fd_fn)(int);
typedef int (*rename_fn)(const char *, const char *);
typedef int (*renameat2_fn)(int, const char *, int, const char *, unsigned);
typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

#define REAL(name, type)                                                  \
  static type real_##name;                                                \
  if (!real_##name) real_##name = (type)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t n) {
  REAL(write, write_fn);
  if (fd > 2 && fd_fails("write", fd)) {
    errno = fault_errno();
    return -1;
  }
  return real_write(fd, buf, n);
}

int fsync(int fd) {
  REAL(fsync, fd_fn);
  if (fd_fails("fsync", fd)) {
    errno = fault_errno();
    return -1;
  }
  return real_fsync(fd);
}

int fdatasync(int fd) {
  REAL(fdatasync, fd_fn);
  if (fd_fails("fsync", fd)) {
    errno = fault_errno();
    return -1;
  }
  return real_fdatasync(fd);
}

int rename(const char *from, const char *to) {
  REAL(rename, rename_fn);
  if (should_fail("rename", from) || should_fail("rename", to)) {
    errno = fault_errno();
    return -1;
  }
  return real_rename(from, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to,
              unsigned flags) {
  REAL(renameat2, renameat2_fn);
  if (should_fail("rename", from) || should_fail("rename", to)) {
    errno = fault_errno();
    return -1;
  }
  return real_renameat2(fromfd, from, tofd, to, flags);
}

static int open_common(const char *path) {
  return should_fail("open", path);
}

int open(const char *path, int flags, ...) {
  REAL(open, open_fn);
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  if (open_common(path)) {
    errno = fault_errno();
    return -1;
  }
  return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
  REAL(open64, open_fn);
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  if (open_common(path)) {
    errno = fault_errno();
    return -1;
  }
  return real_open64(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
  REAL(openat, openat_fn);
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  if (open_common(path)) {
    errno = fault_errno();
    return -1;
  }
  return real_openat(dirfd, path, flags, mode);
}
