/* The command line's one description: every command and option, with its
 * help. `--help`, the man page, the shell completions, the `serve` option
 * parser and the "did you mean" suggestions are all made from these
 * tables, so none of them can drift from the others. */
#ifndef MS_USAGE_H
#define MS_USAGE_H

#include <stdio.h>

/* Where an option is accepted. */
enum usage_scope {
  USAGE_TOP = 1,      /* before any command: --help, --version */
  USAGE_SERVE = 2,    /* serve */
  USAGE_REMOTE = 4,   /* every command that talks to a running server */
  USAGE_WATCH = 8,    /* watch */
  USAGE_HISTORY = 16, /* history */
  USAGE_STATUS = 32,  /* status */
  USAGE_SYNC = 64,    /* sync */
  USAGE_ERRORS = 128  /* errors */
};

/* The getopt values of serve's options that have no short form. */
enum usage_id {
  OPT_FILE = 256,
  OPT_DIR,
  OPT_PORT,
  OPT_HOST,
  OPT_ALLOW_HOST,
  OPT_ALLOW_ORIGIN,
  OPT_TOKEN,
  OPT_TOKEN_FILE,
  OPT_STATIC,
  OPT_OPEN,
  OPT_WRITE_DELAY,
  OPT_SETTLE,
  OPT_MAX_MESSAGE,
  OPT_MAX_PENDING,
  OPT_MAX_STATE,
  OPT_MAX_CLIENTS,
  OPT_HISTORY,
  OPT_LOG,
  OPT_MAX_STATES,
  OPT_FOLLOW_SYMLINKS,
  OPT_MAX_OPS,
  OPT_HISTORY_BYTES,
  OPT_VERSION,
  OPT_URL,
  OPT_PRETTY,
  OPT_ORIGIN,
  OPT_ONCE,
  OPT_SINCE,
  OPT_TIMEOUT,
  OPT_LIMIT,
  OPT_NAMES,
  OPT_HELP,
  OPT_STATE_DIR,
  OPT_ALL,
  OPT_PAGES,
  OPT_FOLLOW,
};

/* What an option's value is, for completion. */
enum usage_value { VAL_NONE, VAL_WORD, VAL_FILE, VAL_DIR };

struct usage_option {
  const char *name; /* the long name, without "--" */
  char short_name;  /* or 0 */
  const char *arg;  /* its value's placeholder; NULL for a flag */
  unsigned scope;   /* enum usage_scope bits */
  int id;           /* enum usage_id, or the short name */
  enum usage_value value;
  const char *dflt; /* the default, for people; NULL if none */
  const char *help; /* one or two sentences, no trailing period */
};

struct usage_command {
  const char *name;
  const char *args;    /* what follows the name in a synopsis */
  const char *summary; /* one line */
  unsigned scope;      /* the options it takes (enum usage_scope bits) */
  int names_state;     /* its first argument is a state's NAME */
};

/* Both end with an entry whose name is NULL. */
extern const struct usage_option usage_options[];
extern const struct usage_command usage_commands[];

/* The command called name, or NULL. */
const struct usage_command *usage_find_command(const char *name);

/* The option that arg ("--name", "--name=value" or "-x") spells in one of
 * the scopes, or NULL. */
const struct usage_option *usage_find_option(const char *arg, unsigned scope);

/* Logs "unknown command" with the closest command, if one is close. */
void usage_unknown_command(const char *name);

/* Logs "unknown option ARG for WHAT" (WHAT a command, or NULL before
 * one), with the closest option of scope, or the command it belongs to if
 * it is another command's option. */
void usage_unknown_option(const char *arg, unsigned scope, const char *what);

/* The edit distance between a and b (insertions, deletions, substitutions
 * and swaps of neighbours count one each), capped at 100. */
int usage_distance(const char *a, const char *b);

/* Prints the top-level help, or one command's. */
void usage_print_help(FILE *f);
void usage_print_command_help(FILE *f, const struct usage_command *c);

/* Prints the man page in roff (man macros). */
void usage_print_man(FILE *f, const char *version);

/* Prints the completion script for shell ("bash", "zsh" or "fish").
 * Returns 0, or -1 for another shell. */
int usage_print_completion(FILE *f, const char *shell);

#endif
