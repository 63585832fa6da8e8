/* Command line: the serve configuration and the subcommand to run. */
#ifndef MS_CLI_H
#define MS_CLI_H

#include <stddef.h>
#include <stdint.h>

#define CLI_MAX_LIST 64

struct config {
  const char *files[CLI_MAX_LIST]; /* --file, as given */
  int nfiles;
  const char *dirs[CLI_MAX_LIST]; /* --dir */
  int ndirs;
  const char *hosts[CLI_MAX_LIST]; /* --host: addresses to bind */
  int nhosts;
  const char *allow_hosts[CLI_MAX_LIST]; /* --allow-host */
  int nallow_hosts;
  const char *allow_origins[CLI_MAX_LIST]; /* --allow-origin */
  int nallow_origins;
  int port;               /* --port, 0 picks a free one */
  const char *static_dir; /* --static */
  int open;               /* --open: open a browser once listening */
  const char *token;      /* --token / --token-file / MIRRORSTATE_TOKEN */
  const char *token_file; /* --token-file, never served by --static */
  const char *log_file;   /* --log: JSON-lines event log */
  int write_delay_ms;     /* --write-delay */
  int settle_ms;          /* --settle */
  size_t max_message;     /* --max-message */
  size_t max_pending;     /* --max-pending: unsent output per client */
  size_t max_state;       /* --max-state: bytes of one state's file, and
                             of the state in memory */
  int max_ops;            /* --max-ops: operations in one patch message */
  int max_clients;        /* --max-clients */
  int history;            /* --history: versions kept per state */
  int max_states;         /* --max-states: states at once */
  int follow_symlinks;    /* --follow-symlinks: links may lead out */
  size_t history_bytes;   /* --history-bytes: memory of all history */
  int verbose;            /* -v: 1, -q: -1 */
};

/* Parses `serve` options (argv after the subcommand) into cfg, which is
 * first filled with defaults. Strings point into argv (or a static buffer
 * for --token-file). Returns 0, or 2 after printing a usage error. Its
 * options are those of usage.h's table for USAGE_SERVE. */
int cli_parse_serve(int argc, char **argv, struct config *cfg);

#endif
