/* The server: one libuv loop that libwebsockets and inotify share. */
#include "server.h"

#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "claim.h"
#include "eventlog.h"
#include "http_api.h"
#include "hub.h"
#include "json_alloc.h"
#include "log.h"
#include "mirror.h"
#include "netif.h"
#include "openurl.h"
#include "portinfo.h"
#include "progress.h"
#include "registry.h"
#include "runtime.h"
#include "transport.h"

#define EVENTLOG_MAX_BYTES (16u << 20)
#define FOLLOW_MAX 128

/* An address of a followed interface (--host tailscale: listened on), or
 * of this machine (a wildcard --host: accepted as Host). */
struct followed {
  char addr[NETIF_ADDR_LEN];
  int active; /* listened on, or accepted */
  int warned; /* a failure to listen was logged */
};

/* Everything `serve` runs; server.c owns each part and wires them. */
struct server {
  const struct config *cfg;
  uv_loop_t loop;
  uv_signal_t sigint, sigterm;
  uv_timer_t stop_timer;
  uv_timer_t hub_timer;        /* the hub's syncs waiting for pages */
  struct store store;          /* the states */
  struct eventlog *log;        /* --log, or NULL */
  struct hub *hub;             /* messages meet states */
  struct mirror *mirror;       /* the files */
  struct transport *transport; /* HTTP and WebSocket */
  struct claims *claims;       /* the lock files on what it mirrors */
  int owns_runtime; /* the runtime file is ours to write and remove */
  struct registry_entry *registry; /* this server in the user's registry */
  struct bind_list binds;          /* what --host resolved to */
  struct netif_watch *watch;       /* address changes, when followed */
  struct followed follow[FOLLOW_MAX];
  int nfollow;
  int port;
  int stopping;
};

static void print_url(const char *host, int port) {
  int v6 = strchr(host, ':') != NULL;
  printf("http://%s%s%s:%d/_mirrorstate/\n", v6 ? "[" : "", host, v6 ? "]" : "",
         port);
}

/* One line per URL a person can use: the bound addresses (loopback for a
 * wildcard), those of a followed interface listened on, and, when
 * reachable from other machines, the host name, which is also the
 * MagicDNS short name on a tailnet. */
static void print_urls(const struct server *srv) {
  const struct bind_list *binds = &srv->binds;
  int port = srv->port, public = binds->public;
  for (int i = 0; i < binds->n; i++)
    print_url(netif_is_wildcard(binds->addr[i]) ? "127.0.0.1" : binds->addr[i],
              port);
  for (int i = 0; binds->follow && i < srv->nfollow; i++)
    if (srv->follow[i].active) {
      print_url(srv->follow[i].addr, port);
      public = 1;
    }
  char host[256];
  if (public && gethostname(host, sizeof host) == 0) {
    host[strcspn(host, ".")] = '\0';
    print_url(host, port);
  }
  fflush(stdout);
}

/* "http://127.0.0.1:7420": the first address bound (loopback for a
 * wildcard), as the CLI and a browser on this machine reach it. */
static void local_base(const struct bind_list *binds, int port, char *out,
                       size_t outlen) {
  const char *a =
      netif_is_wildcard(binds->addr[0]) ? "127.0.0.1" : binds->addr[0];
  if (!strcmp(binds->addr[0], "::")) a = "::1";
  int v6 = strchr(a, ':') != NULL;
  snprintf(out, outlen, "http://%s%s%s:%d", v6 ? "[" : "", a, v6 ? "]" : "",
           port);
}

/* What loading cfg's files is, for the progress line. */
static void load_label(const struct config *cfg, char *out, size_t outlen) {
  double bytes = 0;
  for (int i = 0; i < cfg->nfiles; i++) {
    struct stat sb;
    if (stat(cfg->files[i], &sb) == 0) bytes += (double)sb.st_size;
  }
  const char *slash = cfg->nfiles ? strrchr(cfg->files[0], '/') : NULL;
  if (cfg->nfiles == 1 && cfg->ndirs == 0)
    snprintf(out, outlen, "%s (%.1f MiB)", slash ? slash + 1 : cfg->files[0],
             bytes / 1048576);
  else if (cfg->ndirs == 0)
    snprintf(out, outlen, "%d files (%.1f MiB)", cfg->nfiles, bytes / 1048576);
  else
    snprintf(out, outlen, "the states below %s%s", cfg->dirs[0],
             cfg->ndirs + cfg->nfiles > 1 ? " and more" : "");
}

/* --- the wiring ---------------------------------------------------------
 * The only place where the parts meet: the transport's and the mirror's
 * events go to the hub (and requests to the HTTP API), the hub's sends go
 * to the transport and its look-ups and saves to the mirror. Nothing else
 * calls across these lines. */

static int ws_open(void *arg, struct session *s) {
  struct server *srv = arg;
  return hub_on_open(srv->hub, s);
}

static void ws_message(void *arg, struct session *s, const char *buf,
                       size_t len) {
  struct server *srv = arg;
  hub_on_message(srv->hub, s, buf, len);
}

static void ws_close(void *arg, struct session *s) {
  struct server *srv = arg;
  hub_on_close(srv->hub, s);
}

static void http_request(void *arg, const struct http_request *req,
                         struct http_reply *reply) {
  struct server *srv = arg;
  http_api_handle(srv->hub, req, reply);
}

static void file_changed(void *arg, struct state *st, const cJSON *ops) {
  struct server *srv = arg;
  hub_changed(srv->hub, st, ops, "file");
}

static void file_appeared(void *arg, struct state *st, const cJSON *ops) {
  struct server *srv = arg;
  hub_appeared(srv->hub, st, ops);
}

static void file_status(void *arg, struct state *st) {
  struct server *srv = arg;
  hub_file_status(srv->hub, st);
}

static void states_changed(void *arg) {
  struct server *srv = arg;
  hub_states_changed(srv->hub);
}

static int subscribers(void *arg, const struct state *st) {
  struct server *srv = arg;
  return hub_subscribers(srv->hub, st);
}

static void send_to(void *arg, struct session *s, struct outmsg *m) {
  struct server *srv = arg;
  transport_send(srv->transport, s, m);
}

static void on_hub_timer(uv_timer_t *t) {
  struct server *srv = t->data;
  hub_tick(srv->hub);
}

static struct state *lookup(void *arg, const char *name, const char **why) {
  struct server *srv = arg;
  struct state *st = srv->mirror ? mirror_state(srv->mirror, name) : NULL;
  *why = st ? NULL : mirror_why(srv->mirror);
  return st;
}

static void save(void *arg, struct state *st) {
  struct server *srv = arg;
  if (srv->mirror) mirror_changed(srv->mirror, st);
}

static void unused(void *arg) {
  struct server *srv = arg;
  if (srv->mirror) mirror_unused(srv->mirror);
}

static enum hub_sync sync_file(void *arg, struct state *st, uint64_t *version) {
  struct server *srv = arg;
  *version = st->version;
  switch (srv->mirror ? mirror_sync(srv->mirror, st, version)
                      : MIRROR_SYNC_UNCHANGED) {
  case MIRROR_SYNC_APPLIED: return HUB_SYNC_APPLIED;
  case MIRROR_SYNC_INVALID: return HUB_SYNC_INVALID;
  case MIRROR_SYNC_MISSING: return HUB_SYNC_MISSING;
  default: return HUB_SYNC_UNCHANGED;
  }
}

static void hub_timer_start(void *arg, uint64_t ms) {
  struct server *srv = arg;
  if (!srv->stopping) uv_timer_start(&srv->hub_timer, on_hub_timer, ms, 0);
}

/* --- addresses that come and go -------------------------------------------
 * --host tailscale listens on tailscale0's addresses as they appear and
 * stops when they go (the interface may come up long after the server,
 * e.g. at boot); a wildcard --host accepts this machine's addresses as
 * Host as they come and go. netif's watch says when to look again. */

static struct followed *followed_find(struct server *srv, const char *addr) {
  for (int i = 0; i < srv->nfollow; i++)
    if (strcmp(srv->follow[i].addr, addr) == 0) return &srv->follow[i];
  return NULL;
}

/* An address of the followed interface that went. */
static void follow_drop(struct server *srv, struct followed *f) {
  if (!f->active) return;
  if (!srv->binds.follow) {
    transport_allow_host(srv->transport, f->addr, 0);
    return;
  }
  int closed = transport_unlisten(srv->transport, f->addr);
  if (closed > 0)
    log_info("%s no longer has %s: stopped listening there (%d client%s "
             "closed)",
             srv->binds.follow, f->addr, closed, closed == 1 ? "" : "s");
  else
    log_info("%s no longer has %s: stopped listening there", srv->binds.follow,
             f->addr);
}

/* Listens on a new address of the followed interface (or accepts a new
 * address of this machine). Returns 0, or -1 if at_start and it failed. */
static int follow_add(struct server *srv, struct followed *f, int at_start) {
  const char *ifname = srv->binds.follow;
  if (!ifname) {
    transport_allow_host(srv->transport, f->addr, 1);
    f->active = 1;
    return 0;
  }
  int rc = transport_listen(srv->transport, f->addr);
  if (rc == 0) {
    f->active = 1;
    if (at_start) return 0;
    char url[NETIF_ADDR_LEN + 40];
    int v6 = strchr(f->addr, ':') != NULL;
    snprintf(url, sizeof url, "http://%s%s%s:%d/_mirrorstate/", v6 ? "[" : "",
             f->addr, v6 ? "]" : "", srv->port);
    log_info("%s has %s: now listening on %s", ifname, f->addr, url);
    printf("%s\n", url);
    fflush(stdout);
    return 0;
  }
  if (at_start) {
    portinfo_explain(f->addr, srv->port);
    return -1;
  }
  if (!f->warned)
    log_warn("%s has %s, but listening there failed (%s); trying again when "
             "the interface changes",
             ifname, f->addr, strerror(-rc));
  f->warned = 1;
  return 0;
}

/* Compares the followed addresses with what the interfaces have now.
 * Returns 0, or -1 if at_start and listening failed (after saying why). */
static int follow_sync(struct server *srv, int at_start) {
  char now[FOLLOW_MAX][NETIF_ADDR_LEN];
  int n = netif_addresses(srv->binds.follow, now, FOLLOW_MAX);
  if (n < 0) return 0; /* cannot tell: keep what there is */
  for (int i = 0; i < srv->nfollow;) {
    int present = 0;
    for (int j = 0; j < n && !present; j++)
      present = strcmp(now[j], srv->follow[i].addr) == 0;
    if (present) {
      i++;
      continue;
    }
    follow_drop(srv, &srv->follow[i]);
    srv->follow[i] = srv->follow[--srv->nfollow];
  }
  for (int j = 0; j < n; j++) {
    struct followed *f = followed_find(srv, now[j]);
    if (!f && srv->nfollow < FOLLOW_MAX) {
      f = &srv->follow[srv->nfollow++];
      memset(f, 0, sizeof *f);
      memcpy(f->addr, now[j], sizeof f->addr);
    }
    if (f && !f->active && follow_add(srv, f, at_start) != 0) return -1;
  }
  return 0;
}

static void on_interfaces(void *arg) {
  struct server *srv = arg;
  if (!srv->stopping) follow_sync(srv, 0);
}

/* Starts following the addresses, when --host asks for it. Returns 0, or
 * -1 if an address there now cannot be listened on. */
static int follow_start(struct server *srv) {
  const char *ifname = srv->binds.follow;
  int wildcard = 0;
  for (int i = 0; i < srv->binds.n; i++)
    wildcard |= netif_is_wildcard(srv->binds.addr[i]);
  if (!ifname && !wildcard) return 0;
  /* Watching first: a change while listing is then seen again. */
  srv->watch = netif_watch_start(&srv->loop, on_interfaces, srv);
  if (follow_sync(srv, 1) != 0) return -1;
  if (ifname && !srv->watch)
    log_warn("%s addresses that appear later are not listened on: restart "
             "the server then",
             ifname);
  if (!ifname || srv->nfollow) return 0;
  if (!netif_has_interface(ifname))
    log_warn("--host tailscale: there is no %s interface yet (is Tailscale "
             "up? `tailscale ip` shows its addresses); listening on loopback "
             "only until %s has an address",
             ifname, ifname);
  else
    log_warn("--host tailscale: %s has no address yet; listening on loopback "
             "only until it has one",
             ifname);
  return 0;
}

/* --- start and stop ------------------------------------------------------ */

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

/* The second step of a stop: clients were told, now close everything. */
static void on_stop_timer(uv_timer_t *timer) {
  struct server *srv = timer->data;
  netif_watch_stop(srv->watch);
  srv->watch = NULL;
  uv_close((uv_handle_t *)&srv->sigint, on_handle_closed);
  uv_close((uv_handle_t *)&srv->sigterm, on_handle_closed);
  uv_close((uv_handle_t *)&srv->stop_timer, on_handle_closed);
  uv_close((uv_handle_t *)&srv->hub_timer, on_handle_closed);
  mirror_stop(srv->mirror);
  transport_destroy(srv->transport);
}

static void on_signal(uv_signal_t *sig, int signum) {
  struct server *srv = sig->data;
  if (srv->stopping) return;
  srv->stopping = 1;
  log_info("%s: saving and stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
  mirror_flush(srv->mirror);
  transport_shutdown(srv->transport);
  /* Give close frames a moment to go out before the sockets are closed. */
  uv_timer_start(&srv->stop_timer, on_stop_timer,
                 transport_session_count(srv->transport) ? 100 : 0, 0);
}

/* After a run, or a failed start: every part that was started is stopped
 * and freed, in reverse order. A transport that started was destroyed once
 * already (on_stop_timer, or the failed start). */
static void teardown(struct server *srv) {
  netif_watch_stop(srv->watch); /* after a failed start */
  srv->watch = NULL;
  if (srv->owns_runtime) runtime_remove(srv->cfg);
  registry_remove(srv->registry);
  claims_release(srv->claims);
  mirror_stop(srv->mirror); /* after a failed start it still runs */
  uv_run(&srv->loop, UV_RUN_DEFAULT);
  /* lws on a foreign loop needs a second destroy after the loop has run
   * the first one's closes (see docs/design.md). */
  transport_destroy(srv->transport);
  srv->transport = NULL;
  uv_run(&srv->loop, UV_RUN_DEFAULT);
  mirror_free(srv->mirror);
  srv->mirror = NULL;
  hub_free(srv->hub);
  eventlog_close(srv->log);
  store_free(&srv->store);
  /* Every parsed tree is gone: the arena's chunks and registry go too. */
  json_alloc_trim();
  if (uv_loop_close(&srv->loop) != 0) log_debug("loop still has handles");
}

int server_run(const struct config *cfg) {
  struct server srv;
  memset(&srv, 0, sizeof srv);
  srv.cfg = cfg;
  int rc = 2;
  signal(SIGPIPE, SIG_IGN);
  /* Freeing a large state leaves many small chunks in glibc's fast bins,
   * which the next large allocation consolidates all at once (a fifth of
   * a 10 MB edit's time); without fast bins they merge as they are freed. */
  mallopt(M_MXFAST, 0);
  uv_loop_init(&srv.loop);
  store_init(&srv.store, cfg->history, cfg->history_bytes, cfg->max_state);
  if (cfg->log_file &&
      !(srv.log = eventlog_open(cfg->log_file, EVENTLOG_MAX_BYTES)))
    goto out;
  const struct hub_sender sender = {send_to, &srv};
  const struct hub_files files = {.lookup = lookup,
                                  .changed = save,
                                  .unused = unused,
                                  .sync = sync_file,
                                  .arg = &srv};
  if (!(srv.hub = hub_new(cfg, &srv.store, srv.log, &sender, &files))) {
    log_error("out of memory");
    goto out;
  }
  int claimed = claims_take(cfg, &srv.claims);
  if (claimed != 0) {
    rc = claimed; /* 2: the arguments overlap; 1: another server's */
    goto out;
  }
  char what[300];
  load_label(cfg, what, sizeof what);
  struct progress *loading = progress_start(what);
  const struct mirror_events mirror_ev = {file_changed, file_appeared,
                                          file_status,  states_changed,
                                          subscribers,  &srv};
  int started =
      mirror_start(&srv.loop, cfg, &srv.store, &mirror_ev, &srv.mirror);
  progress_stop(loading);
  if (started != 0) goto out;
  struct bind_list *binds = &srv.binds;
  if (netif_resolve(cfg->hosts, cfg->nhosts, binds) != 0) goto out;
  const struct transport_events transport_ev = {ws_open, ws_message, ws_close,
                                                http_request, &srv};
  int listening = transport_start(&srv.loop, cfg, binds, &transport_ev,
                                  &srv.transport) == 0;
  if (listening) {
    srv.port = transport_port(srv.transport);
    listening = follow_start(&srv) == 0;
  }
  if (!listening) {
    rc = 1;
    transport_destroy(srv.transport); /* the first of its two destroys */
    goto out;
  }
  /* Only once it listens: a --host it cannot bind is the news then. */
  if ((binds->public || binds->follow) && !cfg->token)
    log_warn("listening beyond loopback without --token: anyone who can "
             "reach this machine can read and change the mirrored files "
             "(Host and Origin checks stop browsers on other sites, not "
             "scripts)");
  int port = srv.port;
  uv_signal_init(&srv.loop, &srv.sigint);
  uv_signal_init(&srv.loop, &srv.sigterm);
  uv_timer_init(&srv.loop, &srv.stop_timer);
  uv_timer_init(&srv.loop, &srv.hub_timer);
  srv.sigint.data = srv.sigterm.data = srv.stop_timer.data = &srv;
  srv.hub_timer.data = &srv;
  const struct hub_timer timer = {hub_timer_start, &srv};
  hub_set_timer(srv.hub, &timer);
  uv_signal_start(&srv.sigint, on_signal, SIGINT);
  uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
  char base[200], rdir[PATH_MAX];
  local_base(binds, port, base, sizeof base);
  claims_note(srv.claims, base);
  /* The runtime file first: once a URL is printed, the CLI can find it. */
  srv.owns_runtime = runtime_dir(cfg, rdir, sizeof rdir) != 0 ||
                     claims_runtime(srv.claims, rdir);
  char rtfile[PATH_MAX + 32] = "";
  if (srv.owns_runtime &&
      runtime_write(cfg, hub_session_id(srv.hub), &srv.store, port) == 0)
    snprintf(rtfile, sizeof rtfile, "%s/%s", rdir, RUNTIME_FILE);
  srv.registry = registry_add(cfg, hub_session_id(srv.hub), base,
                              rtfile[0] ? rtfile : NULL);
  print_urls(&srv);
  if (cfg->static_dir)
    log_info("the app (--static %s) is at %s/", cfg->static_dir, base);
  if (cfg->open) {
    char url[256];
    snprintf(url, sizeof url, "%s/%s", base,
             cfg->static_dir ? "" : "_mirrorstate/");
    openurl(url);
  }
  log_info("mirroring %d state%s; stop with Ctrl-C", srv.store.nstates,
           srv.store.nstates == 1 ? "" : "s");
  uv_run(&srv.loop, UV_RUN_DEFAULT);
  rc = 0;
out:
  teardown(&srv);
  return rc;
}
