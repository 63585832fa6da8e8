/* A server's claim on what it mirrors, so that two servers never mirror
 * the same file (each would write over the other's changes) and only one
 * owns a directory's runtime file.
 *
 * A claim is an flock(2)ed lock file in the .mirrorstate directory beside
 * what it guards: NAME.lock for a --file NAME (the file's real path, after
 * symlinks), dir.lock for a --dir, server.lock for the runtime file. The
 * kernel drops the lock when its holder dies, however it dies, so a stale
 * lock file never blocks anyone. The file holds {"pid", "url"} to tell a
 * refused server who holds it. */
#ifndef MS_CLAIM_H
#define MS_CLAIM_H

#include "cli.h"

struct claims;

/* Checks first that cfg names no file twice: a --file given twice (or
 * two paths of one file, through links), a --dir given twice or inside
 * another --dir, a --file that a --dir mirrors already; each would make
 * one file two states. Then claims every --file and --dir of cfg, and
 * checks that no running --dir server above them mirrors them already,
 * and that no --file server mirrors a file right in one of the --dirs (a
 * deeper one is not looked for: that would take a scan of the tree).
 * Returns 0 with *out set; 2 (overlapping arguments) or 1 (another
 * server's) after logging which, the exit status. A place that cannot
 * hold a lock file (a read-only directory, one that does not exist yet) is
 * skipped: the mirror reports what is wrong with it. */
int claims_take(const struct config *cfg, struct claims **out);

/* Claims the runtime file in dir (see runtime.h). Returns 1 if this server
 * now owns it, 0 if another live server does (after saying so). */
int claims_runtime(struct claims *c, const char *dir);

/* Writes this server's URL into every lock file it holds. */
void claims_note(struct claims *c, const char *url);

/* Releases every claim (unlinking the lock files, and each .mirrorstate
 * directory that is left empty) and frees c. NULL is fine. */
void claims_release(struct claims *c);

#endif
