/* `mirrorstate serve`: the loop, signals, start-up and teardown. */
#ifndef MS_SERVER_H
#define MS_SERVER_H

#include "cli.h"

/* Runs the server until SIGINT or SIGTERM. Returns the exit status: 0 after
 * a clean stop, 1 if it could not listen, 2 for a configuration error. */
int server_run(const struct config *cfg);

#endif
