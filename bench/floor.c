/* The floor: the least a server can do for the benchmark's scenarios on
 * this machine, to calibrate what the others spend. It is not a server
 * (no merge, no history, no file writes, no checks): one thread, epoll,
 * inotify on the state's directory, and on each event one read of the file
 * and one send of a patch to every subscriber, with the value found by a
 * string search; a patch from a client is acked, sent on to the other
 * subscribers as it came, and its value spliced into the file's text,
 * which is written (temporary file, fsync, rename) once per loop turn.
 * The driver (cdriver.c) runs it like any server:
 *
 *   floor --file DIR/state.json
 *
 * It prints its URL first on stdout, as the others do, and binds
 * 127.0.0.1 only. Enough of protocol v1 for cdriver, nothing more: the
 * WebSocket handshake's accept key is not computed (cdriver does not check
 * it), and frames are read, not validated. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#define MAX_CLIENTS 4096

struct client {
  int fd;
  int upgraded, subscribed;
  char *in;
  size_t len, cap;
};

static struct client *clients[MAX_CLIENTS];
static const char *file, *base;
static int epfd;

static char *slurp(size_t *len) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  for (;;) {
    if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    ssize_t r = read(fd, buf + n, cap - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* One unmasked text frame, written whole (blocking on a full socket). */
static void send_text(struct client *c, const char *text, size_t len) {
  unsigned char hdr[10];
  size_t h = 0;
  hdr[h++] = 0x81;
  if (len < 126) {
    hdr[h++] = (unsigned char)len;
  } else if (len < 65536) {
    hdr[h++] = 126;
    hdr[h++] = (unsigned char)(len >> 8);
    hdr[h++] = (unsigned char)len;
  } else {
    hdr[h++] = 127;
    for (int i = 7; i >= 0; i--)
      hdr[h++] = (unsigned char)((unsigned long long)len >> (8 * i));
  }
  struct iovec iov[2] = {{hdr, h}, {(void *)text, len}};
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
  size_t total = h + len;
  while (total) {
    ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      usleep(100);
      continue;
    }
    if (w < 0) return;
    total -= (size_t)w;
    while (w > 0 && mh.msg_iovlen) {
      size_t k =
          (size_t)w < mh.msg_iov->iov_len ? (size_t)w : mh.msg_iov->iov_len;
      mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + k;
      mh.msg_iov->iov_len -= k;
      w -= (ssize_t)k;
      if (!mh.msg_iov->iov_len) mh.msg_iov++, mh.msg_iovlen--;
    }
  }
}

static long number_after(const char *text, const char *key) {
  const char *p = strstr(text, key);
  return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static int version = 1;

static void file_changed(void) {
  size_t len;
  char *text = slurp(&len);
  if (!text) return;
  long seq = number_after(text, "\"seq\": ");
  free(text);
  char msg[256];
  int n = snprintf(msg, sizeof msg,
                   "{\"type\":\"patch\",\"name\":\"state\",\"version\":%d,"
                   "\"ops\":[{\"op\":\"replace\",\"path\":\"/bench/seq\","
                   "\"value\":%ld}],\"origin\":\"file\"}",
                   ++version, seq);
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i] && clients[i]->subscribed)
      send_text(clients[i], msg, (size_t)n);
}

/* The file's text as the floor last wrote it, and whether it must be
 * written at the end of this loop turn. */
static char *text;
static size_t text_len;
static int dirty;

static void set_number(const char *key, long value) {
  if (!text) text = slurp(&text_len);
  char *p = text ? strstr(text, key) : NULL;
  if (!p) return;
  p += strlen(key);
  size_t old = strspn(p, "-0123456789");
  char num[24];
  int n = snprintf(num, sizeof num, "%ld", value);
  size_t at = (size_t)(p - text), len = text_len - old + (size_t)n;
  char *t = malloc(len + 1);
  memcpy(t, text, at);
  memcpy(t + at, num, (size_t)n);
  memcpy(t + at + (size_t)n, p + old, text_len - at - old + 1);
  free(text);
  text = t;
  text_len = len;
  dirty = 1;
}

static void write_file(void) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.floor-tmp", file);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, text, text_len) == (ssize_t)text_len && fsync(fd) == 0) {
    close(fd);
    rename(tmp, file);
  } else {
    close(fd);
  }
  dirty = 0;
}

static void on_message(struct client *c, const char *m, size_t len) {
  char *msg = strndup(m, len);
  char out[512];
  if (strstr(msg, "\"subscribe\"")) {
    c->subscribed = 1;
    size_t flen = 0;
    char *text = slurp(&flen);
    size_t cap = flen + 128;
    char *snap = malloc(cap);
    int n = snprintf(snap, cap,
                     "{\"type\":\"snapshot\",\"name\":\"state\",\"version\":%d,"
                     "\"state\":%s}",
                     version, text ? text : "null");
    send_text(c, snap, (size_t)n);
    free(snap);
    free(text);
  } else if (strstr(msg, "\"patch\"")) {
    long ref = number_after(msg, "\"ref\":");
    long value = number_after(msg, "\"value\":");
    int is_seq = strstr(msg, "/bench/seq") != NULL;
    int n = snprintf(out, sizeof out,
                     "{\"type\":\"ack\",\"name\":\"state\",\"ref\":%ld,"
                     "\"version\":%d}",
                     ref, ++version);
    send_text(c, out, (size_t)n);
    for (int i = 0; i < MAX_CLIENTS; i++)
      if (clients[i] && clients[i] != c && clients[i]->subscribed)
        send_text(clients[i], msg, len);
    set_number(is_seq ? "\"seq\": " : "\"counter\": ", value);
  }
  free(msg);
}

static void drop(struct client *c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  clients[c->fd] = NULL;
  free(c->in);
  free(c);
}

static void on_readable(struct client *c) {
  for (;;) {
    if (c->len == c->cap)
      c->in = realloc(c->in, c->cap = c->cap ? c->cap * 2 : 65536);
    ssize_t r = read(c->fd, c->in + c->len, c->cap - c->len);
    if (r < 0 && errno == EAGAIN) break;
    if (r <= 0) {
      drop(c);
      return;
    }
    c->len += (size_t)r;
  }
  size_t off = 0;
  if (!c->upgraded) {
    char *e = memmem(c->in, c->len, "\r\n\r\n", 4);
    if (!e) return;
    off = (size_t)(e + 4 - c->in);
    static const char resp[] =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Protocol: mirrorstate.v1\r\n\r\n";
    if (write(c->fd, resp, sizeof resp - 1) < 0) return;
    c->upgraded = 1;
    static const char hello[] = "{\"type\":\"hello\",\"protocol\":1,"
                                "\"server\":\"floor\",\"states\":[\"state\"]}";
    send_text(c, hello, sizeof hello - 1);
  }
  for (;;) {
    unsigned char *p = (unsigned char *)c->in + off;
    size_t avail = c->len - off;
    if (avail < 2) break;
    unsigned long long plen = p[1] & 0x7f;
    size_t h = 2;
    if (plen == 126) {
      if (avail < 4) break;
      plen = (unsigned long long)p[2] << 8 | p[3];
      h = 4;
    } else if (plen == 127) {
      if (avail < 10) break;
      plen = 0;
      for (int i = 0; i < 8; i++)
        plen = plen << 8 | p[2 + i];
      h = 10;
    }
    int masked = p[1] & 0x80;
    if (avail < h + (masked ? 4 : 0) + plen) break;
    unsigned char *key = p + h, *data = p + h + (masked ? 4 : 0);
    if (masked)
      for (unsigned long long i = 0; i < plen; i++)
        data[i] ^= key[i & 3];
    off += h + (masked ? 4 : 0) + (size_t)plen;
    if ((p[0] & 0x0f) == 0x8) {
      drop(c);
      return;
    }
    if ((p[0] & 0x0f) == 0x1) on_message(c, (const char *)data, (size_t)plen);
  }
  memmove(c->in, c->in + off, c->len - off);
  c->len -= off;
}

static volatile sig_atomic_t stop;
static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], "--file")) file = argv[i + 1];
  if (!file) {
    fprintf(stderr, "usage: floor --file DIR/state.json\n");
    return 2;
  }
  char *dir = strdup(file), *slash = strrchr(dir, '/');
  if (!slash) return 2;
  *slash = '\0';
  base = slash + 1 - dir + file;
  signal(SIGTERM, on_term);
  signal(SIGPIPE, SIG_IGN);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 1024) ||
      getsockname(lfd, (struct sockaddr *)&a, &alen))
    return 1;
  int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  inotify_add_watch(ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = -1};
  epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
  ev.data.fd = -2;
  epoll_ctl(epfd, EPOLL_CTL_ADD, ifd, &ev);
  printf("http://127.0.0.1:%d/_mirrorstate/\n", ntohs(a.sin_port));
  fflush(stdout);
  while (!stop) {
    struct epoll_event evs[64];
    int n = epoll_wait(epfd, evs, 64, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == -1) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
               0) {
          if (c >= MAX_CLIENTS) {
            close(c);
            continue;
          }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct client *cl = calloc(1, sizeof *cl);
          cl->fd = c;
          clients[c] = cl;
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(epfd, EPOLL_CTL_ADD, c, &cev);
        }
      } else if (fd == -2) {
        char buf[8192] __attribute__((aligned(8)));
        int touched = 0;
        ssize_t r;
        while ((r = read(ifd, buf, sizeof buf)) > 0)
          for (char *p = buf; p < buf + r;) {
            struct inotify_event *e = (struct inotify_event *)p;
            if (e->len && !strcmp(e->name, base)) touched = 1;
            p += sizeof *e + e->len;
          }
        if (touched && !dirty) file_changed();
      } else if (clients[fd]) {
        on_readable(clients[fd]);
      }
    }
    if (dirty) write_file();
  }
  return 0;
}
