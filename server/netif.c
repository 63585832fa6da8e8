/* Resolving --host values to the addresses to bind, watching the
 * interfaces for addresses that come and go, and this machine's tailnet. */
#include "netif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cJSON.h>

#include "log.h"

int netif_is_loopback(const char *addr) {
  return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
         strcmp(addr, "localhost") == 0;
}

int netif_is_wildcard(const char *addr) {
  return strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0;
}

/* The numeric address of ifa, or NULL if it has none (or not IP). */
static const char *ifa_address(const struct ifaddrs *ifa, char *buf, size_t len,
                               int *linklocal) {
  if (!ifa->ifa_addr) return NULL;
  int family = ifa->ifa_addr->sa_family;
  const void *a;
  if (family == AF_INET)
    a = &((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr;
  else if (family == AF_INET6)
    a = &((const struct sockaddr_in6 *)(const void *)ifa->ifa_addr)->sin6_addr;
  else
    return NULL;
  *linklocal =
      family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)a);
  return inet_ntop(family, a, buf, (socklen_t)len);
}

void netif_each_local(void (*fn)(const char *addr, void *arg), void *arg) {
  struct ifaddrs *ifs;
  if (getifaddrs(&ifs) != 0) return;
  for (struct ifaddrs *ifa = ifs; ifa; ifa = ifa->ifa_next) {
    char buf[INET6_ADDRSTRLEN];
    int linklocal;
    if (ifa_address(ifa, buf, sizeof buf, &linklocal)) fn(buf, arg);
  }
  freeifaddrs(ifs);
}

int netif_addresses(const char *ifname, char (*out)[NETIF_ADDR_LEN], int max) {
  struct ifaddrs *ifs;
  if (getifaddrs(&ifs) != 0) return -1;
  int n = 0;
  for (struct ifaddrs *ifa = ifs; ifa && n < max; ifa = ifa->ifa_next) {
    char buf[INET6_ADDRSTRLEN];
    int linklocal, dup = 0;
    if (ifname && strcmp(ifa->ifa_name, ifname) != 0) continue;
    if (!ifa_address(ifa, buf, sizeof buf, &linklocal) || (ifname && linklocal))
      continue;
    for (int i = 0; i < n && !dup; i++)
      dup = strcmp(out[i], buf) == 0;
    if (!dup) snprintf(out[n++], NETIF_ADDR_LEN, "%s", buf);
  }
  freeifaddrs(ifs);
  return n;
}

int netif_has_interface(const char *ifname) {
  return if_nametoindex(ifname) != 0;
}

static void add(struct bind_list *out, const char *addr) {
  for (int i = 0; i < out->n; i++)
    if (strcmp(out->addr[i], addr) == 0) return;
  if (out->n >= NETIF_MAX_ADDRS) return;
  snprintf(out->addr[out->n++], NETIF_ADDR_LEN, "%s", addr);
  if (!netif_is_loopback(addr)) out->public = 1;
}

int netif_resolve(const char *const *hosts, int nhosts, struct bind_list *out) {
  memset(out, 0, sizeof *out);
  /* A wildcard covers loopback and tailscale0's addresses, late ones too:
   * "tailscale" beside it adds nothing (a second bind would collide). */
  int tailscale = 0, wildcard = 0;
  for (int i = 0; i < nhosts; i++)
    wildcard |= netif_is_wildcard(hosts[i]) || !strcmp(hosts[i], "[::]");
  for (int i = 0; i < nhosts; i++) {
    const char *h = hosts[i];
    if (strcmp(h, "tailscale") == 0) {
      tailscale = 1;
      if (!wildcard) add(out, "127.0.0.1");
      continue;
    }
    if (strcmp(h, "localhost") == 0) h = "127.0.0.1";
    unsigned char probe[sizeof(struct in6_addr)];
    char bare[NETIF_ADDR_LEN];
    snprintf(bare, sizeof bare, "%s", h[0] == '[' ? h + 1 : h);
    bare[strcspn(bare, "]")] = '\0';
    if (inet_pton(AF_INET, bare, probe) != 1 &&
        inet_pton(AF_INET6, bare, probe) != 1) {
      log_error("--host %s: not an IP address (use an address, 0.0.0.0, :: "
                "or 'tailscale')",
                h);
      return -1;
    }
    add(out, bare);
  }
  if (tailscale && !wildcard) out->follow = NETIF_TAILSCALE;
  return 0;
}

/* --- watching the interfaces --------------------------------------------- */

struct netif_watch {
  uv_poll_t poll;
  int fd;
  void (*changed)(void *arg);
  void *arg;
};

static void watch_read(uv_poll_t *p, int status, int events) {
  struct netif_watch *w = p->data;
  (void)events;
  int changed = status < 0;
  /* Aligned for the netlink headers read from it. */
  static long buf[8192 / sizeof(long)];
  for (;;) {
    ssize_t n = recv(w->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) { /* messages were lost: look again */
      changed = 1;
      continue;
    }
    if (n <= 0) break;
    size_t left = (size_t)n;
    for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
         NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
      if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR ||
          h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
        changed = 1;
  }
  if (changed) w->changed(w->arg);
}

struct netif_watch *netif_watch_start(uv_loop_t *loop,
                                      void (*changed)(void *arg), void *arg) {
  struct netif_watch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->changed = changed;
  w->arg = arg;
  w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 NETLINK_ROUTE);
  struct sockaddr_nl sa = {
      .nl_family = AF_NETLINK,
      .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
  };
  int rc;
  if (w->fd < 0 || bind(w->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
    rc = -errno;
  else
    rc = uv_poll_init(loop, &w->poll, w->fd);
  if (rc != 0) {
    log_warn("cannot watch the network interfaces (netlink: %s)",
             strerror(-rc));
    if (w->fd >= 0) close(w->fd);
    free(w);
    return NULL;
  }
  w->poll.data = w;
  uv_poll_start(&w->poll, UV_READABLE, watch_read);
  return w;
}

static void watch_closed(uv_handle_t *h) {
  struct netif_watch *w = h->data;
  close(w->fd);
  free(w);
}

void netif_watch_stop(struct netif_watch *w) {
  if (!w) return;
  uv_close((uv_handle_t *)&w->poll, watch_closed);
}

/* --- this machine's tailnet ---------------------------------------------- */

void netif_tailnet_domains(void (*fn)(const char *domain, void *arg),
                           void *arg) {
  const char *path = getenv("MIRRORSTATE_RESOLV_CONF");
  FILE *f = fopen(path && *path ? path : "/etc/resolv.conf", "r");
  if (!f) return;
  char line[1024];
  while (fgets(line, sizeof line, f)) {
    char *save = NULL;
    char *word = strtok_r(line, " \t\r\n", &save);
    if (!word || (strcmp(word, "search") && strcmp(word, "domain"))) continue;
    while ((word = strtok_r(NULL, " \t\r\n", &save))) {
      size_t n = strlen(word);
      if (n > 1 && word[n - 1] == '.') word[--n] = '\0';
      if (n > 7 && strcasecmp(word + n - 7, ".ts.net") == 0) fn(word, arg);
    }
  }
  fclose(f);
}

#define TAILSCALE_TIMEOUT_MS 2000
#define TAILSCALE_MAX_OUTPUT (1u << 20)

struct netif_tailscale {
  uv_process_t proc;
  uv_pipe_t out;
  uv_timer_t timer;
  void (*cb)(const char *dns_name, void *arg);
  void *arg;
  char *buf;
  size_t len;
  int open_handles;
  int exited, eof, killed, finished;
  int64_t status;
};

static void ts_closed(uv_handle_t *h) {
  struct netif_tailscale *q = h->data;
  if (--q->open_handles == 0) {
    free(q->buf);
    free(q);
  }
}

static void ts_close_all(struct netif_tailscale *q) {
  uv_handle_t *hs[] = {(uv_handle_t *)&q->proc, (uv_handle_t *)&q->out,
                       (uv_handle_t *)&q->timer};
  for (size_t i = 0; i < 3; i++)
    if (!uv_is_closing(hs[i])) uv_close(hs[i], ts_closed);
}

/* Self.DNSName of `tailscale status --json`, or NULL. */
static char *ts_dns_name(const char *text, size_t len) {
  cJSON *root = cJSON_ParseWithLength(text, len);
  const cJSON *self = cJSON_GetObjectItemCaseSensitive(root, "Self");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(self, "DNSName");
  char *out = cJSON_IsString(name) && name->valuestring[0]
                  ? strdup(name->valuestring)
                  : NULL;
  cJSON_Delete(root);
  return out;
}

static void ts_finish(struct netif_tailscale *q) {
  if (q->finished) return;
  q->finished = 1;
  char *name = NULL;
  if (q->exited && !q->killed && q->status == 0 && q->buf)
    name = ts_dns_name(q->buf, q->len);
  if (q->killed)
    log_warn("tailscale status did not answer within %d ms: killed; only "
             "the resolv.conf tailnet (if any) is allowed",
             TAILSCALE_TIMEOUT_MS);
  q->cb(name, q->arg);
  free(name);
  if (!q->exited && !q->killed) uv_process_kill(&q->proc, SIGKILL);
  ts_close_all(q);
}

static void ts_on_exit(uv_process_t *p, int64_t status, int signal) {
  struct netif_tailscale *q = p->data;
  (void)signal;
  q->exited = 1;
  q->status = status;
  /* A killed command may leave a child holding the pipe: do not wait. */
  if (q->eof || q->killed) ts_finish(q);
}

static void ts_alloc(uv_handle_t *h, size_t want, uv_buf_t *b) {
  static char chunk[65536];
  (void)h;
  (void)want;
  *b = uv_buf_init(chunk, sizeof chunk);
}

static void ts_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  struct netif_tailscale *q = s->data;
  if (n > 0) {
    char *grown = q->len + (size_t)n <= TAILSCALE_MAX_OUTPUT
                      ? realloc(q->buf, q->len + (size_t)n)
                      : NULL;
    if (!grown) {
      uv_read_stop(s);
      q->eof = 1;
      free(q->buf);
      q->buf = NULL;
      q->len = 0;
      if (q->exited) ts_finish(q);
      return;
    }
    memcpy(grown + q->len, b->base, (size_t)n);
    q->buf = grown;
    q->len += (size_t)n;
  } else if (n < 0) {
    uv_read_stop(s);
    q->eof = 1;
    if (q->exited) ts_finish(q);
  }
}

static void ts_on_timer(uv_timer_t *t) {
  struct netif_tailscale *q = t->data;
  if (q->exited || q->killed) {
    ts_finish(q); /* exited, but its output never ended; or unkillable */
    return;
  }
  q->killed = 1;
  uv_process_kill(&q->proc, SIGKILL);
  uv_timer_start(&q->timer, ts_on_timer, TAILSCALE_TIMEOUT_MS, 0);
}

/* Non-zero if cmd names an executable file, directly or on $PATH. Checked
 * first so that a machine without the CLI forks nothing. */
static int have_command(const char *cmd) {
  if (strchr(cmd, '/')) return access(cmd, X_OK) == 0;
  const char *path = getenv("PATH");
  char file[4096];
  for (const char *p = path; p && *p;) {
    size_t n = strcspn(p, ":");
    if (n && n + strlen(cmd) + 2 <= sizeof file) {
      snprintf(file, sizeof file, "%.*s/%s", (int)n, p, cmd);
      if (access(file, X_OK) == 0) return 1;
    }
    p += n;
    if (*p == ':') p++;
  }
  return 0;
}

struct netif_tailscale *
netif_tailscale_start(uv_loop_t *loop,
                      void (*cb)(const char *dns_name, void *arg), void *arg) {
  const char *cmd = getenv("MIRRORSTATE_TAILSCALE");
  if (!cmd) cmd = "tailscale";
  if (!*cmd || !have_command(cmd)) return NULL;
  struct netif_tailscale *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->cb = cb;
  q->arg = arg;
  q->proc.data = q->out.data = q->timer.data = q;
  uv_pipe_init(loop, &q->out, 0);
  uv_timer_init(loop, &q->timer);
  q->open_handles = 3;
  char *args[] = {(char *)cmd, "status", "--json", "--peers=false", NULL};
  uv_stdio_container_t stdio[3] = {
      {.flags = UV_IGNORE},
      {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
       .data.stream = (uv_stream_t *)&q->out},
      {.flags = UV_IGNORE},
  };
  uv_process_options_t opts = {
      .exit_cb = ts_on_exit,
      .file = cmd,
      .args = args,
      .stdio_count = 3,
      .stdio = stdio,
  };
  int rc = uv_spawn(loop, &q->proc, &opts);
  if (rc != 0) {
    log_debug("tailscale CLI not run (%s): %s", cmd, uv_strerror(rc));
    q->finished = 1;
    ts_close_all(q);
    return NULL;
  }
  uv_read_start((uv_stream_t *)&q->out, ts_alloc, ts_on_read);
  uv_timer_start(&q->timer, ts_on_timer, TAILSCALE_TIMEOUT_MS, 0);
  return q;
}

void netif_tailscale_stop(struct netif_tailscale *q) {
  if (!q || q->finished) return;
  q->finished = 1;
  if (!q->exited) uv_process_kill(&q->proc, SIGKILL);
  ts_close_all(q);
}
