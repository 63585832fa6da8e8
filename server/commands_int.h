/* What the CLI subcommands share between their files (commands.c and
 * cmd_watch.c). Not a public interface: see commands.h for that. */
#ifndef MS_COMMANDS_INT_H
#define MS_COMMANDS_INT_H

#include <limits.h>
#include <cJSON.h>

#include "remote.h"

#define MAX_POS 4

struct opts {
  const char *url, *token, *origin;
  int pretty, once, help, names;
  double timeout;  /* seconds; < 0: none */
  long limit;      /* history -n; 0: all */
  long long since; /* watch --since; < 0: none */
  const char *pos[MAX_POS];
  int npos;
};

/* The server to talk to, and where that came from (for messages). */
struct ctx {
  struct opts o;
  struct remote_url u;
  char url[1024];
  char token[1024];
  char from[PATH_MAX + 128];
};

/* A subcommand; its options and synopsis are in usage.c's table. */
struct command {
  const char *name;
  int (*run)(struct ctx *c);
  int min_pos, max_pos;
};

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

/* mirrorstate watch (cmd_watch.c). */
int cmd_watch(struct ctx *c);

#endif
