/* The event log (--log FILE): one JSON line per change, per file status
 * change and per page error, appended, so an agent can read what the user just
 * did. Format in docs/eventlog.md. */
#ifndef MS_EVENTLOG_H
#define MS_EVENTLOG_H

#include <stddef.h>
#include <cJSON.h>

#include "store.h"

struct eventlog;

/* Opens path for appending; the file is rotated to PATH.1 when it grows
 * past max_bytes. Returns NULL after logging why. */
struct eventlog *eventlog_open(const char *path, size_t max_bytes);
void eventlog_close(struct eventlog *log);

/* Each accepts a NULL log and then does nothing. */
void eventlog_change(struct eventlog *log, const struct state *st,
                     const char *origin, const cJSON *ops);
/* err: a page error as the hub keeps it ({kind, message, stack?, url?,
 * states, client, time}); logged as a "page_error" line. */
void eventlog_page_error(struct eventlog *log, const cJSON *err);
void eventlog_file_status(struct eventlog *log, const struct state *st,
                          const char *code);

#endif
