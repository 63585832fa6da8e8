/* The per-user registry of running servers: one file per server in
 * $XDG_RUNTIME_DIR/mirrorstate/ (or /tmp/mirrorstate-UID/ when
 * XDG_RUNTIME_DIR is unset or unusable), mode 0600 in a 0700 directory.
 * It lets the CLI find a server from the directory it was started in or
 * from where its files are, wherever its runtime file lies, and lets
 * `status --all` list every server of the user.
 *
 * A server's file is PID-SESSION.json, a name no other server ever uses,
 * so no server can remove another's. The server holds an flock(2) on it
 * for as long as it runs: the kernel drops the lock however the server
 * dies, so a reader tells a live entry from a stale one without trusting
 * the pid, and removes the stale ones. The same trust rule as for the
 * runtime file applies: only files the user owns that nobody else can
 * write, in a directory of the same kind, are read. */
#ifndef MS_REGISTRY_H
#define MS_REGISTRY_H

#include <stddef.h>
#include <cJSON.h>

struct config;

#define REGISTRY_SUBDIR "mirrorstate"

/* The registry directory. With create, it is made (0700) if missing, and
 * made private if it is the user's own with a looser mode. Returns 0 with
 * the path in out, -ENOENT when it does not exist (without create), or
 * another negative errno after a warning when it is not the user's own
 * private directory (then it is not used). */
int registry_dir(char *out, size_t outlen, int create);

/* Server side: the entry of a running server, locked while it runs. */
struct registry_entry;

/* Writes the entry of the server of cfg: {"pid", "session", "url",
 * "server", "start_dir", "files", "dirs", "runtime"?, "token_required",
 * "token_file"?, "log"?, "started"}, all paths absolute. session is this
 * server run's id, runtime the runtime file it owns, or NULL. Returns the
 * entry (freed by registry_remove), or NULL after a warning: serving goes
 * on without. */
struct registry_entry *registry_add(const struct config *cfg,
                                    const char *session, const char *url,
                                    const char *runtime);

/* Removes the entry's file, releases its lock and frees e. NULL is fine. */
void registry_remove(struct registry_entry *e);

/* Reader side: the entries of the running servers as a new array (caller
 * frees), oldest first, each with "entry" (its file's path) added. Entries
 * of servers that are gone are removed; files that are not to be trusted
 * are skipped with a warning. An empty array when there is no registry. */
cJSON *registry_list(void);

#endif
