/* Shared by the transport's two files: transport.c (the lws context, the
 * WebSocket sessions and their queues) and transport_http.c (reading a
 * request's headers whole, the one access check of every request, HTTP
 * replies). Not for other modules: libwebsockets stays in the transport. */
#ifndef MS_TRANSPORT_INT_H
#define MS_TRANSPORT_INT_H

#include <uv.h> /* before libwebsockets.h, for its libuv declarations */

#include <libwebsockets.h>

#include "netif.h"
#include "transport.h"

struct conn;
struct access;
struct static_files;
struct netif_tailscale;
struct listener;

/* An extra response header; the value is owned. */
struct reply_header {
  const char *name; /* "location:" */
  char *value;
};

#define REPLY_MAX_HEADERS 4

/* Per-connection data lws allocates for us (zeroed). */
struct pss {
  struct conn *conn; /* WebSocket */
  char *body;        /* HTTP POST body */
  size_t body_len;
  char *path;            /* decoded, e.g. "/_mirrorstate/api/states"; owned */
  struct http_arg *args; /* the query, decoded; owned */
  int nargs;
  struct http_reply reply;
  struct reply_header headers[REPLY_MAX_HEADERS];
  int nheaders;
  size_t sent;
  int replying;
  int refused; /* the reply is an error made before the body */
  int head;    /* a HEAD request: headers only */
};

/* The transport; lws callbacks find it with lws_context_user(). */
struct transport {
  struct lws_context *ctx;
  uv_loop_t *loop;
  struct transport_events ev; /* whom the transport reports to */
  const struct config *cfg;
  struct access *access;
  struct static_files *statics; /* NULL without --static */
  struct netif_tailscale *tailscale;
  struct conn *conns; /* the open WebSockets, newest first */
  int nsessions;
  uint64_t next_id; /* of the next session */
  int port;
  uv_timer_t close_timer; /* closes sessions from outside lws callbacks */
  /* Loop turns, for sending: a session sent more than one message in a
   * turn is corked until the turn ends (transport.c). */
  uv_prepare_t turn_start;
  uv_check_t turn_end;
  uint64_t turn;
  struct conn *corked;
  int destroyed;
  /* The static-files cookie: set once a request carried the token. */
  char cookie_name[32];
  char cookie_value[40];
  struct lws_vhost *vhost;    /* the first: takes connections of listeners */
  struct listener *listeners; /* addresses added while serving */
  /* lws keeps pointers to the vhost names, addresses and headers. */
  struct bind_list binds;
  char vhost_names[NETIF_MAX_ADDRS][24];
  struct lws_protocol_vhost_options vhost_headers[2];
};

/* transport_http.c */

/* Every response of every vhost carries these (lws adds them to each
 * status line it writes, its own error pages included). */
void http_init_vhost_headers(struct transport *t);

/* LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: the WebSocket's path, the
 * access check and --max-clients. Returns 0 to accept the upgrade, or 1
 * after answering with an error. */
int http_ws_filter(struct transport *t, struct lws *wsi);

/* The Origin header of an accepted upgrade (read whole), "" if none.
 * Returns a new string (caller frees), or NULL without memory. */
char *http_ws_origin(struct lws *wsi);

/* Frees n query arguments as args_read made them. */
void http_args_free(struct http_arg *args, int n);

/* The HTTP reasons of the one callback. Returns what the callback
 * returns, or -2 for a reason it does not handle. */
int http_callback(struct transport *t, struct lws *wsi,
                  enum lws_callback_reasons reason, struct pss *p, void *in,
                  size_t len);

#endif
