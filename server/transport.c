/* HTTP and WebSocket with libwebsockets on the program's libuv loop: the
 * context, its vhosts and the WebSocket sessions. Requests and the access
 * check are in transport_http.c. */
#include "transport_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access.h"
#include "isotime.h"
#include "log.h"
#include "portinfo.h"
#include "netif.h"
#include "protocol.h"
#include "static.h"

_Static_assert(OUTMSG_HEADROOM >= LWS_PRE,
               "outgoing messages need the headroom lws writes into");

/* All of one request's headers that lws keeps: room for one header of the
 * longest size read (8 KiB, see transport_http.c) and the rest. */
#define TRANSPORT_HEADER_SPACE 16384

struct qitem {
  struct outmsg *m;
  struct qitem *next;
};

/* The transport's side of a session (pub first: a session is its conn). */
struct conn {
  struct session pub;
  struct conn *next;
  struct lws *wsi;
  struct transport *t;
  struct qitem *head, *tail;
  size_t pending; /* bytes queued and not yet written */
  char *rx;       /* the message being received */
  size_t rxlen, rxcap;
  int rx_skip;    /* dropping the rest of an oversized message */
  int close_code; /* non-zero: close once the queue is written */
  char close_reason[64];
  uint64_t sent_turn; /* the loop turn of its last direct write */
  struct conn *next_corked;
  int corked;
};

/* --- outgoing messages --------------------------------------------------- */

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

/* --- corking ----------------------------------------------------------- *
 *
 * A burst of messages to one client in one loop turn (the acks of a
 * client's patches read in one go, the broadcasts an observer gets for
 * them) would be one TCP segment, one wake-up of the reader and one pass
 * through the loopback stack each. From the second message of a turn on,
 * the socket is corked (TCP_CORK), and every corked socket is uncorked,
 * sending what it holds in full segments, when the turn's I/O is done
 * (uv_check) or before the loop waits again (uv_prepare). A single message,
 * the common case, costs nothing more. */

static void cork(struct transport *t, struct conn *c) {
  int fd = lws_get_socket_fd(c->wsi), one = 1;
  if (c->corked || fd < 0 ||
      setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one) != 0)
    return;
  c->corked = 1;
  c->next_corked = t->corked;
  t->corked = c;
}

static void uncork(struct conn *c) {
  int fd = lws_get_socket_fd(c->wsi), zero = 0;
  if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero);
  c->corked = 0;
}

static void uncork_all(struct transport *t) {
  t->turn++;
  while (t->corked) {
    struct conn *c = t->corked;
    t->corked = c->next_corked;
    uncork(c);
  }
}

static void on_turn_start(uv_prepare_t *p) {
  uncork_all(p->data);
}

static void on_turn_end(uv_check_t *h) {
  uncork_all(h->data);
}

/* Takes c off the corked list (it is closing). */
static void forget_cork(struct transport *t, struct conn *c) {
  for (struct conn **p = &t->corked; *p; p = &(*p)->next_corked)
    if (*p == c) {
      *p = c->next_corked;
      break;
    }
  c->corked = 0;
}

void transport_send(struct transport *t, struct session *s, struct outmsg *m) {
  struct conn *c = (struct conn *)s;
  if (!t || !c || c->close_code) return;
  if (c->pending + m->len > t->cfg->max_pending) {
    log_warn("client %s stopped reading (%zu bytes unsent): dropped", s->id,
             c->pending);
    queue_clear(c);
    mark_close(t, c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow");
    return;
  }
  /* Nothing queued: write now. Asking lws for a writable callback costs
   * two epoll_ctl calls per message through libuv, which dominated a
   * fan-out to a thousand clients. What the socket does not take, lws
   * keeps and writes first when it can (lws_partial_buffered tells, with
   * no system call: lws_send_pipe_choked polls the socket). */
  if (!c->head && !lws_partial_buffered(c->wsi)) {
    if (c->sent_turn == t->turn) cork(t, c);
    c->sent_turn = t->turn;
    if (lws_write(c->wsi, outmsg_text(m), m->len, LWS_WRITE_TEXT) < 0)
      mark_close(t, c, LWS_CLOSE_STATUS_ABNORMAL_CLOSE, "write failed");
    return;
  }
  struct qitem *q = malloc(sizeof *q);
  if (!q) return;
  outmsg_ref(m);
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

/* Sends text (malloc'd, taken) to s alone. */
static void send_text(struct transport *t, struct session *s, char *text,
                      size_t len) {
  struct outmsg *m = outmsg_take(text, len);
  if (!m) return;
  transport_send(t, s, m);
  outmsg_unref(m);
}

static void on_close_timer(uv_timer_t *timer) {
  struct transport *t = timer->data;
  struct conn *next;
  for (struct conn *c = t->conns; c; c = next) {
    next = c->next; /* a synchronous kill unlinks c */
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

static void conn_free(struct conn *c) {
  queue_clear(c);
  free(c->rx);
  free(c->pub.origin);
  free(c);
}

static void conn_unlink(struct transport *t, struct conn *c) {
  for (struct conn **p = &t->conns; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      t->nsessions--;
      return;
    }
}

/* A new WebSocket, announced with on_open; NULL if refused. */
static struct conn *conn_open(struct transport *t, struct lws *wsi) {
  struct conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->wsi = wsi;
  c->t = t;
  snprintf(c->pub.id, sizeof c->pub.id, "c%llu",
           (unsigned long long)++t->next_id);
  c->pub.since_ms = isotime_now_ms();
  c->pub.origin = http_ws_origin(wsi);
  if (!c->pub.origin) {
    free(c);
    return NULL;
  }
  lws_get_peer_simple(wsi, c->pub.address, sizeof c->pub.address);
  c->next = t->conns;
  t->conns = c;
  t->nsessions++;
  if (t->ev.on_open && t->ev.on_open(t->ev.arg, &c->pub) != 0) {
    conn_unlink(t, c);
    conn_free(c);
    return NULL;
  }
  return c;
}

static void conn_close(struct transport *t, struct conn *c) {
  conn_unlink(t, c);
  if (c->corked) forget_cork(t, c);
  if (t->ev.on_close) t->ev.on_close(t->ev.arg, &c->pub);
  conn_free(c);
}

int transport_session_count(const struct transport *t) {
  return t ? t->nsessions : 0;
}

int transport_port(const struct transport *t) {
  return t->port;
}

/* --- WebSocket ----------------------------------------------------------- */

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
  /* A message that arrives whole (nearly all of them) is handled where
   * lws has it: no copy, and no buffer kept per session (4 KiB each, a
   * thousand clients' worth of memory). */
  if (c->rxlen == 0 && lws_is_final_fragment(wsi) &&
      !lws_frame_is_binary(wsi)) {
    if (t->ev.on_message) t->ev.on_message(t->ev.arg, &c->pub, in, len);
    return 0;
  }
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
    send_text(t, &c->pub, text, n);
  } else if (t->ev.on_message) {
    t->ev.on_message(t->ev.arg, &c->pub, c->rx, c->rxlen);
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
    int n = lws_write(c->wsi, outmsg_text(q->m), q->m->len, LWS_WRITE_TEXT);
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

/* --- the one callback ---------------------------------------------------- */

/* Serves both protocols: "http" (also WebSockets opened without a
 * subprotocol) and "mirrorstate.v1". */
static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len) {
  struct transport *t = wsi ? lws_context_user(lws_get_context(wsi)) : NULL;
  struct pss *p = user;
  if (!t) return lws_callback_http_dummy(wsi, reason, user, in, len);
  switch (reason) {
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return http_ws_filter(t, wsi);
  case LWS_CALLBACK_ESTABLISHED:
    p->conn = conn_open(t, wsi);
    return p->conn ? 0 : -1;
  case LWS_CALLBACK_RECEIVE:
    return p->conn ? ws_receive(t, p->conn, in, len, wsi) : 0;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return p->conn ? ws_writable(t, p->conn) : 0;
  case LWS_CALLBACK_CLOSED:
    /* Also reached by upgrades refused in FILTER: conn is then NULL. */
    if (p && p->conn) conn_close(t, p->conn);
    if (p) p->conn = NULL;
    return 0;
  default: {
    int rc = http_callback(t, wsi, reason, p, in, len);
    if (rc != -2) return rc;
    break;
  }
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(struct pss), 4096, 0, NULL, 0},
    /* tx_packet_size: lws writes at most this much of a message in one
     * go (by default the rx buffer size, 4 KiB), copying the rest aside
     * for later loop turns; a snapshot goes out whole, as far as the
     * socket takes it. */
    {PROTOCOL_NAME, callback, sizeof(struct pss), 4096, 0, NULL, 1u << 24},
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

/* Idle WebSockets get a ping after 30 s and are dropped after 60 s without
 * traffic, so dead peers (a laptop that went to sleep) do not linger. */
static const lws_retry_bo_t keepalive = {
    .secs_since_valid_ping = 30,
    .secs_since_valid_hangup = 60,
};

/* The answer of `tailscale status`: this machine's own tailnet name. */
static void on_tailscale(const char *dns_name, void *arg) {
  struct transport *t = arg;
  t->tailscale = NULL; /* done: the query frees itself */
  if (!dns_name) return;
  access_set_tailnet_name(t->access, dns_name);
  log_info("tailnet: this machine is %s (tailscale status)", dns_name);
}

static void on_tailnet_domain(const char *domain, void *arg) {
  access_add_tailnet_domain(arg, domain);
}

/* The name and value of the static-files cookie: a random key of this run,
 * never the token itself. Without randomness, no cookie is offered. */
static void make_cookie(struct transport *t) {
  unsigned char key[16];
  snprintf(t->cookie_name, sizeof t->cookie_name, "mirrorstate_%d", t->port);
  if (getrandom(key, sizeof key, GRND_NONBLOCK) != (ssize_t)sizeof key) return;
  for (size_t i = 0; i < sizeof key; i++)
    snprintf(t->cookie_value + 2 * i, 3, "%02x", key[i]);
}

int transport_start(uv_loop_t *loop, const struct config *cfg,
                    const struct bind_list *binds,
                    const struct transport_events *ev, struct transport **out) {
  struct transport *t = calloc(1, sizeof *t);
  *out = t;
  if (!t) return -1;
  t->loop = loop;
  t->cfg = cfg;
  t->ev = *ev;
  uv_timer_init(loop, &t->close_timer);
  t->close_timer.data = t;
  uv_prepare_init(loop, &t->turn_start);
  uv_check_init(loop, &t->turn_end);
  t->turn_start.data = t->turn_end.data = t;
  t->turn = 1; /* a new session's sent_turn (0) is no turn */
  uv_prepare_start(&t->turn_start, on_turn_start);
  uv_check_start(&t->turn_end, on_turn_end);
  /* They run on every turn but must not keep the loop alive. */
  uv_unref((uv_handle_t *)&t->turn_start);
  uv_unref((uv_handle_t *)&t->turn_end);
  lws_set_log_level(log_get_level() >= MS_LOG_DEBUG ? LLL_ERR | LLL_WARN : 0,
                    lws_log);
  if (access_new(cfg, &t->access) != 0) return -1;
  if (cfg->static_dir && static_new(cfg, &t->statics) != 0) return -1;
  netif_tailnet_domains(on_tailnet_domain, t->access);
  http_init_vhost_headers(t);

  void *foreign[] = {loop};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                 LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.foreign_loops = foreign;
  info.user = t; /* lws_context_user() in the callback */
  info.pt_serv_buf_size = 64 * 1024;
  info.max_http_header_data = TRANSPORT_HEADER_SPACE;
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
    char *name = t->vhost_names[i];
    snprintf(name, sizeof t->vhost_names[i], "mirrorstate-%d", i);
    info.port = t->port ? t->port : cfg->port;
    info.protocols = protocols;
    /* No mounts: every request reaches the callback and its check. */
    info.mounts = NULL;
    info.headers = t->vhost_headers;
    info.vhost_name = name;
    info.iface = strcmp(addr, "::") == 0 ? NULL : addr;
    info.retry_and_idle_policy = &keepalive;
    /* Without FAIL_UPON_UNABLE_TO_BIND, an address that is not this
     * machine's gives a vhost that retries in silence. */
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                   LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    if (!strchr(addr, ':')) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    struct lws_vhost *vh = lws_create_vhost(t->ctx, &info);
    if (!vh) {
      portinfo_explain(addr, info.port);
      return -1;
    }
    if (!t->vhost) t->vhost = vh;
    if (!t->port) t->port = lws_get_vhost_listen_port(vh);
  }
  make_cookie(t);
  t->tailscale = netif_tailscale_start(loop, on_tailscale, t);
  return 0;
}

/* --- listeners that come and go ---------------------------------------
 * An address that appears while serving (--host tailscale) is listened on
 * with a socket of the transport's own, polled on the loop; a connection
 * accepted there is handed to libwebsockets (lws_adopt_descriptor_vhost,
 * what lws's own listeners do on accept) and from then on is like any
 * other. A vhost created at run time would listen as well, but lws 4.1.6
 * cannot close its listener again: lws_vhost_destroy hands the socket to
 * another vhost on the same port, so the address stays bound, and the
 * context's destroy then fails an assertion. See docs/design.md. */

struct listener {
  uv_poll_t poll;
  uv_timer_t pause; /* out of descriptors: accept again a second later */
  struct listener *next;
  struct transport *t;
  int fd;
  int open_handles;
  char addr[NETIF_ADDR_LEN];
};

static void listener_closed(uv_handle_t *h) {
  struct listener *l = h->data;
  if (--l->open_handles == 0) free(l);
}

/* The socket is closed at once (libuv lets go of it in uv_close), so the
 * address is free when this returns. */
static void listener_close(struct listener *l) {
  uv_close((uv_handle_t *)&l->poll, listener_closed);
  uv_close((uv_handle_t *)&l->pause, listener_closed);
  close(l->fd);
}

static void listener_accept(uv_poll_t *p, int status, int events);

static void listener_resume(uv_timer_t *timer) {
  struct listener *l = timer->data;
  uv_poll_start(&l->poll, UV_READABLE, listener_accept);
}

static void listener_accept(uv_poll_t *p, int status, int events) {
  struct listener *l = p->data;
  (void)events;
  if (status < 0) return;
  /* A bounded batch per wakeup, so one busy listener cannot hold the
   * loop; the rest wait for the next turn. */
  for (int i = 0; i < 64; i++) {
    int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        log_warn("cannot accept a connection on %s: %s (trying again in "
                 "a second)",
                 l->addr, strerror(errno));
        uv_poll_stop(&l->poll);
        uv_timer_start(&l->pause, listener_resume, 1000, 0);
      }
      return; /* EAGAIN, or a connection that went before it was taken */
    }
    /* lws sets this on the connections of its own listeners. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    lws_sock_file_fd_type sock = {.sockfd = fd};
    /* On failure lws closes fd itself. */
    if (!lws_adopt_descriptor_vhost(
            l->t->vhost, LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP, sock, NULL, NULL))
      log_debug("connection on %s dropped: libwebsockets did not take it",
                l->addr);
  }
}

/* A listening socket on addr:port. Returns it, or -errno. */
static int listen_socket(const char *addr, int port) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
  int v6 = strchr(addr, ':') != NULL;
  socklen_t len = v6 ? sizeof *a6 : sizeof *a4;
  if (v6) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, addr, &a6->sin6_addr) != 1) return -EINVAL;
  } else {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &a4->sin_addr) != 1) return -EINVAL;
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET,
                  SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  /* A new IPv6 address is unusable until duplicate address detection
   * ends (a second or so); the address is this machine's, so bind now. */
  setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, SOMAXCONN)) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

int transport_listen(struct transport *t, const char *addr) {
  for (struct listener *l = t->listeners; l; l = l->next)
    if (strcmp(l->addr, addr) == 0) return 0;
  if (!t->vhost || t->destroyed) return -EINVAL;
  int fd = listen_socket(addr, t->port);
  if (fd < 0) return fd;
  struct listener *l = calloc(1, sizeof *l);
  if (!l || uv_poll_init(t->loop, &l->poll, fd) != 0) {
    free(l);
    close(fd);
    return -ENOMEM;
  }
  uv_timer_init(t->loop, &l->pause);
  l->poll.data = l->pause.data = l;
  l->open_handles = 2;
  l->fd = fd;
  l->t = t;
  snprintf(l->addr, sizeof l->addr, "%s", addr);
  l->next = t->listeners;
  t->listeners = l;
  uv_poll_start(&l->poll, UV_READABLE, listener_accept);
  access_allow_host(t->access, addr);
  return 0;
}

/* Non-zero if wsi's connection was made to addr. */
static int arrived_at(struct lws *wsi, const char *addr) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char buf[INET6_ADDRSTRLEN];
  int fd = lws_get_socket_fd(wsi);
  if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return 0;
  const void *a = ss.ss_family == AF_INET6
                      ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                      : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
  return inet_ntop(ss.ss_family, a, buf, sizeof buf) && !strcmp(buf, addr);
}

int transport_unlisten(struct transport *t, const char *addr) {
  struct listener **p = &t->listeners;
  while (*p && strcmp((*p)->addr, addr) != 0)
    p = &(*p)->next;
  struct listener *l = *p;
  if (!l) return -1;
  *p = l->next;
  listener_close(l);
  access_forget_host(t->access, addr);
  /* Their peers can no longer reach this end: close them now rather than
   * when the keepalive gives up. */
  int closed = 0;
  for (struct conn *c = t->conns; c; c = c->next)
    if (!c->close_code && arrived_at(c->wsi, addr)) {
      mark_close(t, c, LWS_CLOSE_STATUS_GOINGAWAY, "address gone");
      closed++;
    }
  return closed;
}

void transport_allow_host(struct transport *t, const char *host, int allow) {
  if (allow)
    access_allow_host(t->access, host);
  else
    access_forget_host(t->access, host);
}

void transport_shutdown(struct transport *t) {
  if (!t) return;
  for (struct conn *c = t->conns; c; c = c->next)
    mark_close(t, c, LWS_CLOSE_STATUS_GOINGAWAY, "server stopping");
}

void transport_destroy(struct transport *t) {
  if (!t) return;
  if (t->ctx) lws_context_destroy(t->ctx);
  netif_tailscale_stop(t->tailscale);
  t->tailscale = NULL;
  if (t->destroyed) {
    access_free(t->access);
    static_free(t->statics);
    free(t);
    return;
  }
  t->destroyed = 1;
  while (t->listeners) {
    struct listener *l = t->listeners;
    t->listeners = l->next;
    listener_close(l);
  }
  if (!uv_is_closing((uv_handle_t *)&t->close_timer)) {
    uv_close((uv_handle_t *)&t->close_timer, NULL);
    uv_close((uv_handle_t *)&t->turn_start, NULL);
    uv_close((uv_handle_t *)&t->turn_end, NULL);
  }
}
