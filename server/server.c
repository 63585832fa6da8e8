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
#include "progress.h"
#include "registry.h"
#include "runtime.h"
#include "transport.h"

#define EVENTLOG_MAX_BYTES (16u << 20)

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
  int stopping;
};

static void print_url(const char *host, int port) {
  int v6 = strchr(host, ':') != NULL;
  printf("http://%s%s%s:%d/_mirrorstate/\n", v6 ? "[" : "", host, v6 ? "]" : "",
         port);
}

/* One line per URL a person can use: the bound addresses (loopback for a
 * wildcard) and, when reachable from other machines, the host name, which
 * is also the MagicDNS short name on a tailnet. */
static void print_urls(const struct bind_list *binds, int port) {
  for (int i = 0; i < binds->n; i++)
    print_url(netif_is_wildcard(binds->addr[i]) ? "127.0.0.1" : binds->addr[i],
              port);
  char host[256];
  if (binds->public && gethostname(host, sizeof host) == 0) {
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

/* --- start and stop ------------------------------------------------------ */

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

/* The second step of a stop: clients were told, now close everything. */
static void on_stop_timer(uv_timer_t *timer) {
  struct server *srv = timer->data;
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
  if (claims_take(cfg, &srv.claims) != 0) {
    rc = 1;
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
  struct bind_list binds;
  if (netif_resolve(cfg->hosts, cfg->nhosts, &binds) != 0) goto out;
  if (binds.public && !cfg->token)
    log_warn("listening beyond loopback without --token: anyone who can "
             "reach this machine can read and change the mirrored files "
             "(Host and Origin checks stop browsers on other sites, not "
             "scripts)");
  const struct transport_events transport_ev = {ws_open, ws_message, ws_close,
                                                http_request, &srv};
  if (transport_start(&srv.loop, cfg, &binds, &transport_ev, &srv.transport) !=
      0) {
    rc = 1;
    transport_destroy(srv.transport); /* the first of its two destroys */
    goto out;
  }
  int port = transport_port(srv.transport);
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
  local_base(&binds, port, base, sizeof base);
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
  print_urls(&binds, port);
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
