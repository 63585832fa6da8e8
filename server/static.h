/* The app's files (--static DIR): which URL paths may be served, and the
 * open file for one. No HTTP here: the transport checks Host, Origin and
 * token first, then asks this module for the file.
 *
 * Never served: a path with a segment starting with '.' (the runtime file
 * in .mirrorstate/, temp files, .git, .env), before or after symlinks are
 * resolved; anything that resolves outside DIR; the mirrored files (each
 * --file, every *.json under a --dir), *.unsaved, the --log and
 * --token-file files, and the runtime file, also by another name (a hard
 * link: compared by inode); anything but a regular file. */
#ifndef MS_STATIC_H
#define MS_STATIC_H

#include "cli.h"

struct static_files;

/* Prepares serving cfg->static_dir. Returns 0 with *out set, or -1 after
 * logging why (the directory cannot be resolved, or no memory). */
int static_new(const struct config *cfg, struct static_files **out);
void static_free(struct static_files *s);

/* Opens the file a URL path names. path is the decoded, normalised path
 * the HTTP parser gives ("/app.js", "/" for index.html). Returns an open,
 * read-only descriptor of a regular file (the caller closes it) and its
 * MIME type in *mime (static string); -ENOENT for anything missing or not
 * to be served; -EISDIR for a directory named without its trailing slash
 * (redirect to path + "/"). */
int static_open(const struct static_files *s, const char *path,
                const char **mime);

/* The MIME type for a file name, by extension (static string). */
const char *static_mime(const char *name);

#endif
