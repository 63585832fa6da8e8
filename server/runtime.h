/* The runtime file: DIR/.mirrorstate/server.json, written by `serve` in
 * the directory of its first --file (or first --dir) so that the CLI,
 * started anywhere below that directory, finds the server without being
 * told its URL, port or token. */
#ifndef MS_RUNTIME_H
#define MS_RUNTIME_H

#include <stddef.h>
#include <cJSON.h>

struct hub;
struct config;

#define RUNTIME_DIR ".mirrorstate"
#define RUNTIME_FILE "server.json"

/* Writes the runtime file for a server listening on port: {"url", "pid",
 * "session", "token" (when set), "states", "started"}, mode 0600 in a 0700
 * directory, replaced atomically. Returns 0, or a negative errno after
 * logging a warning: serving goes on without it. */
int runtime_write(const struct hub *h, int port);

/* The directory the runtime file of cfg goes in (an absolute path ending
 * in RUNTIME_DIR). Returns 0, or a negative errno. */
int runtime_dir(const struct config *cfg, char *out, size_t outlen);

/* Removes the runtime file (and its directory, when empty) if it still
 * names this process: a second server started in the same directory owns
 * the file it wrote. */
void runtime_remove(const struct hub *h);

/* Looks for .mirrorstate/server.json in dir and each of its parents.
 * Returns 0 with the file's path in out, or -ENOENT. */
int runtime_find(const char *dir, char *out, size_t outlen);

/* Reads a runtime file. Returns a new JSON object (caller frees with
 * cJSON_Delete), or NULL if it cannot be read or is not an object. */
cJSON *runtime_read(const char *path);

#endif
