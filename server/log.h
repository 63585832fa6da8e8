/* Logging to stderr: one line per event, prefixed "mirrorstate: ". */
#ifndef MS_LOG_H
#define MS_LOG_H

enum log_level { MS_LOG_ERROR, MS_LOG_WARN, MS_LOG_INFO, MS_LOG_DEBUG };

/* The levels carry the MS_ prefix: <syslog.h> has LOG_INFO and LOG_DEBUG.
 * Messages above the level set are dropped; the default is MS_LOG_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Sends every message that passes the level to fn (without the
 * "mirrorstate: " prefix) instead of stderr; NULL restores stderr. line is
 * borrowed for the call. The MCP server uses it to return a command's
 * messages to its client. */
typedef void (*log_sink_fn)(enum log_level level, const char *line, void *arg);
void log_set_sink(log_sink_fn fn, void *arg);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(MS_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(MS_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(MS_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(MS_LOG_DEBUG, __VA_ARGS__)

#endif
