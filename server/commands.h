/* The CLI subcommands that talk to a running server: get, set, patch,
 * watch, history, revert, status, and agent-md (the agent guide). Their
 * options and exit codes are documented in docs/cli.md. */
#ifndef MS_COMMANDS_H
#define MS_COMMANDS_H

/* Exit codes shared by every subcommand. */
enum {
  CMD_OK = 0,
  CMD_FAILED = 1,      /* not found, conflict, timeout */
  CMD_USAGE = 2,       /* bad arguments, invalid JSON given */
  CMD_UNREACHABLE = 3, /* no server answered, or it refused us */
};

/* Non-zero if name is one of these subcommands. */
int commands_exists(const char *name);

/* Runs the subcommand argv[0] with its arguments; argv[0] must satisfy
 * commands_exists. Writes results to stdout, messages to stderr. Returns
 * the process exit status. */
int commands_run(int argc, char **argv);

#endif
