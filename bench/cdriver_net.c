/* The driver's servers, WebSocket client and event loop. */
#include "cdriver.h"

/* ---- servers --------------------------------------------------------------
 */

char tmp_root[1024] = "/tmp";

void make_dirs(struct server *s, const char *tag) {
  snprintf(s->dir, sizeof s->dir, "%s/cdriver-%s-XXXXXX", tmp_root, tag);
  if (!mkdtemp(s->dir)) {
    perror("mkdtemp");
    exit(2);
  }
  snprintf(s->ddir, sizeof s->ddir, "%s/d", s->dir);
  mkdir(s->ddir, 0755);
}

void remove_tree(const char *path) {
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char sub[PATH_MAX];
      snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
      struct stat sb;
      if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
        remove_tree(sub);
      else
        unlink(sub);
    }
    closedir(d);
  }
  rmdir(path);
}

pid_t running; /* killed if the driver is interrupted */

void on_signal(int sig) {
  if (running > 0) kill(running, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Starts the server on dir/d/state.json (which must exist) and waits for
 * the URL it prints first on stdout (written to a file, so a server that
 * prints more never meets a closed pipe). Returns 0, or -1 (reported). */
int server_start(const struct server_def *def, struct server *s) {
  char file[PATH_MAX + 16], cmd[8192], log[PATH_MAX + 16], out[PATH_MAX + 16];
  snprintf(file, sizeof file, "%s/state.json", s->ddir);
  snprintf(log, sizeof log, "%s/server.log", s->dir);
  snprintf(out, sizeof out, "%s/server.out", s->dir);
  size_t o = (size_t)snprintf(cmd, sizeof cmd, "exec ");
  for (const char *p = def->cmd; *p && o < sizeof cmd - PATH_MAX - 32;) {
    if (!strncmp(p, "{file}", 6)) {
      o += (size_t)snprintf(cmd + o, sizeof cmd - o, "%s", file);
      p += 6;
    } else {
      cmd[o++] = *p++;
    }
  }
  cmd[o] = '\0';
  pid_t pid = fork();
  if (pid == 0) {
    int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (ofd >= 0) dup2(ofd, 1);
    if (lfd >= 0) dup2(lfd, 2);
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  if (pid < 0) return -1;
  s->pid = running = pid;
  s->port = 0;
  int64_t deadline = now_ns() + 120 * 1000000000LL;
  while (!s->port && now_ns() < deadline) {
    size_t n;
    char *text = read_file(out, &n);
    const char *u = text ? strstr(text, "http://") : NULL;
    const char *colon = u ? strchr(u + 7, ':') : NULL;
    if (colon && strchr(colon, '/')) s->port = atoi(colon + 1);
    free(text);
    if (s->port || waitpid(pid, NULL, WNOHANG) == pid) break;
    sleep_ms(2);
  }
  /* A profiler attached to the server ("perf record -p {pid}", "strace -c
   * -p {pid}"): started once the server listens, stopped with SIGINT before
   * the server is. */
  const char *attach = getenv("CDRIVER_ATTACH");
  s->attached = 0;
  if (s->port && attach && *attach) {
    char acmd[4096];
    size_t k = (size_t)snprintf(acmd, sizeof acmd, "exec ");
    for (const char *p = attach; *p && k < sizeof acmd - 32;) {
      if (!strncmp(p, "{pid}", 5)) {
        k += (size_t)snprintf(acmd + k, sizeof acmd - k, "%d", (int)pid);
        p += 5;
      } else {
        acmd[k++] = *p++;
      }
    }
    acmd[k] = '\0';
    pid_t a = fork();
    if (a == 0) {
      setpgid(0, 0);
      execl("/bin/sh", "sh", "-c", acmd, (char *)NULL);
      _exit(127);
    }
    s->attached = a > 0 ? a : 0;
    sleep_ms(500);
  }
  if (!s->port) {
    failf("%s did not start (see %s)", def->label, log);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->pid = running = 0;
    return -1;
  }
  return 0;
}

void server_stop(struct server *s) {
  if (s->attached > 0) {
    kill(s->attached, SIGINT);
    for (int i = 0; i < 1000 && waitpid(s->attached, NULL, WNOHANG) == 0; i++)
      sleep_ms(10);
    s->attached = 0;
  }
  if (s->pid <= 0) return;
  kill(s->pid, SIGTERM);
  int64_t deadline = now_ns() + 5000000000LL;
  while (now_ns() < deadline) {
    if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
      s->pid = running = 0;
      return;
    }
    sleep_ms(5);
  }
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  s->pid = running = 0;
}

/* Run time of every thread of pid so far, in ns. */
int64_t cpu_ns(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR *d = opendir(path);
  int64_t total = 0;
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char p[400], buf[128];
    snprintf(p, sizeof p, "%s/%s/schedstat", path, e->d_name);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0) {
      buf[n] = '\0';
      total += strtoll(buf, NULL, 10);
    }
  }
  closedir(d);
  return total;
}

/* VmRSS or VmHWM in kB. */
long proc_kb(pid_t pid, const char *field) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char *p = strstr(buf, field);
  return p ? strtol(p + strlen(field) + 1, NULL, 10) : -1;
}

/* ---- the WebSocket client ------------------------------------------------ */

int epfd = -1;

static void ws_want_write(struct ws *c, int on) {
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
                           .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void ws_flush(struct ws *c) {
  while (c->outlen) {
    ssize_t w = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      ws_want_write(c, 1);
      return;
    }
    if (w < 0) {
      c->closed = 1;
      c->outlen = 0;
      return;
    }
    memmove(c->out, c->out + w, c->outlen - (size_t)w);
    c->outlen -= (size_t)w;
  }
  ws_want_write(c, 0);
}

/* Queues one masked text frame; ws_flush sends. */
void ws_queue(struct ws *c, const char *text, size_t len) {
  unsigned char hdr[14];
  size_t h = 0;
  hdr[h++] = 0x81;
  if (len < 126) {
    hdr[h++] = (unsigned char)(0x80 | len);
  } else if (len < 65536) {
    hdr[h++] = 0x80 | 126;
    hdr[h++] = (unsigned char)(len >> 8);
    hdr[h++] = (unsigned char)len;
  } else {
    hdr[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--)
      hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
  }
  static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  memcpy(hdr + h, key, 4);
  h += 4;
  if (c->outlen + h + len > c->outcap)
    c->out = xrealloc(c->out, c->outcap = (c->outlen + h + len) * 2);
  memcpy(c->out + c->outlen, hdr, h);
  unsigned char *d = (unsigned char *)c->out + c->outlen + h;
  for (size_t i = 0; i < len; i++)
    d[i] = (unsigned char)text[i] ^ key[i & 3];
  c->outlen += h + len;
}

void ws_send(struct ws *c, const char *text, size_t len) {
  ws_queue(c, text, len);
  ws_flush(c);
}

void ws_close(struct ws *c) {
  if (c->fd >= 0) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  free(c->in);
  free(c->msg);
  free(c->out);
  free(c);
}

/* Connects and upgrades (blocking, bounded by a receive timeout), then
 * switches to non-blocking and registers with epoll. NULL on failure. */
struct ws *ws_connect(int port, int id) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return NULL;
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return NULL;
  }
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET /_mirrorstate/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: mirrorstate.v1\r\n\r\n",
                   port);
  if (write_all(fd, req, (size_t)n) != 0) {
    close(fd);
    return NULL;
  }
  struct ws *c = xrealloc(NULL, sizeof *c);
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->id = id;
  c->in = xrealloc(NULL, c->incap = 65536);
  /* Read the response headers; frames may follow in the same read. */
  for (;;) {
    ssize_t r = read(fd, c->in + c->inlen, c->incap - c->inlen);
    if (r <= 0) break;
    c->inlen += (size_t)r;
    char *e = memmem(c->in, c->inlen, "\r\n\r\n", 4);
    if (!e) {
      if (c->inlen == c->incap) break;
      continue;
    }
    if (strncmp(c->in, "HTTP/1.1 101", 12) != 0) break;
    size_t hl = (size_t)(e + 4 - c->in);
    memmove(c->in, c->in + hl, c->inlen - hl);
    c->inlen -= hl;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    return c;
  }
  ws_close(c);
  return NULL;
}

/* Frames what was read; calls cb for each complete text message. */
static void ws_frames(struct ws *c, on_message cb, void *arg) {
  size_t off = 0;
  for (;;) {
    unsigned char *p = (unsigned char *)c->in + off;
    size_t avail = c->inlen - off;
    if (avail < 2) break;
    int fin = p[0] & 0x80, op = p[0] & 0x0f;
    uint64_t plen = p[1] & 0x7f;
    size_t h = 2;
    if (plen == 126) {
      if (avail < 4) break;
      plen = (uint64_t)p[2] << 8 | p[3];
      h = 4;
    } else if (plen == 127) {
      if (avail < 10) break;
      plen = 0;
      for (int i = 0; i < 8; i++)
        plen = plen << 8 | p[2 + i];
      h = 10;
    }
    if (p[1] & 0x80) h += 4; /* servers do not mask; skip a key if any */
    if (avail < h + plen) {
      if (h + plen > c->incap)
        c->in = xrealloc(c->in, c->incap = (size_t)(h + plen) * 2);
      break;
    }
    const char *payload = (const char *)p + h;
    off += h + (size_t)plen;
    if (op == 0x9) { /* ping: pong */
      unsigned char pong[6] = {0x8a, 0x80, 0, 0, 0, 0};
      if (c->outlen + 6 > c->outcap)
        c->out = xrealloc(c->out, c->outcap = c->outlen + 4096);
      memcpy(c->out + c->outlen, pong, 6);
      c->outlen += 6;
      ws_flush(c);
      continue;
    }
    if (op == 0x8) {
      c->closed = 1;
      continue;
    }
    if (op == 0xA) continue;
    if (op == 0x1 || op == 0x2) c->msglen = 0, c->in_msg = 1;
    if (!c->in_msg) continue;
    if (fin && c->msglen == 0) { /* the usual case: no copy */
      c->in_msg = 0;
      c->msgs++;
      cb(c, payload, (size_t)plen, arg);
      continue;
    }
    if (c->msglen + plen > c->msgcap)
      c->msg = xrealloc(c->msg, c->msgcap = (size_t)(c->msglen + plen) * 2);
    memcpy(c->msg + c->msglen, payload, (size_t)plen);
    c->msglen += (size_t)plen;
    if (fin) {
      c->in_msg = 0;
      c->msgs++;
      cb(c, c->msg, c->msglen, arg);
      c->msglen = 0;
    }
  }
  if (off) {
    memmove(c->in, c->in + off, c->inlen - off);
    c->inlen -= off;
  }
}

int ws_read(struct ws *c, on_message cb, void *arg) {
  for (;;) {
    if (c->inlen == c->incap) c->in = xrealloc(c->in, c->incap *= 2);
    ssize_t r = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return 0;
    if (r <= 0) {
      c->closed = 1;
      return -1;
    }
    c->t_read = now_ns();
    c->inlen += (size_t)r;
    ws_frames(c, cb, arg);
    if ((size_t)r < 16384) return 0; /* drained, most likely */
  }
}

/* The inotify descriptor of the scenario, when it watches the file. */
int ino_fd = -1;
int64_t ino_when; /* when the last batch was read */
int ino_events;   /* batches seen naming state.json */

static void ino_drain(void) {
  char buf[16384] __attribute__((aligned(8)));
  for (;;) {
    ssize_t n = read(ino_fd, buf, sizeof buf);
    if (n <= 0) return;
    ino_when = now_ns();
    for (char *p = buf; p < buf + n;) {
      struct inotify_event *e = (struct inotify_event *)p;
      if (e->len && strcmp(e->name, "state.json") == 0) ino_events++;
      p += sizeof *e + e->len;
    }
  }
}

/* Waits up to timeout_ms for events and handles them. Returns the number
 * of events. */
int pump(int timeout_ms, on_message cb, void *arg) {
  struct epoll_event evs[256];
  int n = epoll_wait(epfd, evs, 256, timeout_ms);
  for (int i = 0; i < n; i++) {
    struct ws *c = evs[i].data.ptr;
    if (!c) {
      ino_drain();
      continue;
    }
    if (evs[i].events & EPOLLOUT) ws_flush(c);
    if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ws_read(c, cb, arg);
  }
  return n < 0 ? 0 : n;
}
