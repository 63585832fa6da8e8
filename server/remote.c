/* HTTP and WebSocket client connections for the CLI, on a private libuv
 * loop. One connection per loop: the CLI makes one request, or holds one
 * WebSocket, then exits. */
#include "remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
/* uv.h first: lws declares its libuv helpers only when it has been seen. */
#include <libwebsockets.h>

#include "log.h"

#define RX_MAX ((size_t)1 << 30) /* refuse answers beyond 1 GiB */
#define TX_CHUNK 16384

struct outq {
  struct outq *next;
  size_t len;
  unsigned char data[]; /* LWS_PRE headroom, then the text */
};

/* One connection and the loop it runs on. */
struct remote_ws {
  uv_loop_t loop;
  uv_timer_t timer;
  uv_timer_t soon; /* remote_ws_stop_soon */
  struct lws_context *ctx;
  struct lws *wsi;
  int loop_ok, done, rc;
  const char *token;
  char host_hdr[300];
  /* HTTP request and answer */
  const char *body;
  size_t body_len, sent;
  int status;
  long long version;
  /* received bytes: the HTTP body, or the WebSocket message being built */
  char *rx;
  size_t rx_len, rx_cap;
  /* WebSocket */
  remote_ws_cb cb;
  void *arg;
  struct outq *out_head, *out_tail;
};

static void finish(struct remote_ws *c, int rc) {
  if (c->done) return;
  c->done = 1;
  c->rc = rc;
  uv_stop(&c->loop);
}

static int rx_append(struct remote_ws *c, const void *data, size_t len) {
  if (c->rx_len + len + 1 > c->rx_cap) {
    size_t cap = c->rx_cap ? c->rx_cap : 4096;
    while (cap < c->rx_len + len + 1)
      cap *= 2;
    if (cap > RX_MAX) return -EFBIG;
    char *p = realloc(c->rx, cap);
    if (!p) return -ENOMEM;
    c->rx = p;
    c->rx_cap = cap;
  }
  memcpy(c->rx + c->rx_len, data, len);
  c->rx_len += len;
  c->rx[c->rx_len] = '\0';
  return 0;
}

/* Authorization, and for a POST its length and type. */
static int add_headers(struct remote_ws *c, struct lws *wsi, void *in,
                       size_t len) {
  unsigned char **p = in, *end = *p + len;
  char v[600];
  if (c->token && *c->token) {
    int n = snprintf(v, sizeof v, "Bearer %s", c->token);
    if (n < 0 || (size_t)n >= sizeof v ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                     (unsigned char *)v, n, p, end))
      return -1;
  }
  if (!c->body) return 0;
  int n = snprintf(v, sizeof v, "%zu", c->body_len);
  if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                   (unsigned char *)v, n, p, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                   (unsigned char *)"application/json", 16, p,
                                   end))
    return -1;
  lws_client_http_body_pending(wsi, 1);
  lws_callback_on_writable(wsi);
  return 0;
}

/* Sends the next piece of the request body. */
static int write_body(struct remote_ws *c, struct lws *wsi) {
  if (!c->body || c->sent >= c->body_len) return 0;
  size_t n = c->body_len - c->sent;
  if (n > TX_CHUNK) n = TX_CHUNK;
  int final = c->sent + n == c->body_len;
  unsigned char buf[LWS_PRE + TX_CHUNK];
  memcpy(buf + LWS_PRE, c->body + c->sent, n);
  if (lws_write(wsi, buf + LWS_PRE, n,
                final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
    return -1;
  c->sent += n;
  if (final)
    lws_client_http_body_pending(wsi, 0);
  else
    lws_callback_on_writable(wsi);
  return 0;
}

static void read_version(struct remote_ws *c, struct lws *wsi) {
  char v[32];
  static const char name[] = "x-mirrorstate-version:";
  if (lws_hdr_custom_copy(wsi, v, sizeof v, name, (int)sizeof name - 1) > 0)
    c->version = atoll(v);
}

/* Why an upgrade or request failed before an answer arrived. */
static int connect_error(struct lws *wsi, const char *why) {
  int status = wsi ? (int)lws_http_client_http_response(wsi) : 0;
  log_debug("connection failed: %s (HTTP %d)", why ? why : "?", status);
  if (status == 403 || status == 401) return -EACCES;
  return -ECONNREFUSED;
}

static int send_next(struct remote_ws *c, struct lws *wsi) {
  struct outq *m = c->out_head;
  if (!m) return 0;
  c->out_head = m->next;
  if (!c->out_head) c->out_tail = NULL;
  int n = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
  free(m);
  if (n < 0) return -1;
  if (c->out_head) lws_callback_on_writable(wsi);
  return 0;
}

static int on_ws_receive(struct remote_ws *c, struct lws *wsi, void *in,
                         size_t len) {
  int rc = rx_append(c, in, len);
  if (rc) {
    finish(c, rc);
    return -1;
  }
  if (!lws_is_final_fragment(wsi)) return 0;
  rc = c->cb(c, c->rx, c->rx_len, c->arg);
  c->rx_len = 0;
  if (rc) finish(c, rc > 0 ? 0 : rc);
  return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len) {
  struct remote_ws *c = lws_context_user(lws_get_context(wsi));
  switch (reason) {
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    finish(c, connect_error(wsi, in));
    c->wsi = NULL;
    return 0;
  case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
    return add_headers(c, wsi, in, len);
  case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: return write_body(c, wsi);
  case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
    c->status = (int)lws_http_client_http_response(wsi);
    read_version(c, wsi);
    return 0;
  case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
    char buf[LWS_PRE + 16384], *p = buf + LWS_PRE;
    int n = (int)sizeof buf - LWS_PRE;
    return lws_http_client_read(wsi, &p, &n) < 0 ? -1 : 0;
  }
  case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ: {
    int rc = rx_append(c, in, len);
    if (rc) finish(c, rc);
    return rc ? -1 : 0;
  }
  case LWS_CALLBACK_COMPLETED_CLIENT_HTTP: finish(c, 0); return 0;
  case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
    finish(c, -ECONNRESET); /* no effect after COMPLETED */
    c->wsi = NULL;
    return 0;
  case LWS_CALLBACK_CLIENT_RECEIVE: return on_ws_receive(c, wsi, in, len);
  case LWS_CALLBACK_CLIENT_WRITEABLE: return send_next(c, wsi);
  case LWS_CALLBACK_CLIENT_CLOSED:
    finish(c, -ECONNRESET);
    c->wsi = NULL;
    return 0;
  default: break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", callback, 0, 0, 0, NULL, 0},
    {"mirrorstate.v1", callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static void on_timeout(uv_timer_t *t) {
  struct remote_ws *c = t->data;
  finish(c, -ETIMEDOUT);
}

static void on_soon(uv_timer_t *t) {
  finish(t->data, 0);
}

void remote_ws_stop_soon(struct remote_ws *ws) {
  /* A timer due now runs in the loop's next turn, after the messages of
   * the read being delivered, before the next read. */
  if (!uv_is_active((uv_handle_t *)&ws->soon))
    uv_timer_start(&ws->soon, on_soon, 0, 0);
}

static int conn_init(struct remote_ws *c, const struct remote_url *u,
                     const char *token) {
  memset(c, 0, sizeof *c);
  c->token = token;
  c->version = -1;
  int v6 = strchr(u->host, ':') != NULL;
  snprintf(c->host_hdr, sizeof c->host_hdr, "%s%s%s:%d", v6 ? "[" : "", u->host,
           v6 ? "]" : "", u->port);
  if (uv_loop_init(&c->loop) != 0) return -ENOMEM;
  c->loop_ok = 1;
  uv_timer_init(&c->loop, &c->timer);
  uv_timer_init(&c->loop, &c->soon);
  c->timer.data = c->soon.data = c;
  /* The CLI's output is its own messages; lws's are for debugging. */
  lws_set_log_level(log_get_level() >= MS_LOG_DEBUG ? LLL_ERR | LLL_WARN : 0,
                    NULL);
  void *foreign[] = {&c->loop};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_LIBUV;
  if (u->tls) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols;
  info.foreign_loops = foreign;
  info.user = c;
  info.fd_limit_per_thread = 4;
  c->ctx = lws_create_context(&info);
  if (!c->ctx) {
    log_error("cannot start libwebsockets (is libwebsockets-evlib-uv "
              "installed?)");
    return -ENOMEM;
  }
  return 0;
}

/* Connects and runs the loop until the connection finishes. */
static int conn_run(struct remote_ws *c, const struct remote_url *u,
                    const char *method, const char *path, const char *protocol,
                    int timeout_ms) {
  char full[2300];
  snprintf(full, sizeof full, "%s%s", u->prefix, path);
  struct lws_client_connect_info i;
  memset(&i, 0, sizeof i);
  i.context = c->ctx;
  i.address = u->host;
  i.port = u->port;
  i.ssl_connection = u->tls ? LCCSCF_USE_SSL : 0;
  i.path = full;
  i.host = c->host_hdr;
  i.method = method; /* NULL: a WebSocket upgrade */
  i.protocol = protocol;
  i.local_protocol_name = method ? "http" : protocol;
  i.pwsi = &c->wsi;
  if (timeout_ms > 0)
    uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
  if (!lws_client_connect_via_info(&i)) finish(c, -ECONNREFUSED);
  if (!c->done) uv_run(&c->loop, UV_RUN_DEFAULT);
  return c->rc;
}

static void on_closed(uv_handle_t *h) {
  (void)h;
}

/* Closes the connection, the context and the loop. With a foreign loop lws
 * needs a second destroy after the loop has run the first one's closes
 * (see docs/design.md). */
static void conn_close(struct remote_ws *c) {
  if (!c->loop_ok) return;
  uv_close((uv_handle_t *)&c->timer, on_closed);
  uv_close((uv_handle_t *)&c->soon, on_closed);
  if (c->ctx) {
    lws_context_destroy(c->ctx);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    lws_context_destroy(c->ctx);
  }
  uv_run(&c->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&c->loop) != 0) log_debug("client loop still busy");
  while (c->out_head) {
    struct outq *m = c->out_head;
    c->out_head = m->next;
    free(m);
  }
  free(c->rx);
}

int remote_url_parse(const char *url, struct remote_url *u) {
  memset(u, 0, sizeof *u);
  const char *p;
  if (!strncmp(url, "http://", 7) || !strncmp(url, "ws://", 5)) {
    p = strstr(url, "://") + 3;
    u->port = 80;
  } else if (!strncmp(url, "https://", 8) || !strncmp(url, "wss://", 6)) {
    p = strstr(url, "://") + 3;
    u->tls = 1;
    u->port = 443;
  } else {
    return -EINVAL;
  }
  const char *host_end;
  const char *slash = strchr(p, '/');
  const char *end = slash ? slash : p + strlen(p);
  if (*p == '[') {
    host_end = memchr(p, ']', (size_t)(end - p));
    if (!host_end) return -EINVAL;
    p++;
  } else {
    host_end = memchr(p, ':', (size_t)(end - p));
    if (!host_end) host_end = end;
  }
  size_t hn = (size_t)(host_end - p);
  if (hn == 0 || hn >= sizeof u->host) return -EINVAL;
  memcpy(u->host, p, hn);
  const char *colon =
      host_end < end && *host_end == ']' ? host_end + 1 : host_end;
  if (colon < end && *colon == ':') {
    char *e;
    long port = strtol(colon + 1, &e, 10);
    if (e != end || port <= 0 || port > 65535) return -EINVAL;
    u->port = (int)port;
  } else if (colon != end) {
    return -EINVAL;
  }
  /* Keep a prefix (a reverse proxy's path); drop /_mirrorstate/... so the
   * panel's URL, as serve prints it, works as --url. */
  if (slash) {
    const char *ms = strstr(slash, "/_mirrorstate");
    size_t n = ms ? (size_t)(ms - slash) : strlen(slash);
    while (n > 0 && slash[n - 1] == '/')
      n--;
    if (n >= sizeof u->prefix) return -EINVAL;
    memcpy(u->prefix, slash, n);
  }
  return 0;
}

int remote_http(const struct remote_url *u, const char *token,
                const char *method, const char *path, const char *body,
                size_t len, int timeout_ms, struct remote_reply *out) {
  memset(out, 0, sizeof *out);
  out->version = -1;
  struct remote_ws c;
  int rc = conn_init(&c, u, token);
  if (rc == 0) {
    c.body = body;
    c.body_len = body ? len : 0;
    rc = conn_run(&c, u, method, path, NULL, timeout_ms);
  }
  if (rc == 0) {
    out->status = c.status;
    out->version = c.version;
    out->body = c.rx ? c.rx : strdup("");
    out->len = c.rx_len;
    c.rx = NULL;
    if (!out->body) rc = -ENOMEM;
  }
  conn_close(&c);
  return rc;
}

void remote_reply_free(struct remote_reply *out) {
  free(out->body);
  memset(out, 0, sizeof *out);
}

int remote_ws_send(struct remote_ws *ws, const char *text, size_t len) {
  struct outq *m = malloc(sizeof *m + LWS_PRE + len);
  if (!m) return -ENOMEM;
  m->next = NULL;
  m->len = len;
  memcpy(m->data + LWS_PRE, text, len);
  if (ws->out_tail)
    ws->out_tail->next = m;
  else
    ws->out_head = m;
  ws->out_tail = m;
  if (ws->wsi) lws_callback_on_writable(ws->wsi);
  return 0;
}

int remote_ws_run(const struct remote_url *u, const char *token,
                  const char *path, const char *protocol, int timeout_ms,
                  remote_ws_cb cb, void *arg) {
  struct remote_ws c;
  int rc = conn_init(&c, u, token);
  if (rc == 0) {
    c.cb = cb;
    c.arg = arg;
    rc = conn_run(&c, u, NULL, path, protocol, timeout_ms);
  }
  conn_close(&c);
  return rc;
}
