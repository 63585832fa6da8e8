/* The hub's internals, shared by its files: hub.c (sessions, subscriptions,
 * changes, broadcasts) and hub_loop.c (the agent's loop: sync, undo,
 * reset, the pages' applied versions and errors). Not for other modules:
 * they use hub.h. */
#ifndef MS_HUB_INT_H
#define MS_HUB_INT_H

#include "hub.h"

/* The version of a state a page last reported as applied. */
struct applied {
  char *name;
  uint64_t version;
};

/* The hub's record of one session, in s->data. */
struct client {
  struct session *s;
  enum msg_role role;
  char *page;  /* the page URL it reported, cleaned; NULL if none */
  char **subs; /* names subscribed to */
  int nsubs;
  struct applied *applied; /* what it reported with `applied` */
  int napplied;
  /* errors with watch: new page errors that pass the filter are sent */
  int errors_watch;
  char *errors_name; /* NULL: every state */
  uint64_t errors_since;
  int errors_has_since;
  /* page_error rate limit: errors received in the current window */
  double errors_window_ms;
  int errors_in_window;
  struct client *next;
};

struct hub_sync_wait; /* a sync waiting for pages (hub_loop.c) */

struct hub {
  const struct config *cfg;
  struct store *store;
  struct eventlog *log;
  struct hub_sender sender;
  struct hub_files files;
  struct hub_timer timer;
  char session_id[17];    /* random id of this server run */
  struct client *clients; /* newest first */
  int nclients;
  /* The page errors kept: a ring of HUB_PAGE_ERRORS objects, oldest at
   * errors_head, each {kind, message, stack?, url?, states, client, time}. */
  cJSON *errors[HUB_PAGE_ERRORS];
  int errors_head, errors_len;
  struct hub_sync_wait *waits; /* syncs waiting for pages */
};

/* --- hub.c, for hub_loop.c ------------------------------------------------ */

/* Sends an encoded message (taken) to c alone. */
void hub__send_text(struct hub *h, struct client *c, char *text, size_t len);
void hub__send_error(struct hub *h, struct client *c, const char *code,
                     const char *message, const char *name, const cJSON *ref);
/* A change applied as st->version, by origin: broadcast to the state's
 * subscribers but except (which may be NULL), logged, and saved. */
void hub__changed(struct hub *h, struct state *st, const cJSON *ops,
                  const char *origin, const struct client *except);
int hub__subscribed(const struct client *c, const char *name);
/* "panel", "api" (the CLI) or "client:c3"; buf holds 32 bytes. */
const char *hub__origin(const struct client *c, char *buf, size_t len);

/* --- hub_loop.c ----------------------------------------------------------- */

void hub__on_sync(struct hub *h, struct client *c, struct state *st,
                  const struct msg *m);
/* undo, reset and revert (which is reset). */
void hub__on_undo(struct hub *h, struct client *c, struct state *st,
                  const struct msg *m);
void hub__on_reset(struct hub *h, struct client *c, struct state *st,
                   const struct msg *m);
void hub__on_errors(struct hub *h, struct client *c, const struct msg *m);
void hub__on_applied(struct hub *h, struct client *c, struct state *st,
                     const struct msg *m);
void hub__on_page_error(struct hub *h, struct client *c, const struct msg *m);
/* The answer to undo, reset, revert or sync from the HTTP API (origin
 * "api"); as hub_api_change. */
char *hub__api_loop(struct hub *h, struct state *st, const struct msg *m,
                    const char **code, size_t *len);
/* Encodes the patch of a change for the subscribers of st (with the
 * description of its ops for tools) and sends it to all but except. */
void hub__broadcast_change(struct hub *h, struct state *st, const cJSON *ops,
                           const char *origin, const struct client *except);
/* c is closing: it no longer waits, nor is waited for. */
void hub__client_gone(struct hub *h, struct client *c);
/* Frees the page errors and the waits. */
void hub__loop_free(struct hub *h);

#endif
