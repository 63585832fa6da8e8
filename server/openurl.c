/* Opening a URL in a browser (see openurl.h). */
#include "openurl.h"

#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

extern char **environ;

static int on_path(const char *prog) {
  const char *path = getenv("PATH");
  if (!path) return 0;
  while (*path) {
    size_t n = strcspn(path, ":");
    char full[PATH_MAX];
    if (n > 0 &&
        snprintf(full, sizeof full, "%.*s/%s", (int)n, path, prog) <
            (int)sizeof full &&
        access(full, X_OK) == 0)
      return 1;
    path += n + (path[n] == ':');
  }
  return 0;
}

int openurl(const char *url) {
  const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
  if (!(x && *x) && !(w && *w)) {
    log_warn("--open: no display here (DISPLAY and WAYLAND_DISPLAY are "
             "unset); open %s in a browser",
             url);
    return -1;
  }
  if (!on_path("xdg-open")) {
    log_warn("--open: xdg-open is not installed (Debian: xdg-utils); open %s "
             "in a browser",
             url);
    return -1;
  }
  /* The shell puts xdg-open in the background and returns at once, so
   * this process neither waits for the browser nor leaves a zombie. */
  char *argv[] = {
      "sh", "-c",        "xdg-open \"$1\" >/dev/null 2>&1 </dev/null &",
      "sh", (char *)url, NULL};
  pid_t pid;
  int rc = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
  int status = 0;
  if (rc == 0) waitpid(pid, &status, 0);
  if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    log_warn("--open: could not start xdg-open; open %s in a browser", url);
    return -1;
  }
  log_info("opened %s in the browser", url);
  return 0;
}
