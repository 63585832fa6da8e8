/* File I/O for the mirror: whole-file reads and atomic writes. Returns 0 or
 * a negative errno, like libuv. */
#ifndef MS_FILEIO_H
#define MS_FILEIO_H

#include <limits.h>
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
 * caller frees) of *len bytes, and its signature (sig may be NULL). -EFBIG if
 * it is larger than max; -EISDIR for a directory. */
int file_read(const char *path, size_t max, char **buf, size_t *len,
              struct file_sig *sig);

/* Signature of path (following symlinks). */
int file_stat(const char *path, struct file_sig *sig);

/* A file an atomic write displaced that was not the one the caller
 * expected: an agent saved between the caller's last look and the write. */
struct file_swap {
  char *text; /* its bytes (NUL-terminated); freed by file_swap_done */
  size_t len;
  char kept[PATH_MAX + 40]; /* where it is now, beside the target */
  char target[PATH_MAX];
};

/* Replaces the file at path with data, atomically: a temporary file in the
 * same directory, written, fsync'ed and swapped with the target in one
 * rename, so a reader never sees a half-written file. A symlink is
 * followed: its target is replaced and the link stays. The target's mode
 * (and owner, where allowed) is kept; a new file gets 0666 less the umask.
 * On success *sig (may be NULL) is the new file's signature.
 *
 * known is what the caller believes the file holds (NULL, or known->text
 * NULL: no file). Returns 0 if so (or if swap is NULL); returns 1 if the
 * file replaced held something else, which is then kept and described in
 * *swap, for the caller to merge (then file_swap_done) or put back
 * (file_swap_restore). On failure returns a negative errno: the old file is
 * untouched and the temporary file removed. */
struct file_known {
  const char *text; /* the bytes; NULL: no file */
  size_t len;
  const struct file_sig *sig; /* their signature, or NULL */
};
int file_write_atomic(const char *path, const char *data, size_t len,
                      struct file_sig *sig, const struct file_known *known,
                      struct file_swap *swap);

/* Puts a displaced file back over its target (the write is undone). */
int file_swap_restore(struct file_swap *swap);

/* Removes a displaced file and frees its bytes. */
void file_swap_done(struct file_swap *swap);

/* Creates the directories leading to path (like mkdir -p of its parent). */
int file_make_parents(const char *path);

#endif
