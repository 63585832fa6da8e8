/* File I/O for the mirror: whole-file reads and atomic writes, confined to
 * the mirrored roots. Returns 0 or a negative errno, like libuv, and these
 * of its own:
 *   -EISDIR  the file is a directory;
 *   -ENODEV  the file is not a regular file (a FIFO, socket or device):
 *            it is never opened for reading, so nothing blocks;
 *   -EXDEV   the path leads outside its root through a symbolic link. */
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

/* Where a state's files may be: every file read, written or created for
 * it must resolve, through every symbolic link, to a path inside one of
 * dirs. The strings are borrowed. */
struct file_root {
  const char *dirs[2]; /* real paths, no trailing '/' */
  int ndirs;
  int follow; /* --follow-symlinks: links may lead out */
};

/* Non-zero if real (an absolute path without symlinks) is one of root's
 * dirs or lies below one. A root without dirs contains everything. */
int file_root_contains(const struct file_root *root, const char *real);

/* The path a write to path replaces: the final target of the symlink at
 * path (followed link by link, whether it exists or not), or path itself.
 * Returns 0, -ELOOP or -ENAMETOOLONG. */
int file_link_target(const char *path, char *out, size_t outlen);

/* Whether path, once every symbolic link on the way is followed (also the
 * final one, and into directories that do not exist yet), stays inside
 * root: 1 if so or if root is NULL or follows links, 0 if not, or a
 * negative errno. For a check before use; file_read, file_write_atomic and
 * file_make_parents check again what they really open. */
int file_leads_inside(const struct file_root *root, const char *path);

/* A whole file's bytes. */
struct file_text {
  char *buf; /* NUL-terminated; caller frees */
  size_t len;
  struct file_sig sig;
  int outside; /* it lies outside the root (only with root->follow) */
  int link;    /* path is a symbolic link (set even when reading fails) */
};

/* Reads the whole regular file at path into out. Never blocks on a FIFO
 * and never opens a device: the file's type is checked before it is
 * opened for reading, and the file read is the one checked. root may be
 * NULL (no confinement). -EFBIG if it is larger than max; -EAGAIN if it
 * was swapped while being opened. */
int file_read(const char *path, const struct file_root *root, size_t max,
              struct file_text *out);

/* What path is when it is not a regular file ("a FIFO (named pipe)", "a
 * socket", "a character device", ...), following symlinks; "not a regular
 * file" if it cannot tell. Static string. */
const char *file_kind(const char *path);

/* Signature of path (following symlinks). */
int file_stat(const char *path, struct file_sig *sig);

/* A file an atomic write displaced that was not the one the caller
 * expected: an agent saved between the caller's last look and the write. */
struct file_swap {
  char *text; /* its bytes (NUL-terminated); freed by file_swap_done */
  size_t len;
  int dirfd;               /* the directory both names are in; closed by done */
  char kept[NAME_MAX + 1]; /* its name now, beside the target */
  char target[NAME_MAX + 1];
};

/* Replaces the file at path with data, atomically: a temporary file in the
 * same directory, written, fsync'ed and swapped with the target in one
 * rename, so a reader never sees a half-written file. A symlink is
 * followed: its target is replaced and the link stays. The target's mode
 * (and owner, where allowed) is kept; a new file gets 0666 less the umask.
 * With root (may be NULL), the directory written into must lie inside it
 * (-EXDEV otherwise; checked on the opened directory, so a link swapped
 * in meanwhile does not lead the write out). On success *sig (may be NULL)
 * is the new file's signature.
 *
 * known is what the caller believes the file holds (NULL, or known->text
 * NULL: no file). Returns 0 if so (or if swap is NULL); returns 1 if the
 * file replaced held something else, which is then kept and described in
 * *swap, for the caller to merge (then file_swap_done) or put back
 * (file_swap_restore); returns 2 if what was replaced is not a regular
 * file (a FIFO or directory appeared meanwhile): it was put back and
 * nothing was written. A target that is not a regular file before the
 * write gives -EISDIR or -ENODEV. On failure returns a negative errno: the
 * old file is untouched and the temporary file removed. */
struct file_known {
  const char *text; /* the bytes; NULL: no file */
  size_t len;
  const struct file_sig *sig; /* their signature, or NULL */
};
int file_write_atomic(const char *path, const struct file_root *root,
                      const char *data, size_t len, struct file_sig *sig,
                      const struct file_known *known, struct file_swap *swap);

/* Puts a displaced file back over its target (the write is undone). */
int file_swap_restore(struct file_swap *swap);

/* Removes a displaced file and frees its bytes. */
void file_swap_done(struct file_swap *swap);

/* Creates the directories leading to path (like mkdir -p of its parent).
 * With root (may be NULL), only directories below one of root's dirs are
 * created, one at a time from that directory, and each must stay inside
 * it (-EXDEV otherwise): a symlinked directory never leads the creation
 * out. */
int file_make_parents(const char *path, const struct file_root *root);

#endif
