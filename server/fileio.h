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
  int opened;  /* a descriptor was opened on it for reading (which the
                  directory's inotify watch reports as IN_CLOSE_NOWRITE) */
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

/* What the caller believes the target holds, for file_write_commit. */
struct file_known {
  const char *text; /* the bytes; NULL: no file */
  size_t len;
  const struct file_sig *sig; /* their signature, or NULL */
  int exact; /* sig is a file_pending's exact one: equal means unchanged */
};

/* A save that a write displaced and could not leave in place (see
 * file_write_commit): its bytes, for the caller to merge. */
struct file_swap {
  char *text; /* NUL-terminated, or NULL; freed by file_swap_done */
  size_t len;
};
void file_swap_done(struct file_swap *swap);

/* A write in two steps, so that the caller's last look at the target and
 * the swap that replaces it come back to back, with the slow part (writing
 * and fsync'ing the data) done before both. */
struct file_pending {
  int dirfd; /* the directory both names are in */
  char tmp[NAME_MAX + 1];
  char target[NAME_MAX + 1];
  struct file_sig sig; /* the temporary file's, the target's once in place */
  int exact; /* sig changes with any later write (see file_write_prepare) */
  int reads; /* file_write_commit's reads of what the swap displaced
               (by the temporary name: a directory watch reports
               them under that name) */
  int target_reads; /* and of the target, by its name */
};

/* Step one: writes data to a temporary file in the directory of path's
 * target and fsyncs it. Its mtime is then moved on by a nanosecond, to a
 * time the kernel's clock did not give it: a later write, even within the
 * same tick of that coarse clock, changes the signature (p->exact says
 * whether the file system kept the nanosecond). A symlink at path is followed:
 * its target is what will be replaced, and the link stays. The target's mode
 * (and owner, where allowed) is copied; a new file gets 0666 less the umask.
 * With root (may be NULL), the directory must lie inside it (-EXDEV otherwise;
 * checked on the opened directory, so a link swapped in meanwhile does not
 * lead the write out). A target that is not a regular file gives -EISDIR
 * or -ENODEV. Returns 0 with *p filled, or a negative errno with nothing
 * left behind. */
int file_write_prepare(const char *path, const struct file_root *root,
                       const char *data, size_t len, struct file_pending *p);

enum file_commit {
  FILE_WRITTEN = 0,     /* in place; what it replaced was known */
  FILE_PUT_BACK = 1,    /* a save had taken the target's place since the
                           caller's last look: it was put back at once and
                           nothing was written; *older may hold a second
                           save displaced meanwhile, to merge first */
  FILE_NOT_REGULAR = 2, /* a directory, FIFO or link had taken the
                           target's place: put back, nothing written */
  FILE_DISPLACED = 3,   /* in place, but the save it displaced could not be
                           put back: *older holds it, to merge and write */
  FILE_CHANGED = 4,     /* the target is not the known file (checked right
                           before the swap): nothing was written */
};

/* Step two: swaps the temporary file in with one rename, so a reader never
 * sees a half-written file. known is what the caller believes the target
 * holds: its signature is compared with the target's right before the
 * swap. The target is exchanged (renameat2 RENAME_EXCHANGE) rather than
 * unlinked, and what it held is checked at once: anything but the known
 * file is swapped back before anything else happens, so a save made
 * between the check and the swap leaves the file for no longer than two
 * renames. Where the file system
 * cannot exchange, a plain rename replaces the target unchecked. Returns
 * an enum file_commit, or a negative errno (the temporary file is then
 * removed and the target untouched). *p is finished either way. */
int file_write_commit(struct file_pending *p, const struct file_known *known,
                      struct file_swap *older);

/* Gives up a prepared write: the temporary file is removed. */
void file_write_abort(struct file_pending *p);

/* Both steps at once, without a check of what is replaced (for files only
 * the server writes, such as NAME.json.unsaved). On success *sig (may be
 * NULL) is the new file's signature. */
int file_write_atomic(const char *path, const struct file_root *root,
                      const char *data, size_t len, struct file_sig *sig);

/* Creates the directories leading to path (like mkdir -p of its parent).
 * With root (may be NULL), only directories below one of root's dirs are
 * created, one at a time from that directory, and each must stay inside
 * it (-EXDEV otherwise): a symlinked directory never leads the creation
 * out. */
int file_make_parents(const char *path, const struct file_root *root);

#endif
