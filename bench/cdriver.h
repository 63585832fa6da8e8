/* The benchmark driver's parts (cdriver.c): helpers, the JSON scanner and
 * states (cdriver_util.c), servers and the WebSocket client
 * (cdriver_net.c), the results table (cdriver_table.c). */
#ifndef MS_CDRIVER_H
#define MS_CDRIVER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#define MAX_SERVERS 4
#define MAX_ROWS 48

struct samples {
  double *v;
  size_t n, cap;
};

enum watched { W_SEQ, W_COUNTER };

struct seen {
  int type; /* 0 other, 1 hello, 2 snapshot, 3 patch, 4 ack, 5 error */
  int has_value;
  double value;
  double ref;
  int has_ref;
  double version;
};

struct state_text {
  char *head, *tail;
  size_t head_len, tail_len;
};

struct server_def {
  char *label;
  char *cmd; /* with {file} */
};

struct server {
  pid_t pid;
  pid_t attached; /* $CDRIVER_ATTACH, run on the server's pid */
  int port;
  char dir[1100]; /* the temp dir; the state is dir/d/state.json */
  char ddir[1104];
};

struct ws {
  int fd;
  int id;
  char *in; /* bytes read and not yet framed */
  size_t inlen, incap;
  char *msg; /* the message being reassembled */
  size_t msglen, msgcap;
  int in_msg;
  char *out; /* bytes not yet written */
  size_t outlen, outcap;
  int closed;
  struct seen last;
  int64_t t_read; /* when the read that completed the message returned */
  /* per scenario */
  double got; /* the last watched value seen */
  int has_got;
  long msgs;
};

typedef void (*on_message)(struct ws *c, const char *msg, size_t len,
                           void *arg);

struct row {
  char scenario[64];
  char metric[64];
  char goal[24];
  int higher_better;
  int nvals; /* 1 or 2 values per server (p50 / p99) */
  double v[MAX_SERVERS][2];
  int has[MAX_SERVERS];
};

extern int failures;
extern char tmp_root[1024];
extern pid_t running; /* killed if the driver is interrupted */
extern int epfd;
extern int ino_fd;       /* the scenario's inotify descriptor, or -1 */
extern int64_t ino_when; /* when the last batch was read */
extern int ino_events;   /* batches seen naming state.json */
extern struct row rows[MAX_ROWS];
extern int nrows;
extern int nservers;
extern struct server_def servers[MAX_SERVERS];

int64_t now_ns(void);
void sleep_ms(double ms);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void failf(const char *fmt, ...);
void note(const char *fmt, ...);
int write_all(int fd, const char *p, size_t n);
char *read_file(const char *path, size_t *len);
void add_sample(struct samples *s, double x);
double pct(struct samples *s, double p);
const char *js_skip(const char *p, const char *end);
const char *js_get(const char *p, const char *end, const char *key,
                   const char **vs);
int js_is(const char *vs, const char *ve, const char *lit);
int js_num(const char *p, const char *end, const char *key, double *out);
const char *js_path(const char *p, const char *end, const char *const *keys,
                    const char **vs);
void inspect(const char *msg, size_t len, enum watched w, struct seen *out);
void make_state(size_t bytes, struct state_text *st);
size_t state_size(const struct state_text *st);
int write_state(const char *dir, const struct state_text *st, long v,
                int rename_style, int64_t *written);
void make_dirs(struct server *s, const char *tag);
void remove_tree(const char *path);
void on_signal(int sig);
int server_start(const struct server_def *def, struct server *s);
void server_stop(struct server *s);
int64_t cpu_ns(pid_t pid);
long proc_kb(pid_t pid, const char *field);
void ws_flush(struct ws *c);
void ws_queue(struct ws *c, const char *text, size_t len);
void ws_send(struct ws *c, const char *text, size_t len);
void ws_close(struct ws *c);
struct ws *ws_connect(int port, int id);
int ws_read(struct ws *c, on_message cb, void *arg);
int pump(int timeout_ms, on_message cb, void *arg);
void put(int srv, const char *scenario, const char *metric, const char *goal,
         int higher_better, double a);
void put2(int srv, const char *scenario, const char *metric, const char *goal,
          double a, double b);
void print_table(void);
void write_json(const char *path);

#endif
