/* HTTP and WebSocket with libwebsockets on the program's libuv loop. */
#include <uv.h> /* before libwebsockets.h, for its libuv declarations */

#include <libwebsockets.h>

#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "http_api.h"
#include "hub.h"
#include "log.h"
#include "portinfo.h"
#include "netif.h"
#include "protocol.h"

struct outmsg {
  int refs;
  size_t len;
  unsigned char *data; /* LWS_PRE bytes of headroom, then the text */
};

struct qitem {
  struct outmsg *m;
  struct qitem *next;
};

/* The transport's side of a session. */
struct conn {
  struct session pub;
  struct lws *wsi;
  struct transport *t;
  struct qitem *head, *tail;
  size_t pending; /* bytes queued and not yet written */
  char *rx;       /* the message being received */
  size_t rxlen, rxcap;
  int rx_skip;    /* dropping the rest of an oversized message */
  int close_code; /* non-zero: close once the queue is written */
  char close_reason[64];
};

/* Per-connection data lws allocates for us (zeroed). */
struct pss {
  struct conn *conn; /* WebSocket */
  char *body;        /* HTTP POST body */
  size_t body_len;
  char path[512];
  char query[2048];
  struct http_reply reply;
  size_t sent;
  int replying;
  int refused; /* the reply is an error made before the body */
};

struct transport {
  struct lws_context *ctx;
  uv_loop_t *loop;
  struct hub *hub;
  const struct config *cfg;
  struct access *access;
  struct session *sessions;
  int nsessions;
  int port;
  uv_timer_t close_timer; /* closes sessions from outside lws callbacks */
  int destroyed;
  struct lws_http_mount mounts[2];
  /* lws keeps pointers to the vhost names and addresses: they live here. */
  struct bind_list binds;
  char vhost_names[NETIF_MAX_ADDRS][24];
};

static struct transport *the_transport; /* lws callbacks reach it here */

/* --- outgoing messages --------------------------------------------------- */

struct outmsg *outmsg_take(char *text, size_t len) {
  struct outmsg *m = malloc(sizeof *m);
  unsigned char *data = malloc(LWS_PRE + len + 1);
  if (!m || !data) {
    free(m);
    free(data);
    free(text);
    return NULL;
  }
  memcpy(data + LWS_PRE, text, len);
  free(text);
  m->refs = 1;
  m->len = len;
  m->data = data;
  return m;
}

static struct outmsg *outmsg_new(const char *text, size_t len) {
  char *copy = malloc(len + 1);
  if (!copy) return NULL;
  memcpy(copy, text, len);
  return outmsg_take(copy, len);
}

void outmsg_unref(struct outmsg *m) {
  if (m && --m->refs == 0) {
    free(m->data);
    free(m);
  }
}

static void queue_clear(struct conn *c) {
  while (c->head) {
    struct qitem *q = c->head;
    c->head = q->next;
    outmsg_unref(q->m);
    free(q);
  }
  c->tail = NULL;
  c->pending = 0;
}

static void schedule_close(struct transport *t);

static void mark_close(struct transport *t, struct conn *c, int code,
                       const char *reason) {
  if (c->close_code) return;
  c->close_code = code;
  snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
  if (c->head || lws_send_pipe_choked(c->wsi)) {
    /* Close once lws has written what it holds, or the frame would be cut
     * short; a peer that never reads is killed after a grace period. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
    lws_callback_on_writable(c->wsi);
  } else {
    schedule_close(t);
  }
}

void transport_send(struct transport *t, struct session *s, struct outmsg *m) {
  struct conn *c = s->priv;
  if (!t || !c || c->close_code) return;
  if (c->pending + m->len > t->cfg->max_pending) {
    log_warn("client %s stopped reading (%zu bytes unsent): dropped", s->id,
             c->pending);
    queue_clear(c);
    mark_close(t, c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow");
    return;
  }
  /* Nothing queued and the socket takes more: write now. Asking lws for a
   * writable callback costs two epoll_ctl calls per message through libuv,
   * which dominated a fan-out to a thousand clients. */
  if (!c->head && !lws_send_pipe_choked(c->wsi)) {
    if (lws_write(c->wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT) < 0)
      mark_close(t, c, LWS_CLOSE_STATUS_ABNORMAL_CLOSE, "write failed");
    return;
  }
  struct qitem *q = malloc(sizeof *q);
  if (!q) return;
  m->refs++;
  q->m = m;
  q->next = NULL;
  if (c->tail)
    c->tail->next = q;
  else
    c->head = q;
  c->tail = q;
  c->pending += m->len;
  lws_callback_on_writable(c->wsi);
}

/* Sends text (copied) to s alone. */
static void send_text(struct transport *t, struct session *s, const char *text,
                      size_t len) {
  struct outmsg *m = outmsg_new(text, len);
  if (!m) return;
  transport_send(t, s, m);
  outmsg_unref(m);
}

static void on_close_timer(uv_timer_t *timer) {
  struct transport *t = timer->data;
  struct session *next;
  for (struct session *s = t->sessions; s; s = next) {
    next = s->next; /* a synchronous kill unlinks s */
    struct conn *c = s->priv;
    if (c->close_code && !c->head && c->wsi) {
      lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
                       (unsigned char *)c->close_reason,
                       strlen(c->close_reason));
      lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    }
  }
}

static void schedule_close(struct transport *t) {
  uv_timer_start(&t->close_timer, on_close_timer, 0, 0);
}

/* --- sessions ------------------------------------------------------------ */

static void now_wall(double *ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  *ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct conn *conn_open(struct transport *t, struct lws *wsi) {
  struct conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->wsi = wsi;
  c->t = t;
  c->pub.priv = c;
  now_wall(&c->pub.since_ms);
  if (lws_hdr_copy(wsi, c->pub.origin, sizeof c->pub.origin, WSI_TOKEN_ORIGIN) <
      0)
    c->pub.origin[0] = '\0';
  lws_get_peer_simple(wsi, c->pub.address, sizeof c->pub.address);
  c->pub.next = t->sessions;
  t->sessions = &c->pub;
  t->nsessions++;
  return c;
}

static void conn_close(struct transport *t, struct conn *c) {
  for (struct session **p = &t->sessions; *p; p = &(*p)->next)
    if (*p == &c->pub) {
      *p = c->pub.next;
      t->nsessions--;
      break;
    }
  hub_on_close(t->hub, &c->pub);
  queue_clear(c);
  free(c->rx);
  free(c);
}

struct session *transport_sessions(struct transport *t) {
  return t ? t->sessions : NULL;
}

int transport_session_count(const struct transport *t) {
  return t ? t->nsessions : 0;
}

int transport_port(const struct transport *t) {
  return t->port;
}

/* --- checks on every request --------------------------------------------- */

static int hdr(struct lws *wsi, enum lws_token_indexes tok, char *buf,
               int len) {
  buf[0] = '\0';
  if (lws_hdr_total_length(wsi, tok) <= 0) return 0;
  return lws_hdr_copy(wsi, buf, len, tok) >= 0;
}

/* Returns NULL if the request may go on, else why not (for the log). */
static const char *refuse_reason(struct transport *t, struct lws *wsi,
                                 const char *path, int is_ws) {
  char host[256], origin[256], auth[512], token[512];
  int has_host = hdr(wsi, WSI_TOKEN_HOST, host, sizeof host);
  if (!has_host || !access_host_ok(t->access, host))
    return "Host header not allowed (DNS rebinding defence; see --allow-host)";
  hdr(wsi, WSI_TOKEN_ORIGIN, origin, sizeof origin);
  if ((is_ws || strncmp(path, "/api", 4) == 0) &&
      !access_origin_ok(t->access, origin))
    return "Origin not allowed (see --allow-origin)";
  if (http_api_needs_token(path) || is_ws) {
    hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, auth, sizeof auth);
    /* lws returns a pointer past "token=" inside the buffer. */
    const char *qtoken =
        lws_get_urlarg_by_name(wsi, "token=", token, sizeof token);
    if (!access_token_ok(t->access, qtoken, auth))
      return "missing or wrong token";
  }
  return NULL;
}

static void log_refusal(struct lws *wsi, const char *what, const char *why) {
  char host[256], origin[256], peer[64];
  hdr(wsi, WSI_TOKEN_HOST, host, sizeof host);
  hdr(wsi, WSI_TOKEN_ORIGIN, origin, sizeof origin);
  lws_get_peer_simple(wsi, peer, sizeof peer);
  log_warn("refused %s from %s (Host: %s, Origin: %s): %s", what, peer,
           host[0] ? host : "none", origin[0] ? origin : "none", why);
}

/* --- WebSocket ----------------------------------------------------------- */

static int ws_filter(struct transport *t, struct lws *wsi) {
  char uri[512];
  if (!hdr(wsi, WSI_TOKEN_GET_URI, uri, sizeof uri) ||
      strcmp(uri, "/_mirrorstate/ws") != 0) {
    lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND,
                           "the WebSocket is at /_mirrorstate/ws");
    return 1;
  }
  const char *why = refuse_reason(t, wsi, "/ws", 1);
  if (why) {
    log_refusal(wsi, "WebSocket", why);
    lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, why);
    return 1;
  }
  if (t->nsessions >= t->cfg->max_clients) {
    log_warn("refused WebSocket: --max-clients %d reached",
             t->cfg->max_clients);
    lws_return_http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
                           "too many clients");
    return 1;
  }
  return 0;
}

/* Refuses an oversized message: the error goes out at once and the
 * connection is closed with 1009 from inside RECEIVE, where lws still
 * performs the closing handshake. Returns -1 for the callback. */
static int ws_close_too_large(struct lws *wsi) {
  lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                   (unsigned char *)"message too large", 17);
  return -1;
}

static int ws_too_large(struct transport *t, struct conn *c, struct lws *wsi) {
  char msg[128];
  snprintf(msg, sizeof msg, "message larger than %zu bytes (--max-message)",
           t->cfg->max_message);
  size_t n;
  char *text = msg_error(ERR_TOO_LARGE, msg, NULL, NULL, &n);
  unsigned char *buf = text ? malloc(LWS_PRE + n) : NULL;
  if (buf) {
    memcpy(buf + LWS_PRE, text, n);
    lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
  }
  free(buf);
  free(text);
  log_warn("client %s sent a message over %zu bytes: closed", c->pub.id,
           t->cfg->max_message);
  queue_clear(c);
  free(c->rx);
  c->rx = NULL;
  c->rxlen = c->rxcap = 0;
  /* Read the rest of the message before closing: closing a socket with
   * unread input resets it, and the peer would lose the error and the
   * close frame. */
  c->rx_skip = 1;
  return lws_is_final_fragment(wsi) ? ws_close_too_large(wsi) : 0;
}

static int ws_receive(struct transport *t, struct conn *c, const char *in,
                      size_t len, struct lws *wsi) {
  if (c->rx_skip)
    return lws_is_final_fragment(wsi) ? ws_close_too_large(wsi) : 0;
  if (c->close_code) return 0;
  if (lws_is_first_fragment(wsi)) c->rxlen = 0;
  if (c->rxlen + len > t->cfg->max_message) return ws_too_large(t, c, wsi);
  if (c->rxlen + len > c->rxcap) {
    size_t cap = c->rxcap ? c->rxcap : 4096;
    while (cap < c->rxlen + len)
      cap *= 2;
    char *rx = realloc(c->rx, cap);
    if (!rx) return ws_too_large(t, c, wsi);
    c->rx = rx;
    c->rxcap = cap;
  }
  memcpy(c->rx + c->rxlen, in, len);
  c->rxlen += len;
  if (!lws_is_final_fragment(wsi)) return 0;
  if (lws_frame_is_binary(wsi)) {
    size_t n;
    char *text = msg_error(ERR_BAD_MESSAGE, "binary frames are not supported",
                           NULL, NULL, &n);
    if (text) send_text(t, &c->pub, text, n);
    free(text);
  } else {
    hub_on_message(t->hub, &c->pub, c->rx, c->rxlen);
  }
  c->rxlen = 0;
  /* Give back a big buffer once the message is handled. */
  if (c->rxcap > 1u << 20) {
    free(c->rx);
    c->rx = NULL;
    c->rxcap = 0;
  }
  return 0;
}

static int ws_writable(struct transport *t, struct conn *c) {
  struct qitem *q = c->head;
  if (q) {
    c->head = q->next;
    if (!c->head) c->tail = NULL;
    c->pending -= q->m->len;
    int n = lws_write(c->wsi, q->m->data + LWS_PRE, q->m->len, LWS_WRITE_TEXT);
    outmsg_unref(q->m);
    free(q);
    if (n < 0) return -1;
  }
  if (c->head)
    lws_callback_on_writable(c->wsi);
  else if (c->close_code)
    schedule_close(t);
  return 0;
}

/* --- HTTP ---------------------------------------------------------------- */

static int http_send_headers(struct lws *wsi, struct pss *p) {
  unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *ptr = start,
                                     *end = buf + sizeof buf - 1;
  struct http_reply *r = &p->reply;
  if (lws_add_http_common_headers(wsi, (unsigned int)r->status, r->content_type,
                                  r->len, &ptr, end))
    return -1;
  if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                  (const unsigned char *)"no-store", 8, &ptr,
                                  end))
    return -1;
  if (r->version >= 0) {
    char v[32];
    int n = snprintf(v, sizeof v, "%lld", r->version);
    if (lws_add_http_header_by_name(
            wsi, (const unsigned char *)"x-mirrorstate-version:",
            (const unsigned char *)v, n, &ptr, end))
      return -1;
  }
  if (lws_finalize_write_http_header(wsi, start, &ptr, end)) return -1;
  p->replying = 1;
  p->sent = 0;
  lws_callback_on_writable(wsi);
  return 0;
}

static int http_handle(struct transport *t, struct lws *wsi, struct pss *p,
                       int is_post) {
  http_api_handle(t->hub, is_post, p->path, p->query, p->body, p->body_len,
                  &p->reply);
  free(p->body);
  p->body = NULL;
  return http_send_headers(wsi, p);
}

static int http_writable(struct lws *wsi, struct pss *p) {
  if (!p->replying) return 0;
  struct http_reply *r = &p->reply;
  /* Write in place: the headroom lws may use before a chunk is either our
   * own bytes already sent, or the LWS_PRE-sized gap we kept in front. */
  size_t chunk = r->len - p->sent;
  if (chunk > 65536) chunk = 65536;
  int final = p->sent + chunk == r->len;
  unsigned char *tmp = NULL;
  unsigned char *out;
  if (p->sent == 0) {
    tmp = malloc(LWS_PRE + chunk + 1);
    if (!tmp) return -1;
    memcpy(tmp + LWS_PRE, r->body, chunk);
    out = tmp + LWS_PRE;
  } else {
    out = (unsigned char *)r->body + p->sent;
  }
  int n =
      lws_write(wsi, out, chunk, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
  free(tmp);
  if (n < 0) return -1;
  p->sent += chunk;
  if (!final) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  free(r->body);
  r->body = NULL;
  p->replying = 0;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_begin(struct transport *t, struct lws *wsi, struct pss *p,
                      const char *in) {
  char uri[512];
  hdr(wsi, WSI_TOKEN_GET_URI, uri, sizeof uri);
  int is_post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
  if (is_post) hdr(wsi, WSI_TOKEN_POST_URI, uri, sizeof uri);
  if (strncmp(uri, "/_mirrorstate", 13) != 0)
    return -2; /* not ours: lws answers 404 */
  snprintf(p->path, sizeof p->path, "%s", in && *in ? in : "/");
  p->query[0] = '\0';
  int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
  if (n > 0 && n < (int)sizeof p->query) {
    /* lws splits the arguments; rejoin them with '&' for one parser. */
    char frag[2048];
    size_t len = 0;
    for (int i = 0; lws_hdr_copy_fragment(wsi, frag, sizeof frag,
                                          WSI_TOKEN_HTTP_URI_ARGS, i) > 0;
         i++)
      len += (size_t)snprintf(p->query + len, sizeof p->query - len, "%s%s",
                              len ? "&" : "", frag);
  }
  const char *why = refuse_reason(t, wsi, p->path, 0);
  int status = 403;
  if (!why && is_post &&
      lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
    /* libwebsockets 4.1 cannot read chunked request bodies. */
    why = "a POST needs a Content-Length (chunked bodies are not supported)";
    status = 411;
  }
  if (why) {
    if (status == 403) log_refusal(wsi, p->path, why);
    http_api_error(&p->reply, status,
                   status == 403 ? "forbidden" : "length_required", why);
    /* A refused POST's body is read and dropped, so the connection stays
     * usable for the client's next request. */
    p->refused = 1;
    if (is_post && status == 403) return 0;
    return http_send_headers(wsi, p);
  }
  if (is_post) return 0; /* the body follows */
  return http_handle(t, wsi, p, 0);
}

static int http_body(struct transport *t, struct pss *p, const char *in,
                     size_t len) {
  if (p->refused) return 0;
  if (p->body_len + len > t->cfg->max_message) {
    /* Read the rest and drop it, then answer: the client sees why. */
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
    http_api_error(&p->reply, 413, "too_large",
                   "the body is larger than --max-message");
    p->refused = 1;
    return 0;
  }
  char *b = realloc(p->body, p->body_len + len + 1);
  if (!b) return -1;
  memcpy(b + p->body_len, in, len);
  p->body = b;
  p->body_len += len;
  return 0;
}

/* --- the one callback ---------------------------------------------------- */

/* Serves both protocols: "http" (also WebSockets opened without a
 * subprotocol) and "mirrorstate.v1". */
static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len) {
  struct transport *t = the_transport;
  struct pss *p = user;
  switch (reason) {
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return ws_filter(t, wsi);
  case LWS_CALLBACK_ESTABLISHED:
    p->conn = conn_open(t, wsi);
    if (!p->conn) return -1;
    hub_on_open(t->hub, &p->conn->pub);
    return 0;
  case LWS_CALLBACK_RECEIVE:
    return p->conn ? ws_receive(t, p->conn, in, len, wsi) : 0;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return p->conn ? ws_writable(t, p->conn) : 0;
  case LWS_CALLBACK_CLOSED:
    /* Also reached by upgrades refused in FILTER: conn is then NULL. */
    if (p && p->conn) conn_close(t, p->conn);
    if (p) p->conn = NULL;
    return 0;
  case LWS_CALLBACK_HTTP: {
    int rc = http_begin(t, wsi, p, in);
    if (rc != -2) return rc;
    break; /* lws_callback_http_dummy answers 404 */
  }
  case LWS_CALLBACK_HTTP_BODY: return http_body(t, p, in, len);
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    if (p->refused) return http_send_headers(wsi, p);
    return http_handle(t, wsi, p, 1);
  case LWS_CALLBACK_HTTP_WRITEABLE: return http_writable(wsi, p);
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
  case LWS_CALLBACK_CLOSED_HTTP:
    if (p) {
      free(p->body);
      p->body = NULL;
      free(p->reply.body);
      p->reply.body = NULL;
      p->replying = 0;
    }
    break;
  default: break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(struct pss), 4096, 0, NULL, 0},
    {PROTOCOL_NAME, callback, sizeof(struct pss), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* lws's own lines are for debugging (-v): what went wrong is said by the
 * caller in the program's words (e.g. portinfo_explain). */
static void lws_log(int level, const char *line) {
  char buf[512];
  (void)level;
  snprintf(buf, sizeof buf, "%s", line);
  buf[strcspn(buf, "\n")] = '\0';
  log_debug("lws: %s", buf);
}

static void allow_local(const char *addr, void *arg) {
  access_allow_host(arg, addr);
}

/* Idle WebSockets get a ping after 30 s and are dropped after 60 s without
 * traffic, so dead peers (a laptop that went to sleep) do not linger. */
static const lws_retry_bo_t keepalive = {
    .secs_since_valid_ping = 30,
    .secs_since_valid_hangup = 60,
};

int transport_start(uv_loop_t *loop, const struct config *cfg,
                    const struct bind_list *binds, struct hub *hub,
                    struct transport **out) {
  struct transport *t = calloc(1, sizeof *t);
  *out = t;
  if (!t) return -1;
  t->loop = loop;
  t->cfg = cfg;
  t->hub = hub;
  t->access = access_new(cfg);
  uv_timer_init(loop, &t->close_timer);
  t->close_timer.data = t;
  the_transport = t;
  hub->transport = t;
  lws_set_log_level(log_get_level() >= LOG_DEBUG ? LLL_ERR | LLL_WARN : 0,
                    lws_log);

  struct lws_http_mount *ms = &t->mounts[0], *st = &t->mounts[1];
  ms->mountpoint = "/_mirrorstate";
  ms->mountpoint_len = 13;
  ms->origin = "http";
  ms->origin_protocol = LWSMPRO_CALLBACK;
  ms->protocol = "http";
  if (cfg->static_dir) {
    ms->mount_next = st;
    st->mountpoint = "/";
    st->mountpoint_len = 1;
    st->origin = cfg->static_dir;
    st->origin_protocol = LWSMPRO_FILE;
    st->def = "index.html";
  }

  void *foreign[] = {loop};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                 LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.foreign_loops = foreign;
  info.pt_serv_buf_size = 64 * 1024;
  t->ctx = lws_create_context(&info);
  if (!t->ctx) {
    log_error("cannot start libwebsockets (is libwebsockets-evlib-uv "
              "installed?)");
    return -1;
  }
  t->binds = *binds;
  for (int i = 0; i < t->binds.n; i++) {
    const char *addr = t->binds.addr[i];
    access_allow_host(t->access, addr);
    if (netif_is_wildcard(addr)) netif_each_local(allow_local, t->access);
    char *name = t->vhost_names[i];
    snprintf(name, sizeof t->vhost_names[i], "mirrorstate-%d", i);
    info.port = t->port ? t->port : cfg->port;
    info.protocols = protocols;
    info.mounts = ms;
    info.vhost_name = name;
    info.iface = strcmp(addr, "::") == 0 ? NULL : addr;
    info.retry_and_idle_policy = &keepalive;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                   LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    if (!strchr(addr, ':')) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    struct lws_vhost *vh = lws_create_vhost(t->ctx, &info);
    if (!vh) {
      portinfo_explain(addr, info.port);
      return -1;
    }
    if (!t->port) t->port = lws_get_vhost_listen_port(vh);
  }
  return 0;
}

void transport_shutdown(struct transport *t) {
  if (!t) return;
  for (struct session *s = t->sessions; s; s = s->next)
    mark_close(t, s->priv, LWS_CLOSE_STATUS_GOINGAWAY, "server stopping");
}

void transport_destroy(struct transport *t) {
  if (!t) return;
  if (t->ctx) lws_context_destroy(t->ctx);
  if (t->destroyed) {
    access_free(t->access);
    the_transport = NULL;
    free(t);
    return;
  }
  t->destroyed = 1;
  if (!uv_is_closing((uv_handle_t *)&t->close_timer))
    uv_close((uv_handle_t *)&t->close_timer, NULL);
}
