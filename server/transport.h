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
#include <string.h>
#include <uv.h>

#include "cli.h"

struct outmsg; /* an encoded frame, shared between send queues */

/* One argument of a request's query, decoded exactly once (libwebsockets
 * splits the query at '&' and ';', turns '+' into a space and decodes
 * %XX); value is "" when the argument has no '='. */
struct http_arg {
  char *key;
  char *value;
};

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_POST };

/* A request for one of MirrorState's own routes, as the transport hands it
 * over once the access check passed. Everything is borrowed for the call. */
struct http_request {
  enum http_method method;
  const char *path; /* below /_mirrorstate, decoded once: "/api/states/a b" */
  const struct http_arg *args; /* the query */
  int nargs;
  const char *body; /* a POST's body, or NULL */
  size_t body_len;
};

/* The value of the first argument called key, or NULL. */
static inline const char *http_request_arg(const struct http_request *r,
                                           const char *key) {
  for (int i = 0; i < r->nargs; i++)
    if (strcmp(r->args[i].key, key) == 0) return r->args[i].value;
  return NULL;
}

/* The answer to a request. */
struct http_reply {
  int status;
  const char *content_type; /* a static string */
  char *body;               /* malloc'd; the transport frees it */
  size_t len;
  long long version; /* X-MirrorState-Version, or -1 */
};

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
