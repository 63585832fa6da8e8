/* What the CLI subcommands and the MCP server share between their files
 * (commands.c, cmd_*.c, mcp*.c). Not a public interface: see commands.h
 * for that. */
#ifndef MS_COMMANDS_INT_H
#define MS_COMMANDS_INT_H

#include <limits.h>
#include <cJSON.h>

#include "discover.h"
#include "remote.h"

#define MAX_POS 64
#define HTTP_TIMEOUT_MS 30000

struct opts {
  const char *url, *token, *origin, *state_dir;
  int pretty, once, help, names, all, pages, follow;
  double timeout;  /* seconds; < 0: none */
  long limit;      /* history -n; 0: all */
  long long since; /* watch/errors --since; < 0: none */
  const char *pos[MAX_POS];
  int npos;
};

/* The server to talk to, and where that came from (for messages). */
struct ctx {
  struct opts o;
  struct remote_url u;
  struct target t; /* url, token, from, registry entry */
  int connected;   /* t and u are filled */
};

/* A subcommand; its options and synopsis are in usage.c's table. */
struct command {
  const char *name;
  int (*run)(struct ctx *c);
  int min_pos, max_pos;
  int needs_server; /* find the server before run */
};

/* --- helpers (commands.c) ------------------------------------------------ */

/* Finds the server for c from its options (once). Returns 0, or CMD_USAGE
 * after saying why. */
int cmd_connect(struct ctx *c);
/* The lines of a change's "desc" joined with sep, cut to fit outlen. */
void cmd_join_desc(const cJSON *desc, const char *sep, char *out,
                   size_t outlen);
/* Prints v as one JSON line, or indented with pretty. */
void cmd_print_json(const cJSON *v, int pretty);
/* The current wall-clock time as ISO 8601 with milliseconds. */
void cmd_now_iso(char *out, size_t outlen);
/* o[key] if it is a string, else NULL. Borrowed from o. */
const char *cmd_str_item(const cJSON *o, const char *key);
/* o[key] if it is a number, else dflt. */
double cmd_num_item(const cJSON *o, const char *key, double dflt);
/* Explains why the server at c could not be reached (rc: negative errno). */
void cmd_unreachable(const struct ctx *c, int rc);
/* path for a message: relative when it lies below the current directory,
 * else as it is. */
void cmd_display_path(const char *path, char *out, size_t outlen);
/* Percent-encodes s for a URL path or query, keeping '/'. */
void cmd_url_encode(const char *s, char *out, size_t outlen);
/* Parses a JSON argument ("-" reads stdin); NULL after saying where it
 * failed. Caller frees. */
cJSON *cmd_parse_arg(const char *what, const char *arg);
/* Non-zero if p is a well-formed JSON Pointer; else says why. */
int cmd_pointer_ok(const char *p);
/* Parses a version number (>= 1); -1 after saying why. */
long long cmd_version_arg(const char *s);
/* One HTTP request to the server. On CMD_OK, *json holds the parsed body
 * (NULL if not JSON; caller frees), *status the HTTP status and *version
 * the X-MirrorState-Version header (-1 if absent; version may be NULL).
 * Otherwise the exit code after saying why. */
int cmd_api(struct ctx *c, const char *method, const char *path,
            const cJSON *body, int *status, long long *version, cJSON **json);
/* Says what an HTTP error answer means; returns its exit code. */
int cmd_api_error(int status, const cJSON *j);
/* The API path of state name with suffix ("", "/history?limit=3"). */
void cmd_state_path(const char *name, const char *suffix, char *out,
                    size_t outlen);
/* The names of the server's states (a new array; caller frees). */
int cmd_state_names(struct ctx *c, cJSON **names);
/* name, or the server's only state's name when name is NULL. */
int cmd_resolve_name(struct ctx *c, const char *name, char *out, size_t outlen);
/* Logs "unknown state" with the server's states. */
void cmd_unknown_state(struct ctx *c, const char *name);

/* --- operations shared by the CLI and the MCP tools ----------------------
 * Each returns a CMD_* exit code after logging what went wrong. *out (a
 * new value the caller frees, or NULL) is its result. name NULL means the
 * server's only state. */

/* {"name", "version", "pointer"?, "value"} */
int op_get(struct ctx *c, const char *name, const char *ptr, cJSON **out);
/* The ack {"type":"ack","name","version"}. */
int op_set(struct ctx *c, const char *name, const char *ptr, const cJSON *value,
           cJSON **out);
int op_patch(struct ctx *c, const char *name, const cJSON *ops, cJSON **out);
/* {"name", "entries": [{"version","time","origin","ops","inverse"}]} */
int op_history(struct ctx *c, const char *name, long limit, cJSON **out);
/* {"reachable", "url", "from", ...}: set also when the server is down (exit
 * 3); CMD_FAILED with *out set when a state's file is invalid. */
int op_status(struct ctx *c, cJSON **out);
/* {"results": [synced answers]}: one per state (all of them when name is
 * NULL); CMD_FAILED with *out set when one is invalid or timed out. */
int op_sync(struct ctx *c, const char *name, int pages, double timeout,
            cJSON **out);
/* The ack with "undone"; CMD_FAILED with *out the conflict error. */
int op_undo(struct ctx *c, const char *name, const long long *versions, int n,
            cJSON **out);
/* The ack with "discarded". */
int op_reset(struct ctx *c, const char *name, long long version, cJSON **out);
/* {"errors": [page errors]} */
int op_errors(struct ctx *c, const char *name, long long since, cJSON **out);

/* --- subcommands ---------------------------------------------------------- */

int cmd_get(struct ctx *c); /* cmd_state.c */
int cmd_set(struct ctx *c);
int cmd_patch(struct ctx *c);
int cmd_revert(struct ctx *c);
int cmd_history(struct ctx *c);
int cmd_status(struct ctx *c); /* cmd_status.c */
int cmd_agent_md(struct ctx *c);
int cmd_sync(struct ctx *c); /* cmd_sync.c */
int cmd_undo(struct ctx *c);
int cmd_reset(struct ctx *c);
int cmd_errors(struct ctx *c);
int cmd_watch(struct ctx *c); /* cmd_watch.c */
int cmd_mcp(struct ctx *c);   /* mcp.c */

#endif
