/* The benchmark driver: runs the scenarios of docs/benchmarks.md against
 * any number of servers that speak protocol v1, one after the other in one
 * session, and prints one table with the ratios to the first server.
 *
 *   cdriver [--smoke] [--only a,b,...] [--json FILE]
 *           --server 'LABEL=COMMAND --file {file} --port 0' ...
 *
 * Each scenario starts every server fresh on a state file of its own in a
 * temporary directory (`sh -c "exec COMMAND"`, so the pid is the server's),
 * reads its port from the URL it prints first on stdout, and stops it with
 * SIGTERM. The driver is one thread: epoll over every client socket and an
 * inotify descriptor, a small WebSocket client of its own (masked frames out,
 * fragmented messages in) and a JSON scanner that looks members up in place,
 * so what it adds to a measurement is a few microseconds per message.
 *
 * What a server costs per change is read from the kernel: the run time of
 * all its threads (/proc/PID/task/N/schedstat, in ns) over the measured
 * loop, divided by the changes. That figure does not depend on how busy
 * the machine is; latencies do. Only 127.0.0.1 is contacted. */
#include "cdriver.h"

/* ---- scenarios -------------------------------------------------------------
 */

static int smoke;

struct counts {
  int file_edits;   /* a: per save style */
  int acks;         /* b */
  int fan_sizes[3]; /* c */
  int fan_rounds;
  size_t big_bytes; /* d */
  int big_edits;
  int patches; /* e */
  int window;
  int mem_clients;    /* f */
  size_t large_bytes; /* m */
  double pace_ms;
};

static struct counts N;

/* What a waiting scenario looks for. */
struct expect {
  enum watched w;
  double want;
  int remaining; /* clients that have not seen it yet */
  int64_t first, last;
  struct ws *ack_from; /* b, e: acks on this client */
  double ack_ref;
  int acked;
  int64_t t_ack;
  long errors;
};

static void on_msg(struct ws *c, const char *msg, size_t len, void *arg) {
  struct expect *x = arg;
  struct seen s;
  inspect(msg, len, x->w, &s);
  c->last = s;
  if (s.type == 5) x->errors++;
  if (s.has_value) {
    c->got = s.value;
    c->has_got = 1;
    if (x && s.value == x->want && x->remaining > 0) {
      x->remaining--;
      if (!x->first) x->first = c->t_read;
      x->last = c->t_read;
    }
  }
  if (x && s.type == 4 && c == x->ack_from) {
    x->acked++;
    if (s.has_ref && s.ref == x->ack_ref) x->t_ack = c->t_read;
  }
}

/* Pumps until pred holds or timeout_ms pass. 1 if it holds. */
static int wait_for(int (*pred)(void *), void *parg, int timeout_ms,
                    struct expect *x) {
  int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
  while (!pred(parg)) {
    int64_t left = (deadline - now_ns()) / 1000000;
    if (left <= 0) return pred(parg);
    pump((int)(left > 1000 ? 1000 : left + 1), on_msg, x);
  }
  return 1;
}

static int all_seen(void *arg) {
  return ((struct expect *)arg)->remaining == 0;
}

static int acked(void *arg) {
  return ((struct expect *)arg)->t_ack != 0;
}

/* Connects n clients and subscribes them to "state"; each has its snapshot. */
static struct ws **connect_clients(int port, int n, enum watched w) {
  struct ws **cs = xrealloc(NULL, (size_t)n * sizeof *cs);
  struct expect x = {.w = w, .want = NAN};
  static const char sub[] = "{\"type\":\"subscribe\",\"name\":\"state\"}";
  for (int i = 0; i < n; i++) {
    if (!(cs[i] = ws_connect(port, i))) {
      failf("client %d could not connect", i);
      for (int k = 0; k < i; k++)
        ws_close(cs[k]);
      free(cs);
      return NULL;
    }
    ws_send(cs[i], sub, sizeof sub - 1);
    if (i % 50 == 49) pump(0, on_msg, &x);
  }
  int64_t deadline = now_ns() + 60000000000LL;
  for (int i = 0; i < n; i++) {
    while (!cs[i]->has_got && now_ns() < deadline)
      pump(100, on_msg, &x);
    if (!cs[i]->has_got) {
      failf("client %d got no snapshot", i);
      for (int k = 0; k < n; k++)
        ws_close(cs[k]);
      free(cs);
      return NULL;
    }
  }
  return cs;
}

static void close_clients(struct ws **cs, int n) {
  for (int i = 0; i < n; i++)
    ws_close(cs[i]);
  free(cs);
}

static void ino_open(const char *dir) {
  ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  inotify_add_watch(ino_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, ino_fd, &ev);
}

static void ino_close(void) {
  if (ino_fd < 0) return;
  epoll_ctl(epfd, EPOLL_CTL_DEL, ino_fd, NULL);
  close(ino_fd);
  ino_fd = -1;
}

/* Starts server srv on a state of `bytes`. */
static int setup(int srv, const char *tag, const struct state_text *st,
                 struct server *s) {
  make_dirs(s, tag);
  if (write_state(s->ddir, st, 0, 0, NULL) != 0) {
    failf("cannot write the state");
    return -1;
  }
  return server_start(&servers[srv], s);
}

static void teardown(struct server *s) {
  server_stop(s);
  remove_tree(s->dir);
}

/* a: a file edit (temp+rename, or in place) until the subscribed client
 * has it. */
static void scen_file(int srv, const struct state_text *st) {
  for (int style = 1; style >= 0; style--) {
    const char *name = style ? "a. file -> client, 10 KB, rename"
                             : "a. file -> client, 10 KB, in place";
    struct server s;
    if (setup(srv, "a", st, &s) != 0) continue;
    struct ws **cs = connect_clients(s.port, 1, W_SEQ);
    if (!cs) {
      teardown(&s);
      continue;
    }
    struct samples lat = {0}, after = {0};
    int timeouts = 0;
    sleep_ms(100);
    int64_t cpu0 = cpu_ns(s.pid);
    for (int i = 1; i <= N.file_edits; i++) {
      struct expect x = {.w = W_SEQ, .want = i, .remaining = 1};
      int64_t t0 = now_ns(), tw;
      if (write_state(s.ddir, st, i, style, &tw) != 0) {
        failf("%s: write failed", name);
        break;
      }
      if (!wait_for(all_seen, &x, 5000, &x)) {
        timeouts++;
        continue;
      }
      add_sample(&lat, (double)(x.last - t0) / 1e6);
      add_sample(&after, (double)(x.last - tw) / 1e6);
      int64_t next = t0 + (int64_t)(N.pace_ms * 1e6);
      while (now_ns() < next)
        pump((int)((next - now_ns()) / 1000000) + 1, on_msg, &x);
    }
    int64_t cpu = cpu_ns(s.pid) - cpu0;
    if (timeouts)
      failf("%s: %s: %d edits never arrived", servers[srv].label, name,
            timeouts);
    put(srv, name, "server CPU us per change", style ? "100" : "100", 0,
        (double)cpu / 1e3 / N.file_edits);
    put2(srv, name, "after the save p50 / p99 ms", style ? "0.08 / 0.2" : "",
         pct(&after, 50), pct(&after, 99));
    put2(srv, name, "incl. the save p50 / p99 ms", "", pct(&lat, 50),
         pct(&lat, 99));
    free(lat.v);
    free(after.v);
    close_clients(cs, 1);
    teardown(&s);
  }
}

/* b: a one-op patch from a client: its ack, and the file holding it. */
static void scen_ack(int srv, const struct state_text *st) {
  const char *name = "b. client patch -> ack, and -> file";
  struct server s;
  if (setup(srv, "b", st, &s) != 0) return;
  struct ws **cs = connect_clients(s.port, 1, W_SEQ);
  if (!cs) {
    teardown(&s);
    return;
  }
  ino_open(s.ddir);
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/state.json", s.ddir);
  struct samples ack = {0}, file = {0};
  int timeouts = 0;
  sleep_ms(100);
  int64_t cpu0 = cpu_ns(s.pid);
  for (int i = 1; i <= N.acks; i++) {
    char msg[256];
    int n = snprintf(
        msg, sizeof msg,
        "{\"type\":\"patch\",\"name\":\"state\",\"ops\":[{\"op\":"
        "\"replace\",\"path\":\"/bench/seq\",\"value\":%d}],\"ref\":%d}",
        i, i);
    struct expect x = {
        .w = W_SEQ, .want = NAN, .ack_from = cs[0], .ack_ref = i};
    int64_t t0 = now_ns();
    ws_send(cs[0], msg, (size_t)n);
    if (!wait_for(acked, &x, 5000, &x)) {
      timeouts++;
      continue;
    }
    add_sample(&ack, (double)(x.t_ack - t0) / 1e6);
    /* The file: read after each batch of events naming it until it holds
     * the value. */
    int64_t deadline = t0 + 5000000000LL, t_file = 0;
    for (;;) {
      size_t len;
      char *text = read_file(path, &len);
      double v;
      const char *vs, *ve = NULL;
      if (text) {
        static const char *const keys[] = {"bench", "seq", NULL};
        ve = js_path(text, text + len, keys, &vs);
      }
      if (ve && (v = strtod(vs, NULL)) == i) t_file = now_ns();
      free(text);
      if (t_file || now_ns() > deadline) break;
      int before = ino_events;
      while (ino_events == before && now_ns() < deadline)
        pump(50, on_msg, &x);
    }
    if (t_file)
      add_sample(&file, (double)(t_file - t0) / 1e6);
    else
      timeouts++;
    int64_t next = t0 + (int64_t)(N.pace_ms * 1e6);
    while (now_ns() < next)
      pump((int)((next - now_ns()) / 1000000) + 1, on_msg, &x);
  }
  int64_t cpu = cpu_ns(s.pid) - cpu0;
  if (timeouts)
    failf("%s: %s: %d timeouts", servers[srv].label, name, timeouts);
  put2(srv, name, "ack p50 / p99 ms", "0.15 / -", pct(&ack, 50), pct(&ack, 99));
  put2(srv, name, "file holds it p50 / p99 ms", "", pct(&file, 50),
       pct(&file, 99));
  put(srv, name, "server CPU us per change (incl. the write)", "", 0,
      (double)cpu / 1e3 / N.acks);
  free(ack.v);
  free(file.v);
  ino_close();
  close_clients(cs, 1);
  teardown(&s);
}

/* c: one file edit to n subscribed clients. */
static void scen_fanout(int srv, const struct state_text *st) {
  for (int k = 0; k < 3 && N.fan_sizes[k]; k++) {
    int n = N.fan_sizes[k];
    char name[64];
    snprintf(name, sizeof name, "c. fan-out of a file edit to %d", n);
    struct server s;
    if (setup(srv, "c", st, &s) != 0) continue;
    struct ws **cs = connect_clients(s.port, n, W_SEQ);
    if (!cs) {
      teardown(&s);
      continue;
    }
    struct samples last = {0}, first = {0};
    int timeouts = 0;
    sleep_ms(200);
    int64_t cpu0 = cpu_ns(s.pid);
    for (int i = 1; i <= N.fan_rounds; i++) {
      struct expect x = {.w = W_SEQ, .want = i, .remaining = n};
      int64_t t0 = now_ns();
      write_state(s.ddir, st, i, 1, NULL);
      if (!wait_for(all_seen, &x, 10000, &x)) {
        timeouts++;
        continue;
      }
      add_sample(&last, (double)(x.last - t0) / 1e6);
      add_sample(&first, (double)(x.first - t0) / 1e6);
      int64_t next = t0 + (int64_t)((N.pace_ms > 50 ? N.pace_ms : 50) * 1e6);
      while (now_ns() < next)
        pump((int)((next - now_ns()) / 1000000) + 1, on_msg, &x);
    }
    int64_t cpu = cpu_ns(s.pid) - cpu0;
    if (timeouts)
      failf("%s: %s: %d timeouts", servers[srv].label, name, timeouts);
    put(srv, name, "server CPU ms per change", n == 1000 ? "5" : "", 0,
        (double)cpu / 1e6 / N.fan_rounds);
    put2(srv, name, "last client p50 / p99 ms", "", pct(&last, 50),
         pct(&last, 99));
    put2(srv, name, "first client p50 / p99 ms", "", pct(&first, 50),
         pct(&first, 99));
    free(last.v);
    free(first.v);
    close_clients(cs, n);
    teardown(&s);
  }
}

/* d: a one-key edit of a large state, from the file. */
static void scen_big(int srv) {
  struct state_text st;
  make_state(N.big_bytes, &st);
  char name[64];
  snprintf(name, sizeof name, "d. one-key file edit, %.0f MB state",
           (double)state_size(&st) / 1e6);
  struct server s;
  if (setup(srv, "d", &st, &s) != 0) goto out;
  struct ws **cs = connect_clients(s.port, 1, W_SEQ);
  if (!cs) {
    teardown(&s);
    goto out;
  }
  struct samples lat = {0}, after = {0};
  int timeouts = 0;
  sleep_ms(300);
  int64_t cpu0 = cpu_ns(s.pid);
  for (int i = 1; i <= N.big_edits; i++) {
    struct expect x = {.w = W_SEQ, .want = i, .remaining = 1};
    int64_t t0 = now_ns(), tw;
    write_state(s.ddir, &st, i, 1, &tw);
    if (!wait_for(all_seen, &x, 30000, &x)) {
      timeouts++;
      continue;
    }
    add_sample(&lat, (double)(x.last - t0) / 1e6);
    add_sample(&after, (double)(x.last - tw) / 1e6);
    int64_t next = x.last + 150000000LL;
    while (now_ns() < next)
      pump((int)((next - now_ns()) / 1000000) + 1, on_msg, &x);
  }
  int64_t cpu = cpu_ns(s.pid) - cpu0;
  if (timeouts)
    failf("%s: %s: %d timeouts", servers[srv].label, name, timeouts);
  put2(srv, name, "incl. the save p50 / p99 ms", "30 / -", pct(&lat, 50),
       pct(&lat, 99));
  put2(srv, name, "after the save p50 / p99 ms", "", pct(&after, 50),
       pct(&after, 99));
  put(srv, name, "server CPU ms per change", "", 0,
      (double)cpu / 1e6 / N.big_edits);
  free(lat.v);
  free(after.v);
  close_clients(cs, 1);
  teardown(&s);
out:
  free(st.head);
  free(st.tail);
}

/* e: back-to-back patches from one client, at most `window` unacked;
 * every one acked, an observer sees every value, the file ends complete. */
static void scen_throughput(int srv, const struct state_text *st) {
  const char *name = "e. back-to-back patches, window 64";
  struct server s;
  if (setup(srv, "e", st, &s) != 0) return;
  struct ws **cs = connect_clients(s.port, 2, W_COUNTER);
  if (!cs) {
    teardown(&s);
    return;
  }
  ino_open(s.ddir);
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/state.json", s.ddir);
  struct ws *c = cs[0], *obs = cs[1];
  struct expect x = {.w = W_COUNTER,
                     .want = N.patches,
                     .remaining = 0,
                     .ack_from = c,
                     .ack_ref = N.patches};
  long obs0 = obs->msgs;
  sleep_ms(100);
  int64_t cpu0 = cpu_ns(s.pid), t0 = now_ns();
  int sent = 0;
  char msg[256];
  while (x.acked < N.patches) {
    int queued = 0;
    while (sent < N.patches && sent - x.acked < N.window) {
      sent++;
      int n = snprintf(msg, sizeof msg,
                       "{\"type\":\"patch\",\"name\":\"state\",\"base\":1,"
                       "\"ops\":[{\"op\":\"replace\",\"path\":\"/counter\","
                       "\"value\":%d}],\"ref\":%d}",
                       sent, sent);
      ws_queue(c, msg, (size_t)n);
      queued = 1;
    }
    if (queued) ws_flush(c);
    int before = x.acked;
    int64_t wait_start = now_ns();
    while (x.acked == before && now_ns() - wait_start < 10000000000LL)
      pump(100, on_msg, &x);
    if (x.acked == before) break;
  }
  int64_t t_end = x.t_ack ? x.t_ack : now_ns();
  int64_t cpu = cpu_ns(s.pid) - cpu0;
  /* The observer has every change, and the file holds the last. */
  int64_t deadline = now_ns() + 10000000000LL, t_file = 0;
  while ((!t_file || obs->got != N.patches) && now_ns() < deadline) {
    if (!t_file) {
      size_t len;
      char *text = read_file(path, &len);
      double v;
      if (text && js_num(text, text + len, "counter", &v) && v == N.patches)
        t_file = now_ns();
      free(text);
    }
    pump(t_file ? 100 : 2, on_msg, &x);
  }
  long lost = N.patches - x.acked;
  if (lost || x.errors)
    failf("%s: %s: %ld patches not acked, %ld errors", servers[srv].label, name,
          lost, x.errors);
  if (!t_file)
    failf("%s: %s: the file never held the last value", servers[srv].label,
          name);
  if (obs->got != N.patches)
    failf("%s: %s: the observer ended at %g", servers[srv].label, name,
          obs->got);
  double secs = (double)(t_end - t0) / 1e9;
  put(srv, name, "patches per second (acked)", "100000", 1, x.acked / secs);
  put(srv, name, "server CPU us per patch", "", 0,
      (double)cpu / 1e3 / N.patches);
  put2(srv, name, "lost / file complete after ms", "0 / -", (double)lost,
       t_file ? (double)(t_file - t0) / 1e6 : NAN);
  put(srv, name, "observer messages", "", 1, (double)(obs->msgs - obs0));
  ino_close();
  close_clients(cs, 2);
  teardown(&s);
}

/* f: resident memory, idle and with many clients. */
static void scen_memory(int srv, const struct state_text *st) {
  const char *name = "f. resident memory";
  struct server s;
  if (setup(srv, "f", st, &s) != 0) return;
  sleep_ms(smoke ? 200 : 1000);
  put(srv, name, "idle, 10 KB state, MB", "5", 0,
      (double)proc_kb(s.pid, "VmRSS:") / 1024);
  struct ws **cs = connect_clients(s.port, N.mem_clients, W_SEQ);
  if (cs) {
    sleep_ms(smoke ? 200 : 1000);
    char metric[48];
    snprintf(metric, sizeof metric, "%d clients subscribed, MB", N.mem_clients);
    put(srv, name, metric, N.mem_clients == 1000 ? "15" : "", 0,
        (double)proc_kb(s.pid, "VmRSS:") / 1024);
    struct expect x = {.w = W_SEQ, .want = 1, .remaining = N.mem_clients};
    write_state(s.ddir, st, 1, 1, NULL);
    if (!wait_for(all_seen, &x, 10000, &x))
      failf("%s: %s: the broadcast did not reach every client",
            servers[srv].label, name);
    sleep_ms(100);
    put(srv, name, "after a broadcast to them, MB", "", 0,
        (double)proc_kb(s.pid, "VmRSS:") / 1024);
    close_clients(cs, N.mem_clients);
  }
  teardown(&s);
}

/* m: a large state loaded: memory against its file size. */
static void scen_large(int srv) {
  struct state_text st;
  make_state(N.large_bytes, &st);
  double mb = (double)state_size(&st) / 1e6;
  char name[64];
  snprintf(name, sizeof name, "m. a %.0f MB state loaded", mb);
  struct server s;
  make_dirs(&s, "m");
  int64_t t0 = now_ns();
  if (write_state(s.ddir, &st, 0, 0, NULL) != 0 ||
      server_start(&servers[srv], &s) != 0) {
    remove_tree(s.dir);
    goto out;
  }
  put(srv, name, "start to listening, s", "", 0, (double)(now_ns() - t0) / 1e9);
  sleep_ms(500);
  long rss = proc_kb(s.pid, "VmRSS:"), hwm = proc_kb(s.pid, "VmHWM:");
  put2(srv, name, "RSS after load, MB / x file", "- / 6", (double)rss / 1024,
       (double)rss * 1024 / (mb * 1e6));
  put2(srv, name, "peak RSS while loading, MB / x file", "", (double)hwm / 1024,
       (double)hwm * 1024 / (mb * 1e6));
  /* One edit from the file, then memory once the server is idle again. */
  write_state(s.ddir, &st, 1, 1, NULL);
  int64_t last = cpu_ns(s.pid), quiet_since = now_ns(),
          deadline = now_ns() + 60000000000LL;
  sleep_ms(50);
  while (now_ns() < deadline) {
    sleep_ms(100);
    int64_t c = cpu_ns(s.pid);
    if (c - last > 2000000) quiet_since = now_ns();
    last = c;
    if (now_ns() - quiet_since > 500000000LL) break;
  }
  rss = proc_kb(s.pid, "VmRSS:");
  put2(srv, name, "RSS after a one-key edit, MB / x file", "- / 6",
       (double)rss / 1024, (double)rss * 1024 / (mb * 1e6));
  teardown(&s);
out:
  free(st.head);
  free(st.tail);
}

/* ---- main ------------------------------------------------------------------
 */

static int wanted(const char *only, char id) {
  if (!only) return 1;
  for (const char *p = only; *p; p++)
    if (*p == id && (p == only || p[-1] == ',') && (p[1] == ',' || !p[1]))
      return 1;
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: cdriver [--smoke] [--only a,b,c,d,e,f,m] [--json FILE]\n"
          "               [--iterations N] [--patches N] [--big-mb N] "
          "[--large-mb N]\n"
          "               [--max-clients N] [--tmpdir DIR]\n"
          "               --server 'LABEL=COMMAND ... {file} ...' [--server "
          "...]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *only = NULL, *json = NULL;
  int iterations = 0, patches = 0, max_clients = 1000;
  double big_mb = 0, large_mb = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--smoke"))
      smoke = 1;
    else if (!strcmp(a, "--only") && v)
      only = argv[++i];
    else if (!strcmp(a, "--json") && v)
      json = argv[++i];
    else if (!strcmp(a, "--iterations") && v)
      iterations = atoi(argv[++i]);
    else if (!strcmp(a, "--patches") && v)
      patches = atoi(argv[++i]);
    else if (!strcmp(a, "--big-mb") && v)
      big_mb = atof(argv[++i]);
    else if (!strcmp(a, "--large-mb") && v)
      large_mb = atof(argv[++i]);
    else if (!strcmp(a, "--max-clients") && v)
      max_clients = atoi(argv[++i]);
    else if (!strcmp(a, "--tmpdir") && v)
      snprintf(tmp_root, sizeof tmp_root, "%s", argv[++i]);
    else if (!strcmp(a, "--server") && v) {
      const char *eq = strchr(argv[++i], '=');
      if (!eq || nservers == MAX_SERVERS) usage();
      servers[nservers].label = strndup(argv[i], (size_t)(eq - argv[i]));
      servers[nservers].cmd = xstrdup(eq + 1);
      nservers++;
    } else
      usage();
  }
  if (!nservers) usage();
  if (smoke)
    N = (struct counts){5,   5,  {10, 0, 0}, 2,       1 << 20, 2,
                        300, 64, 20,         2 << 20, 10};
  else
    N = (struct counts){300, 300,  {1000, 100, 10}, 20, 10 << 20, 15, 20000,
                        64,  1000, 74000000,        20};
  if (iterations) N.file_edits = N.acks = iterations;
  if (patches) N.patches = patches;
  if (big_mb > 0) N.big_bytes = (size_t)(big_mb * 1e6);
  if (large_mb > 0) N.large_bytes = (size_t)(large_mb * 1e6);
  for (int k = 0; k < 3; k++)
    if (N.fan_sizes[k] > max_clients) N.fan_sizes[k] = max_clients;
  if (N.mem_clients > max_clients) N.mem_clients = max_clients;

  /* Two descriptors per client (the driver's and the server's). */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
    rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  epfd = epoll_create1(EPOLL_CLOEXEC);

  struct state_text st;
  make_state(10240, &st);
  double la[3] = {0};
  getloadavg(la, 3);
  note("load average %.2f %.2f %.2f; %s run", la[0], la[1], la[2],
       smoke ? "smoke" : "full");
  /* Scenario by scenario, every server in turn, so they meet the same
   * conditions. */
  struct {
    char id;
    const char *what;
  } order[] = {{'a', "file -> client"},    {'b', "client -> ack, file"},
               {'c', "fan-out"},           {'d', "large state edit"},
               {'e', "throughput"},        {'f', "memory"},
               {'m', "large state memory"}};
  for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
    if (!wanted(only, order[k].id)) continue;
    for (int srv = 0; srv < nservers; srv++) {
      int64_t t = now_ns();
      switch (order[k].id) {
      case 'a': scen_file(srv, &st); break;
      case 'b': scen_ack(srv, &st); break;
      case 'c': scen_fanout(srv, &st); break;
      case 'd': scen_big(srv); break;
      case 'e': scen_throughput(srv, &st); break;
      case 'f': scen_memory(srv, &st); break;
      case 'm': scen_large(srv); break;
      }
      note("%c (%s) %s: %.1f s", order[k].id, order[k].what, servers[srv].label,
           (double)(now_ns() - t) / 1e9);
    }
  }
  getloadavg(la, 3);
  note("load average after: %.2f %.2f %.2f", la[0], la[1], la[2]);
  print_table();
  if (json) write_json(json);
  free(st.head);
  free(st.tail);
  if (failures) {
    fprintf(stderr, "cdriver: %d failure(s)\n", failures);
    return 1;
  }
  return 0;
}
