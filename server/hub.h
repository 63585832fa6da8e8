/* The hub: where client messages, file changes and HTTP requests meet the
 * states, and where every change is acknowledged, broadcast and logged.
 *
 * The hub knows neither libwebsockets nor inotify. It hears from the
 * transport and the mirror through the hub_on_* and hub_* event functions
 * below, which server.c wires to their events, and it reaches them only
 * through the two callback structs it is given: hub_sender (send a message
 * to a session) and hub_files (look a state up, have a change saved). So
 * it can be driven by a fake transport and a fake mirror in a test.
 *
 * Runs on the loop thread only, so nothing here needs a lock. */
#ifndef MS_HUB_H
#define MS_HUB_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

#include "cli.h"
#include "outmsg.h"
#include "protocol.h"
#include "store.h"
#include "transport.h"

struct eventlog;
struct hub;

/* How the hub sends: the transport's transport_send. */
struct hub_sender {
  /* Queues m for s; takes its own reference to m. */
  void (*send)(void *arg, struct session *s, struct outmsg *m);
  void *arg;
};

/* What a state's file held when a sync read it (hub_files.sync). */
enum hub_sync {
  HUB_SYNC_APPLIED,   /* the file's last save was taken in as *version */
  HUB_SYNC_UNCHANGED, /* it holds what the state holds: nothing to take */
  HUB_SYNC_INVALID,   /* it does not parse, or cannot be read (st->error) */
  HUB_SYNC_MISSING,   /* there is no file (st->status says why) */
};

/* How the hub reaches the files: the mirror. */
struct hub_files {
  /* The state called name, made if it may be mirrored (mirror_state), or
   * NULL with a reason in *why (a static string, or NULL). */
  struct state *(*lookup)(void *arg, const char *name, const char **why);
  /* st->current changed: have it saved (mirror_changed). */
  void (*changed)(void *arg, struct state *st);
  /* A subscription ended: a state it alone kept may go (mirror_unused). */
  void (*unused)(void *arg);
  /* Reads st's file now, as if its inotify event had arrived and without
   * a settle window (mirror_sync); *version: the version that holds the
   * file's content. NULL: every sync answers "unchanged". */
  enum hub_sync (*sync)(void *arg, struct state *st, uint64_t *version);
  void *arg;
};

/* How the hub is woken later (a sync waiting for pages gives up). */
struct hub_timer {
  /* Calls hub_tick after ms milliseconds, replacing any earlier call
   * asked for and not yet made. */
  void (*start)(void *arg, uint64_t ms);
  void *arg;
};

/* The page errors the hub keeps (the newest). */
#define HUB_PAGE_ERRORS 100

/* Makes a hub over store (borrowed; states are added and removed by the
 * mirror) that logs changes to log (borrowed, may be NULL). cfg is
 * borrowed; sender and files are copied. Returns NULL without memory. */
struct hub *hub_new(const struct config *cfg, struct store *store,
                    struct eventlog *log, const struct hub_sender *sender,
                    const struct hub_files *files);
/* Frees the hub. Every session must have closed before. */
void hub_free(struct hub *h);

/* Gives the hub its timer (copied); without one a sync waiting for pages
 * waits until they confirm or their connections close. */
void hub_set_timer(struct hub *h, const struct hub_timer *t);
/* The timer fired: answers the syncs whose wait is over. */
void hub_tick(struct hub *h);

/* --- events from the transport -------------------------------------------
 * A session's client record (subscriptions, role, page) is the hub's: it is
 * made in hub_on_open, kept in s->data and freed in hub_on_close. */

/* Sends hello. Returns 0, or -1 without memory (the session is then
 * closed by the transport). */
int hub_on_open(struct hub *h, struct session *s);
void hub_on_message(struct hub *h, struct session *s, const char *buf,
                    size_t len);
void hub_on_close(struct hub *h, struct session *s);

/* --- events from the mirror ---------------------------------------------- */

/* A change to st from origin, already applied as st->version: broadcasts
 * ops to every subscriber and records it in the event log. */
void hub_changed(struct hub *h, struct state *st, const cJSON *ops,
                 const char *origin);

/* st came into existence (a file appeared; ops set its value): sends
 * snapshots to its subscribers and logs ops (NULL: the files loaded at
 * start, which are not news). */
void hub_appeared(struct hub *h, struct state *st, const cJSON *ops);

/* The file's status changed (invalid, fixed, removed, write failed):
 * tells subscribers, panels, the log and stderr. */
void hub_file_status(struct hub *h, struct state *st);

/* The list of states changed: tells panels. */
void hub_states_changed(struct hub *h);

/* Number of sessions subscribed to st. */
int hub_subscribers(const struct hub *h, const struct state *st);

/* --- queries, for the HTTP API ------------------------------------------- */

/* The random id of this server run. */
const char *hub_session_id(const struct hub *h);
/* The number of connected sessions. */
int hub_client_count(const struct hub *h);
/* Every state (borrowed). */
const struct store *hub_store(const struct hub *h);
/* The state called name if it is known already, without making one. */
struct state *hub_find(struct hub *h, const char *name);
/* The state called name, made if it may be mirrored (see hub_files). */
struct state *hub_lookup(struct hub *h, const char *name);

/* Applies a change from the HTTP API (origin "api"). m is a decoded patch,
 * set, revert, reset, undo or sync (without pages) whose name is st's. Returns
 * the answer, an ack or an error message (caller frees; NULL without memory)
 * with its length in *len, and the error's code in *code (NULL for an ack). */
char *hub_api_change(struct hub *h, struct state *st, const struct msg *m,
                     const char **code, size_t *len);

#endif
