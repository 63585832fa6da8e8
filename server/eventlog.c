/* The append-only JSON-lines event log. */
#include "eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "describe.h"
#include "isotime.h"
#include "json.h"
#include "log.h"

struct eventlog {
  char *path;
  int fd;
  size_t size;
  size_t max_bytes;
};

static int open_append(struct eventlog *log) {
  /* The log holds state values: readable by the owner only. O_NONBLOCK:
   * opening a FIFO for writing would wait for a reader; it is refused. */
  log->fd = open(
      log->path,
      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
  if (log->fd < 0) {
    if (errno == ENXIO) errno = ENODEV; /* a FIFO without a reader */
    return -1;
  }
  struct stat sb;
  if (fstat(log->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(log->fd);
    log->fd = -1;
    errno = ENODEV;
    return -1;
  }
  log->size = (size_t)sb.st_size;
  return 0;
}

struct eventlog *eventlog_open(const char *path, size_t max_bytes) {
  struct eventlog *log = calloc(1, sizeof *log);
  if (!log || !(log->path = strdup(path))) {
    free(log);
    return NULL;
  }
  log->max_bytes = max_bytes;
  if (open_append(log) != 0) {
    log_error("--log %s: %s", path,
              errno == ENODEV ? "not a regular file" : strerror(errno));
    free(log->path);
    free(log);
    return NULL;
  }
  return log;
}

void eventlog_close(struct eventlog *log) {
  if (!log) return;
  close(log->fd);
  free(log->path);
  free(log);
}

/* Keeps one old generation: PATH.1. A reader following PATH sees it
 * start over, as with logrotate's default. */
static void rotate(struct eventlog *log) {
  char old[4096];
  snprintf(old, sizeof old, "%s.1", log->path);
  close(log->fd);
  if (rename(log->path, old) != 0)
    log_warn("--log: cannot rotate %s: %s", log->path, strerror(errno));
  if (open_append(log) != 0)
    log_error("--log %s: %s", log->path,
              errno == ENODEV ? "not a regular file" : strerror(errno));
}

static void write_line(struct eventlog *log, cJSON *o) {
  size_t len;
  char *text = json_print_compact(o, &len);
  cJSON_Delete(o);
  if (!text) return;
  if (log->size > 0 && log->size + len + 1 > log->max_bytes) rotate(log);
  text[len] = '\n';
  /* One write per line with O_APPEND: a reader never sees half a line. */
  ssize_t n = log->fd >= 0 ? write(log->fd, text, len + 1) : -1;
  if (n < 0)
    log_warn("--log %s: %s", log->path, strerror(errno));
  else
    log->size += (size_t)n;
  free(text);
}

static cJSON *entry(const struct state *st, const char *kind) {
  char when[ISOTIME_LEN];
  isotime_format(isotime_now_ms(), when, sizeof when);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "time", when);
  cJSON_AddStringToObject(o, "type", kind);
  cJSON_AddStringToObject(o, "name", st->name);
  cJSON_AddNumberToObject(o, "version", (double)st->version);
  return o;
}

void eventlog_change(struct eventlog *log, const struct state *st,
                     const char *origin, const cJSON *ops) {
  if (!log) return;
  cJSON *o = entry(st, "change");
  cJSON_AddStringToObject(o, "origin", origin);
  cJSON_AddItemReferenceToObject(o, "ops", (cJSON *)ops);
  /* The description made when the change was recorded, or (a state's
   * first value, which is not in the history) made now. */
  const struct history_entry *e =
      st->hist_len ? store_history(st, st->hist_len - 1) : NULL;
  if (e && e->version == st->version && e->desc)
    cJSON_AddItemReferenceToObject(o, "desc", e->desc);
  else
    cJSON_AddItemToObject(o, "desc", patch_describe(st->current, ops, NULL));
  write_line(log, o);
}

void eventlog_page_error(struct eventlog *log, const cJSON *err) {
  if (!log) return;
  char when[ISOTIME_LEN];
  isotime_format(isotime_now_ms(), when, sizeof when);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "time", when);
  cJSON_AddStringToObject(o, "type", "page_error");
  for (const cJSON *c = err->child; c; c = c->next)
    if (strcmp(c->string, "time") != 0)
      cJSON_AddItemReferenceToObject(o, c->string, (cJSON *)c);
  write_line(log, o);
}

void eventlog_file_status(struct eventlog *log, const struct state *st,
                          const char *code) {
  if (!log) return;
  cJSON *o = entry(st, "file");
  cJSON_AddStringToObject(o, "code", code);
  cJSON_AddStringToObject(o, "file", st->path);
  if (st->status == FILE_INVALID) {
    cJSON_AddStringToObject(o, "message", st->error.message);
    cJSON_AddNumberToObject(o, "line", st->error.line);
    cJSON_AddNumberToObject(o, "column", st->error.column);
  } else if (st->write_error) {
    cJSON_AddStringToObject(o, "message", st->write_error);
  }
  write_line(log, o);
}
