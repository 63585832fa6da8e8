/* Which running server a CLI command (or the MCP server) talks to: --url,
 * else MIRRORSTATE_URL, else the server that belongs to the current
 * directory (or --state-dir DIR), else http://127.0.0.1:7420.
 *
 * A server belongs to a directory when its mirrored files (or --dir) lie
 * in it or below, when it was started in it or above it, or when its
 * runtime file (.mirrorstate/server.json) lies in it or above it. The
 * running servers come from the user's registry (registry.h), the runtime
 * file from the walk up the tree (runtime.h). The nearest one wins; with
 * several, a notice on stderr says which was picked and how to choose. */
#ifndef MS_DISCOVER_H
#define MS_DISCOVER_H

#include <limits.h>
#include <stddef.h>
#include <cJSON.h>

#define DISCOVER_DEFAULT_URL "http://127.0.0.1:7420"

struct discover_opts {
  const char *url;       /* --url, or NULL */
  const char *token;     /* --token, or NULL */
  const char *state_dir; /* --state-dir, or NULL for the current directory */
  int quiet;             /* no notice when several servers qualify */
};

struct target {
  char url[1024];
  char token[1024];
  char from[PATH_MAX + 128]; /* how it was found, for messages */
  int found;                 /* by --url, the environment or a search */
  cJSON *entry; /* its registry entry when known (owned), or NULL */
};

/* Fills t (zeroed first; free with target_free). Returns 0, or -1 after
 * saying why (a --state-dir that is not a directory). */
int discover(const struct discover_opts *o, struct target *t);

void target_free(struct target *t);

/* The running server whose session is session, from the registry: a new
 * object (caller frees) or NULL. */
cJSON *discover_entry_by_session(const char *session);

/* The token for the server of a registry entry: the one in its runtime
 * file when that file is the same server's, else the first line of its
 * --token-file when readable. "" when neither. */
void discover_entry_token(const cJSON *entry, char *out, size_t outlen);

/* path relative to the directory base ("app/state.json", "../x.json",
 * "."), both absolute. */
void discover_relative(const char *path, const char *base, char *out,
                       size_t outlen);

#endif
