/* HTTP and WebSocket on the program's libuv loop. The only module that
 * uses libwebsockets (transport.c and transport_http.c): everything above
 * it sees sessions, messages and requests, through the events it reports
 * (struct transport_events) and transport_send. It includes no other
 * module's header but the pure core's and the access checks'. */
#ifndef MS_TRANSPORT_H
#define MS_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <uv.h>

#include "cli.h"
#include "outmsg.h"

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

/* One WebSocket connection. The transport owns it: it is valid from the
 * on_open event until on_close returns. Its fields are the transport's and
 * read-only above it, except data, which belongs to whoever receives the
 * events (the hub keeps its client record there) and which the transport
 * never reads or frees. */
struct session {
  char id[16];      /* "c1", "c2", ...: connections numbered as they open */
  char *origin;     /* the Origin header, "" if none */
  char address[64]; /* peer address */
  double since_ms;  /* wall clock at connect */
  void *data;       /* the receiver's own; NULL until it sets it */
};

/* What the transport reports, and to whom: set once at transport_start
 * (server.c wires them to the hub and the HTTP API). Each runs on the
 * loop, inside a libwebsockets callback. */
struct transport_events {
  /* A WebSocket opened. Returns 0, or non-zero to close it at once (then
   * no on_close follows). */
  int (*on_open)(void *arg, struct session *s);
  /* A whole text message arrived (at most --max-message bytes; larger
   * ones and binary frames are refused by the transport itself). buf is
   * borrowed for the call. */
  void (*on_message)(void *arg, struct session *s, const char *buf, size_t len);
  /* The WebSocket closed; s is freed when this returns. */
  void (*on_close)(void *arg, struct session *s);
  /* A request for one of MirrorState's own routes passed the access
   * check: fill *reply (its body is then the transport's to free). */
  void (*on_http)(void *arg, const struct http_request *req,
                  struct http_reply *reply);
  void *arg;
};

struct transport;
struct bind_list;

/* Creates the lws context on loop, listening on every address of binds at
 * cfg's port (one vhost each; with port 0 the first picks the port), and
 * reports to ev (copied). Returns 0, or -1 after logging why. *out is set
 * in both cases (NULL only when out of memory): a transport that failed
 * to start is torn down like one that ran (transport_destroy, uv_run,
 * transport_destroy), since libwebsockets on a foreign loop releases its
 * context only after the loop has run. */
int transport_start(uv_loop_t *loop, const struct config *cfg,
                    const struct bind_list *binds,
                    const struct transport_events *ev, struct transport **out);

/* Listens on addr too, at the transport's port, while serving (an
 * address that appeared on a followed interface), and accepts it as Host.
 * Listening twice on one address is one listener. Returns 0, or a
 * negative errno (-EADDRINUSE: another process has the port there). */
int transport_listen(struct transport *t, const char *addr);

/* Stops listening on addr (as transport_listen started), forgets it as
 * Host, and closes the WebSockets that came in through it (1001). Returns
 * how many were closed, or -1 if addr was not listened on. */
int transport_unlisten(struct transport *t, const char *addr);

/* Accepts host in the Host header (allow non-zero), or forgets one such
 * acceptance: a wildcard bind follows this machine's addresses. */
void transport_allow_host(struct transport *t, const char *host, int allow);

/* The port actually bound (useful with --port 0). */
int transport_port(const struct transport *t);

/* The number of open WebSockets. */
int transport_session_count(const struct transport *t);

/* Queues m for s (takes its own reference), or writes it at once when
 * nothing is queued for s and its socket takes more. A client whose queue
 * exceeds --max-pending is closed with 1008. t may be NULL (then nothing
 * is sent). */
void transport_send(struct transport *t, struct session *s, struct outmsg *m);

/* Begins a graceful stop: every client is sent a close frame (1001). */
void transport_shutdown(struct transport *t);

/* Destroys the context; call twice around a uv_run, as lws on a foreign
 * loop needs (see docs/design.md). Frees t on the second call. NULL is
 * ignored. */
void transport_destroy(struct transport *t);

#endif
