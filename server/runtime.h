/* The runtime file: DIR/.mirrorstate/server.json, written by `serve` in
 * the directory of its first --file (or first --dir) so that the CLI,
 * started anywhere below that directory, finds the server without being
 * told its URL, port or token. */
#ifndef MS_RUNTIME_H
#define MS_RUNTIME_H

#include <stddef.h>
#include <cJSON.h>

struct config;
struct store;

#define RUNTIME_DIR ".mirrorstate"
#define RUNTIME_FILE "server.json"

/* Writes the runtime file for the server of cfg listening on port: {"url",
 * "pid", "session", "token" (when set), "states" (the names in store),
 * "started"}, mode 0600 in a 0700 directory, replaced atomically. Returns
 * 0, or a negative errno after logging a warning: serving goes on without
 * it. */
int runtime_write(const struct config *cfg, const char *session,
                  const struct store *store, int port);

/* The directory the runtime file of cfg goes in (an absolute path ending
 * in RUNTIME_DIR). Returns 0, or a negative errno. */
int runtime_dir(const struct config *cfg, char *out, size_t outlen);

/* Removes the runtime file (and its directory, when empty) if it still
 * names this process: a second server started in the same directory owns
 * the file it wrote. */
void runtime_remove(const struct config *cfg);

/* Looks for .mirrorstate/server.json in dir and each of its parents.
 * Only a file the current user owns, that is a regular file (not a
 * symlink) and not writable by group or others, in a .mirrorstate
 * directory of the same kind, counts: any other is skipped with a warning
 * saying why, since the file decides where the CLI sends its token.
 * Returns 0 with the file's path in out, or -ENOENT. */
int runtime_find(const char *dir, char *out, size_t outlen);

/* Reads a runtime file, checking on the opened file what runtime_find
 * checks, without blocking on a FIFO. Returns a new JSON object (caller
 * frees with cJSON_Delete), or NULL if it cannot be read, is not to be
 * trusted (with a warning) or is not an object. */
cJSON *runtime_read(const char *path);

struct stat;

/* Why a runtime or registry file (want_dir 0) or its directory (want_dir
 * 1) with status sb is not to be trusted, or NULL: it must be a regular
 * file (a directory), owned by the current user and not writable by group
 * or others. The reason is in buf or a static string. */
const char *runtime_untrusted(const struct stat *sb, int want_dir, char *buf,
                              size_t buflen);

#endif
