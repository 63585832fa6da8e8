/* File I/O for the mirror: whole-file reads and atomic writes. Returns 0 or
 * a negative errno, like libuv. */
#ifndef MS_FILEIO_H
#define MS_FILEIO_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* What identifies one version of a file without reading it. */
struct file_sig {
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
};

int file_sig_equal(const struct file_sig *a, const struct file_sig *b);

/* Reads the whole file at path into a new buffer (*buf, NUL-terminated,
 * caller frees) of *len bytes, and its signature. -EFBIG if it is larger
 * than max; -EISDIR for a directory. */
int file_read(const char *path, size_t max, char **buf, size_t *len,
              struct file_sig *sig);

/* Signature of path (following symlinks). */
int file_stat(const char *path, struct file_sig *sig);

/* Replaces the file at path with data, atomically: a temporary file in the
 * same directory, written, fsync'ed and renamed over the target, so a
 * reader never sees a half-written file. A symlink is followed: its target
 * is replaced and the link stays. The target's mode (and owner, where
 * allowed) is kept; a new file gets 0666 less the umask. On success *sig
 * (may be NULL) is the new file's signature. On failure the old file is
 * untouched and the temporary file removed. */
int file_write_atomic(const char *path, const char *data, size_t len,
                      struct file_sig *sig);

/* Creates the directories leading to path (like mkdir -p of its parent). */
int file_make_parents(const char *path);

#endif
