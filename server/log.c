/* Logging to stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level max_level = MS_LOG_INFO;
static log_sink_fn sink;
static void *sink_arg;

void log_set_sink(log_sink_fn fn, void *arg) {
  sink = fn;
  sink_arg = arg;
}

void log_set_level(enum log_level level) {
  max_level = level;
}
enum log_level log_get_level(void) {
  return max_level;
}

void log_msg(enum log_level level, const char *fmt, ...) {
  static const char *const prefix[] = {"error: ", "warning: ", "", ""};
  if (level > max_level) return;
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (sink) {
    sink(level, line, sink_arg);
    return;
  }
  /* One fputs per line, so lines from concurrent processes do not mix. */
  char out[2200];
  snprintf(out, sizeof out, "mirrorstate: %s%s\n", prefix[level], line);
  fputs(out, stderr);
}
