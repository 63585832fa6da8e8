/* The driver's helpers, JSON scanner and states. */
#include "cdriver.h"

/* ---- small things ------------------------------------------------------- */

int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sleep_ms(double ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(fmod(ms, 1000) * 1e6)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fprintf(stderr, "cdriver: out of memory\n");
    exit(2);
  }
  return q;
}

char *xstrdup(const char *s) {
  return strcpy(xrealloc(NULL, strlen(s) + 1), s);
}

int failures;

void failf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FAIL: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  failures++;
}

void note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "[cdriver] ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
}

int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = xrealloc(NULL, cap + 1);
  for (;;) {
    if (n == cap) buf = xrealloc(buf, (cap *= 2) + 1);
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Percentile as v[ceil(p/100 n) - 1] of the sorted samples. */
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void add_sample(struct samples *s, double x) {
  if (s->n == s->cap)
    s->v = xrealloc(s->v, (s->cap = s->cap ? s->cap * 2 : 64) * sizeof *s->v);
  s->v[s->n++] = x;
}

double pct(struct samples *s, double p) {
  if (!s->n) return NAN;
  qsort(s->v, s->n, sizeof *s->v, cmp_double);
  size_t i = (size_t)ceil(p / 100 * (double)s->n);
  return s->v[i ? i - 1 : 0];
}

/* ---- a JSON scanner: validates nothing it does not need, allocates
 * nothing; every function takes [p, end) and returns a position or NULL. */

static const char *js_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    p++;
  return p;
}

static const char *js_string_end(const char *p, const char *end) {
  for (p++; p < end; p++) {
    if (*p == '\\')
      p++;
    else if (*p == '"')
      return p + 1;
  }
  return NULL;
}

const char *js_skip(const char *p, const char *end) {
  p = js_ws(p, end);
  if (p >= end) return NULL;
  if (*p == '"') return js_string_end(p, end);
  if (*p == '{' || *p == '[') {
    int depth = 0;
    while (p < end) {
      char c = *p;
      if (c == '"') {
        if (!(p = js_string_end(p, end))) return NULL;
        continue;
      }
      if (c == '{' || c == '[')
        depth++;
      else if ((c == '}' || c == ']') && --depth == 0)
        return p + 1;
      p++;
    }
    return NULL;
  }
  while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
         *p != '\n' && *p != '\r' && *p != '\t')
    p++;
  return p;
}

/* The value of member key of the object at p: *vs and the return value
 * bound it. */
const char *js_get(const char *p, const char *end, const char *key,
                   const char **vs) {
  size_t klen = strlen(key);
  p = js_ws(p, end);
  if (p >= end || *p != '{') return NULL;
  p++;
  for (;;) {
    p = js_ws(p, end);
    if (p >= end || *p != '"') return NULL;
    const char *ks = p + 1, *ke = js_string_end(p, end);
    if (!ke) return NULL;
    p = js_ws(ke, end);
    if (p >= end || *p != ':') return NULL;
    const char *v = js_ws(p + 1, end), *ve = js_skip(v, end);
    if (!ve) return NULL;
    if ((size_t)(ke - 1 - ks) == klen && memcmp(ks, key, klen) == 0) {
      *vs = v;
      return ve;
    }
    p = js_ws(ve, end);
    if (p >= end || *p != ',') return NULL;
    p++;
  }
}

int js_is(const char *vs, const char *ve, const char *lit) {
  size_t n = strlen(lit);
  return ve && (size_t)(ve - vs) == n && memcmp(vs, lit, n) == 0;
}

/* A number member: 1 and *out, or 0. */
int js_num(const char *p, const char *end, const char *key, double *out) {
  const char *vs, *ve = js_get(p, end, key, &vs);
  if (!ve || vs >= end || !(*vs == '-' || (*vs >= '0' && *vs <= '9'))) return 0;
  char tmp[40];
  size_t n =
      (size_t)(ve - vs) < sizeof tmp - 1 ? (size_t)(ve - vs) : sizeof tmp - 1;
  memcpy(tmp, vs, n);
  tmp[n] = '\0';
  *out = strtod(tmp, NULL);
  return 1;
}

/* The value at a path of member names (NULL-terminated) below [p, end). */
const char *js_path(const char *p, const char *end, const char *const *keys,
                    const char **vs) {
  *vs = p;
  const char *ve = end;
  for (; *keys; keys++)
    if (!(ve = js_get(*vs, ve, *keys, vs))) return NULL;
  return ve;
}

/* ---- what a message says about the two values the scenarios change ------
 *
 * A client follows bench.seq (the file scenarios) and counter (the client
 * scenarios), from a snapshot or from patch ops that replace or add them,
 * their parent, or the whole document. */

static int value_in(const char *vs, const char *ve, enum watched w, int depth,
                    double *out) {
  /* vs..ve is the value at depth 0 (the document), 1 (/bench) or 2. */
  static const char *const seq[] = {"bench", "seq", NULL};
  static const char *const counter[] = {"counter", NULL};
  const char *const *keys = w == W_SEQ ? seq + depth : counter + depth;
  const char *s, *e = js_path(vs, ve, keys, &s);
  if (!e) return 0;
  if (*keys == NULL) e = ve; /* the value itself */
  if (s >= e || !(*s == '-' || (*s >= '0' && *s <= '9'))) return 0;
  *out = strtod(s, NULL);
  return 1;
}

void inspect(const char *msg, size_t len, enum watched w, struct seen *out) {
  const char *end = msg + len, *vs, *ve;
  memset(out, 0, sizeof *out);
  ve = js_get(msg, end, "type", &vs);
  if (js_is(vs, ve, "\"patch\""))
    out->type = 3;
  else if (js_is(vs, ve, "\"ack\""))
    out->type = 4;
  else if (js_is(vs, ve, "\"snapshot\""))
    out->type = 2;
  else if (js_is(vs, ve, "\"hello\""))
    out->type = 1;
  else if (js_is(vs, ve, "\"error\""))
    out->type = 5;
  if (out->type == 4 || out->type == 5)
    out->has_ref = js_num(msg, end, "ref", &out->ref);
  js_num(msg, end, "version", &out->version);
  if (out->type == 2) {
    if ((ve = js_get(msg, end, "state", &vs)))
      out->has_value = value_in(vs, ve, w, 0, &out->value);
  } else if (out->type == 3 && (ve = js_get(msg, end, "ops", &vs))) {
    const char *p = js_ws(vs, ve) + 1;
    const char *want = w == W_SEQ ? "\"/bench/seq\"" : "\"/counter\"";
    while (p < ve) {
      p = js_ws(p, ve);
      if (*p != '{') break;
      const char *oe = js_skip(p, ve), *ps, *pe, *xs, *xe;
      if (!oe) break;
      pe = js_get(p, oe, "path", &ps);
      xe = js_get(p, oe, "value", &xs);
      if (pe && xe) {
        int depth = js_is(ps, pe, want)                         ? 2
                    : w == W_SEQ && js_is(ps, pe, "\"/bench\"") ? 1
                    : js_is(ps, pe, "\"\"")                     ? 0
                                                                : -1;
        if (w == W_COUNTER && depth == 2) depth = 1;
        double v;
        if (depth >= 0 && value_in(xs, xe, w, depth, &v)) {
          out->has_value = 1;
          out->value = v;
        }
      }
      p = js_ws(oe, ve);
      if (p < ve && *p == ',') p++;
    }
  }
}

/* ---- states ------------------------------------------------------------- */

/* A state pretty-printed as JSON.stringify(v, null, 2) + "\n" prints it,
 * about `bytes` long: {"bench": {"seq": N, "stamp": "x"}, "counter": 0,
 * "items": [...]}. The text is head, the number, tail. */

void make_state(size_t bytes, struct state_text *st) {
  static const char head[] = "{\n  \"bench\": {\n    \"seq\": ";
  const char *tail0 =
      ",\n    \"stamp\": \"x\"\n  },\n  \"counter\": 0,\n  \"items\": [";
  size_t cap = bytes + 4096, n = 0;
  char *tail = xrealloc(NULL, cap);
  n += (size_t)sprintf(tail, "%s", tail0);
  for (int i = 0; n + 2 + strlen(head) < bytes || i == 0; i++) {
    if (n + 400 > cap) tail = xrealloc(tail, cap *= 2);
    n += (size_t)sprintf(
        tail + n,
        "%s\n    {\n      \"id\": %d,\n      \"name\": \"item %d\",\n"
        "      \"done\": %s,\n      \"tags\": [\n        \"alpha\",\n"
        "        \"beta\"\n      ],\n      \"note\": \"lorem ipsum "
        "dolor sit amet\"\n    }",
        i ? "," : "", i, i, i % 3 == 0 ? "true" : "false");
  }
  n += (size_t)sprintf(tail + n, "\n  ]\n}\n");
  st->head = xstrdup(head);
  st->head_len = strlen(head);
  st->tail = tail;
  st->tail_len = n;
}

size_t state_size(const struct state_text *st) {
  return st->head_len + 1 + st->tail_len;
}

/* Writes the state with seq = v: by temp file and rename, or in place. */
int write_state(const char *dir, const struct state_text *st, long v,
                int rename_style, int64_t *written) {
  char path[PATH_MAX], tmp[PATH_MAX], num[24];
  snprintf(path, sizeof path, "%s/state.json", dir);
  snprintf(tmp, sizeof tmp, "%s/.state.json.bench-tmp", dir);
  int nlen = snprintf(num, sizeof num, "%ld", v);
  struct iovec iov[3] = {
      {st->head, st->head_len}, {num, (size_t)nlen}, {st->tail, st->tail_len}};
  int fd = open(rename_style ? tmp : path,
                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  size_t total = st->head_len + (size_t)nlen + st->tail_len, done = 0;
  while (done < total) {
    ssize_t w = writev(fd, iov, 3);
    if (w < 0) {
      close(fd);
      return -1;
    }
    done += (size_t)w;
    for (int i = 0; i < 3; i++) { /* skip what went out */
      size_t k = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
      iov[i].iov_base = (char *)iov[i].iov_base + k;
      iov[i].iov_len -= k;
      w -= (ssize_t)k;
    }
  }
  close(fd);
  if (rename_style && rename(tmp, path) != 0) return -1;
  if (written) *written = now_ns();
  return 0;
}
