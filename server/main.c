/* mirrorstate: keeps a browser app's state and a JSON file identical. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "log.h"
#include "server.h"

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    cli_print_help();
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("mirrorstate %s\n", MS_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "serve") == 0) {
    struct config cfg;
    int rc = cli_parse_serve(argc - 1, argv + 1, &cfg);
    if (rc) return rc;
    if (cfg.verbose > 0) log_set_level(LOG_DEBUG);
    if (cfg.verbose < 0) log_set_level(LOG_WARN);
    return server_run(&cfg);
  }
  if (commands_exists(argv[1])) return commands_run(argc - 1, argv + 1);
  log_error("unknown command '%s' (see mirrorstate --help)", argv[1]);
  return 2;
}
