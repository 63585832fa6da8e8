/* HTTP and WebSocket on the program's libuv loop. The only module that
 * uses libwebsockets: everything above it sees sessions and messages.
 *
 * Outgoing messages are shared, reference-counted buffers, so a change
 * broadcast to a thousand clients is encoded once. */
#ifndef MS_TRANSPORT_H
#define MS_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cli.h"

struct outmsg; /* an encoded frame, shared between send queues */

/* One WebSocket connection. Fields are read by the hub; the transport owns
 * the struct, which is valid from hub_on_open until hub_on_close returns. */
struct session {
  char id[16];      /* "c1", "c2", ... */
  char role[8];     /* "app", "panel" or "cli" */
  char *page;       /* page URL the client reported; owned */
  char *origin;     /* the Origin header, "" if none; owned */
  char address[64]; /* peer address */
  double since_ms;  /* wall clock at connect */
  char **subs;      /* names subscribed to; owned */
  int nsubs;
  void *priv; /* the transport's own bookkeeping */
  struct session *next;
};

struct transport;

/* Creates the lws context on loop, listening on every address of binds at
 * cfg's port (one vhost each; with port 0 the first picks the port), and
 * sets hub->transport. Returns 0, or -1 after logging why. In both cases
 * *out is set, and is torn down with transport_destroy. */
struct hub;
struct bind_list;
int transport_start(uv_loop_t *loop, const struct config *cfg,
                    const struct bind_list *binds, struct hub *hub,
                    struct transport **out);

/* The port actually bound (useful with --port 0). */
int transport_port(const struct transport *t);

/* The first session; iterate with ->next. Borrowed. */
struct session *transport_sessions(struct transport *t);
int transport_session_count(const struct transport *t);

/* Makes a frame from a malloc'd text and frees the text (it is copied
 * behind the LWS_PRE headroom lws needs). Returns NULL on allocation
 * failure. The caller holds one reference: drop it with outmsg_unref after
 * queueing it to every recipient, who share the one copy. */
struct outmsg *outmsg_take(char *text, size_t len);
void outmsg_unref(struct outmsg *m);

/* Queues m for s (takes its own reference). A client whose queue exceeds
 * --max-pending is closed with 1008. */
void transport_send(struct transport *t, struct session *s, struct outmsg *m);

/* Begins a graceful stop: every client is sent a close frame (1001). */
void transport_shutdown(struct transport *t);

/* Destroys the context; call twice around a uv_run, as lws on a foreign
 * loop needs (see docs/design.md). Frees t on the second call. */
void transport_destroy(struct transport *t);

#endif
