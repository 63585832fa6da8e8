/* Talking to a running server from the command line: one HTTP request, or
 * one WebSocket, each on a libuv loop of its own with libwebsockets as the
 * client. Besides transport.c, this is the only module that includes
 * libwebsockets.h; callers see plain buffers. */
#ifndef MS_REMOTE_H
#define MS_REMOTE_H

#include <stddef.h>

/* Where the server is: "http://HOST[:PORT][/PREFIX]" (https, ws and wss
 * are accepted too; a trailing "/_mirrorstate/..." is dropped). */
struct remote_url {
  char host[256]; /* name or address; IPv6 without brackets */
  int port;
  int tls;          /* https / wss */
  char prefix[256]; /* path before /_mirrorstate, "" or "/app" */
};

/* Parses url into u. Returns 0, or -EINVAL if it is not an http(s) or
 * ws(s) URL with a host. */
int remote_url_parse(const char *url, struct remote_url *u);

/* The answer to one request. body is NUL-terminated and owned: free it with
 * remote_reply_free. */
struct remote_reply {
  int status; /* HTTP status */
  char *body;
  size_t len;
  long long version; /* X-MirrorState-Version, or -1 when absent */
};

/* Sends one request (method "GET" or "POST") for path (below the URL's
 * prefix, e.g. "/_mirrorstate/api/states"), with body (may be NULL) sent
 * with a Content-Length, and token (may be NULL) as a Bearer token.
 * Returns 0 with *out filled whatever the HTTP status; -ECONNREFUSED when
 * no server answers, -EACCES when the server refused the request before
 * answering, -ETIMEDOUT after timeout_ms, -ECONNRESET when the connection
 * broke mid-answer, -ENOMEM. */
int remote_http(const struct remote_url *u, const char *token,
                const char *method, const char *path, const char *body,
                size_t len, int timeout_ms, struct remote_reply *out);

/* Frees out's body and clears it. */
void remote_reply_free(struct remote_reply *out);

struct remote_ws;

/* Called for each complete text message; msg is NUL-terminated and
 * borrowed for the call. Returns 0 to go on, 1 to stop with status 0, or a
 * negative errno to stop with it. */
typedef int (*remote_ws_cb)(struct remote_ws *ws, const char *msg, size_t len,
                            void *arg);

/* Queues text for sending (copied). Returns 0 or -ENOMEM. */
int remote_ws_send(struct remote_ws *ws, const char *text, size_t len);

/* Stops the connection with status 0 once the messages already received
 * in the same read have been delivered to the callback. */
void remote_ws_stop_soon(struct remote_ws *ws);

/* Opens a WebSocket to path with the given subprotocol and token (may be
 * NULL), and delivers messages to cb until it stops. Returns 0 when cb
 * stopped with 1, cb's negative errno, -ECONNREFUSED when the upgrade did
 * not happen (-EACCES when the server refused it with 403), -ECONNRESET
 * when the server closed the connection, or -ETIMEDOUT after timeout_ms
 * (0: no limit). */
int remote_ws_run(const struct remote_url *u, const char *token,
                  const char *path, const char *protocol, int timeout_ms,
                  remote_ws_cb cb, void *arg);

#endif
