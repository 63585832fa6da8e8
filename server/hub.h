/* The hub: where client messages, file changes and HTTP requests meet the
 * store, and where every change is broadcast, acknowledged and logged.
 * Runs on the loop thread only, so nothing here needs a lock. */
#ifndef MS_HUB_H
#define MS_HUB_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

#include "cli.h"
#include "protocol.h"
#include "store.h"
#include "transport.h"

struct mirror;
struct eventlog;

struct hub {
  struct store store;
  struct mirror *mirror;
  struct transport *transport;
  struct eventlog *log;
  const struct config *cfg;
  char session_id[17]; /* random id of this server run */
  uint64_t next_client;
};

/* Fills the session id; store, mirror and transport are set by the caller. */
void hub_init(struct hub *h, const struct config *cfg);

/* Transport events. */
void hub_on_open(struct hub *h, struct session *s);
void hub_on_message(struct hub *h, struct session *s, const char *buf,
                    size_t len);
void hub_on_close(struct hub *h, struct session *s);

/* A change to st, already applied as st->version: broadcasts ops to every
 * subscriber but except (may be NULL), records it in the event log. */
void hub_changed(struct hub *h, struct state *st, const cJSON *ops,
                 const char *origin, struct session *except);

/* st came into existence (a file appeared; ops set its value): sends
 * snapshots to its subscribers and logs ops (NULL: the files loaded at
 * start, which are not news). */
void hub_appeared(struct hub *h, struct state *st, const cJSON *ops);

/* The file's status changed (invalid, fixed, removed, write failed):
 * tells subscribers, panels, the log and stderr. */
void hub_file_status(struct hub *h, struct state *st);

/* Number of sessions subscribed to name. */
int hub_subscribers(struct hub *h, const char *name);

/* Tells panels the list of states changed. */
void hub_states_changed(struct hub *h);

/* Applies a change from the HTTP API (origin "api"). msg is a decoded
 * message (patch, set or revert) whose name is st's. Returns a new reply
 * message (ack or error; caller frees) and its HTTP status in *status. */
cJSON *hub_api_change(struct hub *h, struct state *st, const struct msg *msg,
                      int *status);

/* The states list, as in GET /_mirrorstate/api/states (caller frees). */
cJSON *hub_states_json(struct hub *h);
/* A history message for st (caller frees). */
cJSON *hub_history_json(struct hub *h, struct state *st, int limit);

#endif
