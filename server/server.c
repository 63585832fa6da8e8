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
#include "hub.h"
#include "log.h"
#include "mirror.h"
#include "netif.h"
#include "openurl.h"
#include "progress.h"
#include "registry.h"
#include "runtime.h"
#include "transport.h"

#define EVENTLOG_MAX_BYTES (16u << 20)

struct server {
  uv_loop_t loop;
  uv_signal_t sigint, sigterm;
  uv_timer_t stop_timer;
  struct hub hub;
  struct claims *claims; /* the lock files on what it mirrors */
  int owns_runtime;      /* the runtime file is ours to write and remove */
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
    snprintf(out, outlen, "%s (%.1f MiB)",
             slash ? slash + 1 : cfg->files[0], bytes / 1048576);
  else if (cfg->ndirs == 0)
    snprintf(out, outlen, "%d files (%.1f MiB)", cfg->nfiles,
             bytes / 1048576);
  else
    snprintf(out, outlen, "the states below %s%s", cfg->dirs[0],
             cfg->ndirs + cfg->nfiles > 1 ? " and more" : "");
}

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

/* The second step of a stop: clients were told, now close everything. */
static void on_stop_timer(uv_timer_t *timer) {
  struct server *srv = timer->data;
  uv_close((uv_handle_t *)&srv->sigint, on_handle_closed);
  uv_close((uv_handle_t *)&srv->sigterm, on_handle_closed);
  uv_close((uv_handle_t *)&srv->stop_timer, on_handle_closed);
  mirror_stop(srv->hub.mirror);
  transport_destroy(srv->hub.transport);
}

static void on_signal(uv_signal_t *sig, int signum) {
  struct server *srv = sig->data;
  if (srv->stopping) return;
  srv->stopping = 1;
  log_info("%s: saving and stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
  mirror_flush(srv->hub.mirror);
  transport_shutdown(srv->hub.transport);
  /* Give close frames a moment to go out before the sockets are closed. */
  uv_timer_start(&srv->stop_timer, on_stop_timer,
                 transport_session_count(srv->hub.transport) ? 100 : 0, 0);
}

static void teardown(struct server *srv) {
  if (srv->owns_runtime) runtime_remove(&srv->hub);
  registry_remove(srv->registry);
  claims_release(srv->claims);
  /* lws on a foreign loop needs a second destroy after the loop has run
   * the first one's closes (see docs/design.md). */
  transport_destroy(srv->hub.transport);
  uv_run(&srv->loop, UV_RUN_DEFAULT);
  mirror_free(srv->hub.mirror);
  eventlog_close(srv->hub.log);
  store_free(&srv->hub.store);
  if (uv_loop_close(&srv->loop) != 0) log_debug("loop still has handles");
}

int server_run(const struct config *cfg) {
  struct server srv;
  memset(&srv, 0, sizeof srv);
  int rc = 2;
  signal(SIGPIPE, SIG_IGN);
  /* Freeing a large state leaves many small chunks in glibc's fast bins,
   * which the next large allocation consolidates all at once (a fifth of
   * a 10 MB edit's time); without fast bins they merge as they are freed. */
  mallopt(M_MXFAST, 0);
  uv_loop_init(&srv.loop);
  hub_init(&srv.hub, cfg);
  store_init(&srv.hub.store, cfg->history, cfg->history_bytes,
             cfg->max_state);
  if (cfg->log_file &&
      !(srv.hub.log = eventlog_open(cfg->log_file, EVENTLOG_MAX_BYTES)))
    goto out_store;
  if (claims_take(cfg, &srv.claims) != 0) {
    rc = 1;
    goto out_log;
  }
  char what[300];
  load_label(cfg, what, sizeof what);
  struct progress *loading = progress_start(what);
  struct mirror *m = mirror_start(&srv.loop, &srv.hub, cfg);
  progress_stop(loading);
  if (!m) goto out_mirror;
  struct bind_list binds;
  if (netif_resolve(cfg->hosts, cfg->nhosts, &binds) != 0) goto out_stop;
  if (binds.public && !cfg->token)
    log_warn("listening beyond loopback without --token: anyone who can "
             "reach this machine can read and change the mirrored files "
             "(Host and Origin checks stop browsers on other sites, not "
             "scripts)");
  struct transport *t;
  if (transport_start(&srv.loop, cfg, &binds, &srv.hub, &t) != 0) {
    rc = 1;
    goto out_transport;
  }
  uv_signal_init(&srv.loop, &srv.sigint);
  uv_signal_init(&srv.loop, &srv.sigterm);
  uv_timer_init(&srv.loop, &srv.stop_timer);
  srv.sigint.data = srv.sigterm.data = srv.stop_timer.data = &srv;
  uv_signal_start(&srv.sigint, on_signal, SIGINT);
  uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
  char base[200], rdir[PATH_MAX];
  local_base(&binds, transport_port(t), base, sizeof base);
  claims_note(srv.claims, base);
  /* The runtime file first: once a URL is printed, the CLI can find it. */
  srv.owns_runtime = runtime_dir(cfg, rdir, sizeof rdir) != 0 ||
                     claims_runtime(srv.claims, rdir);
  char rtfile[PATH_MAX + 32] = "";
  if (srv.owns_runtime && runtime_write(&srv.hub, transport_port(t)) == 0)
    snprintf(rtfile, sizeof rtfile, "%s/%s", rdir, RUNTIME_FILE);
  srv.registry = registry_add(&srv.hub, base, rtfile[0] ? rtfile : NULL);
  print_urls(&binds, transport_port(t));
  if (cfg->static_dir)
    log_info("the app (--static %s) is at %s/", cfg->static_dir, base);
  if (cfg->open) {
    char url[256];
    snprintf(url, sizeof url, "%s/%s", base,
             cfg->static_dir ? "" : "_mirrorstate/");
    openurl(url);
  }
  log_info("mirroring %d state%s; stop with Ctrl-C", srv.hub.store.nstates,
           srv.hub.store.nstates == 1 ? "" : "s");
  uv_run(&srv.loop, UV_RUN_DEFAULT);
  teardown(&srv);
  return 0;

  /* A failed start unwinds in reverse order. */
out_transport:
  transport_destroy(t);
out_stop:
  mirror_stop(srv.hub.mirror);
out_mirror:
  uv_run(&srv.loop, UV_RUN_DEFAULT);
  transport_destroy(srv.hub.transport); /* the second destroy, if started */
  uv_run(&srv.loop, UV_RUN_DEFAULT);
  mirror_free(srv.hub.mirror);
  claims_release(srv.claims);
out_log:
  eventlog_close(srv.hub.log);
out_store:
  store_free(&srv.hub.store);
  uv_loop_close(&srv.loop);
  return rc;
}
