/* mirrorstate: keeps a browser app's state and a JSON file identical. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "log.h"
#include "server.h"
#include "usage.h"

/* Where the command is in argv, after any options placed before it, or
 * -1 after printing why there is none; *exit_code says how to exit then
 * (0 after --help or --version). */
static int find_command(int argc, char **argv, int *exit_code) {
  int i = 1;
  while (i < argc && argv[i][0] == '-' && argv[i][1]) {
    const struct usage_option *o = usage_find_option(argv[i], ~0u);
    if (!o) {
      usage_unknown_option(argv[i], ~0u, NULL);
      *exit_code = 2;
      return -1;
    }
    if (o->id == OPT_HELP || o->id == OPT_VERSION) {
      if (o->id == OPT_HELP)
        usage_print_help(stdout);
      else
        printf("mirrorstate %s\n", MS_VERSION);
      *exit_code = 0;
      return -1;
    }
    if (o->arg && !strchr(argv[i], '=')) i++; /* its value */
    i++;
  }
  if (i < argc) return i;
  if (argc < 2) {
    usage_print_help(stderr);
  } else {
    log_error("no command given after the options (see mirrorstate --help)");
  }
  *exit_code = 2;
  return -1;
}

static int help(int argc, char **argv) {
  if (argc < 2) {
    usage_print_help(stdout);
    return 0;
  }
  const struct usage_command *c = usage_find_command(argv[1]);
  if (!c) {
    usage_unknown_command(argv[1]);
    return 2;
  }
  usage_print_command_help(stdout, c);
  return 0;
}

static int completion(int argc, char **argv) {
  if (argc == 2 && usage_print_completion(stdout, argv[1]) == 0) return 0;
  if (argc == 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")) {
    log_error("no completion for the shell '%s': bash, zsh or fish", argv[1]);
    return 2;
  }
  fputs("usage: mirrorstate completion bash|zsh|fish\n"
        "  bash: source <(mirrorstate completion bash)\n"
        "  zsh:  mirrorstate completion zsh > \"${fpath[1]}/_mirrorstate\"\n"
        "  fish: mirrorstate completion fish > "
        "~/.config/fish/completions/mirrorstate.fish\n",
        argc == 2 ? stdout : stderr);
  return argc == 2 ? 0 : 2;
}

int main(int argc, char **argv) {
  int code = 0;
  int at = find_command(argc, argv, &code);
  if (at < 0) return code;
  /* Options given before the command go right after it, so
   * `mirrorstate --url U status` is `mirrorstate status --url U`. */
  char **args = malloc(sizeof *args * (size_t)(argc + 1));
  if (!args) return 1;
  int n = 0;
  args[n++] = argv[at];
  for (int i = 1; i < at; i++)
    args[n++] = argv[i];
  for (int i = at + 1; i < argc; i++)
    args[n++] = argv[i];
  args[n] = NULL;
  const char *cmd = args[0];
  int rc;
  if (strcmp(cmd, "serve") == 0) {
    struct config cfg;
    rc = cli_parse_serve(n, args, &cfg);
    if (!rc) {
      if (cfg.verbose > 0) log_set_level(MS_LOG_DEBUG);
      if (cfg.verbose < 0) log_set_level(MS_LOG_WARN);
      rc = server_run(&cfg);
    }
  } else if (commands_exists(cmd)) {
    rc = commands_run(n, args);
  } else if (strcmp(cmd, "help") == 0) {
    rc = help(n, args);
  } else if (strcmp(cmd, "version") == 0) {
    printf("mirrorstate %s\n", MS_VERSION);
    rc = 0;
  } else if (strcmp(cmd, "completion") == 0) {
    rc = completion(n, args);
  } else if (strcmp(cmd, "manpage") == 0) {
    usage_print_man(stdout, MS_VERSION);
    rc = 0;
  } else {
    usage_unknown_command(cmd);
    rc = 2;
  }
  free(args);
  return rc;
}
