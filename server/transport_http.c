/* HTTP requests: every request's headers read whole, one access check for
 * every route (WebSocket upgrades, the API, the panel and client assets,
 * the app's static files, 404s), and replies that carry the security
 * headers. */
#include "transport_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "log.h"
#include "protocol.h"
#include "static.h"

/* Longest header value (and query) read; a longer one is refused. lws
 * holds at most TRANSPORT_HEADER_SPACE bytes of all of a request's
 * headers and drops a request with more. */
#define HDR_MAX 8192

/* Every response: no framing but by the server's own origin and the
 * DevTools extension, whose panel page (chrome-extension:) frames the
 * panel inside DevTools (devtools:); Chromium checks every ancestor. No web
 * page can have either scheme. */
#define FRAME_ANCESTORS "frame-ancestors 'self' chrome-extension: devtools:"
static const char CSP_PANEL[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; " FRAME_ANCESTORS;

void http_init_vhost_headers(struct transport *t) {
  struct lws_protocol_vhost_options *h = t->vhost_headers;
  h[0].name = "x-content-type-options:";
  h[0].value = "nosniff";
  h[0].next = &h[1];
  h[1].name = "content-security-policy:";
  h[1].value = FRAME_ANCESTORS;
  h[1].next = NULL;
}

/* --- reading a request's headers whole ------------------------------------ */

struct req {
  char *host, *origin, *auth, *cookie; /* NULL when absent */
  struct http_arg *args;               /* the query, decoded */
  int nargs;
  const char *qtoken; /* the token= value (in args), or NULL */
  char why[128];
};

static void req_free(struct req *r) {
  free(r->host);
  free(r->origin);
  free(r->auth);
  free(r->cookie);
  http_args_free(r->args, r->nargs);
}

static int too_long(struct req *r, const char *name) {
  snprintf(r->why, sizeof r->why, "the %s is longer than %d bytes", name,
           HDR_MAX);
  return -1;
}

/* Reads header tok whole. Returns 1 with a new string in *out (blanks
 * around it trimmed; repeated headers joined with sep, or refused when sep
 * is 0), 0 if absent, or -1 with the reason in r->why. lws keeps a header
 * sent twice as two fragments: each is read, none is cut short. */
static int hdr_read(struct lws *wsi, enum lws_token_indexes tok,
                    const char *name, char sep, char **out, struct req *r) {
  char *buf = NULL;
  size_t len = 0;
  int i;
  *out = NULL;
  for (i = 0;; i++) {
    int flen = lws_hdr_fragment_length(wsi, tok, i);
    if (flen < 0 || len + (size_t)flen > HDR_MAX) {
      free(buf);
      char what[64];
      snprintf(what, sizeof what, "%s header", name);
      return too_long(r, what);
    }
    size_t at = len + (i && sep ? 2 : 0);
    char *grown = realloc(buf, at + (size_t)flen + 1);
    if (!grown) {
      free(buf);
      snprintf(r->why, sizeof r->why, "out of memory reading the %s header",
               name);
      return -1;
    }
    buf = grown;
    int n = lws_hdr_copy_fragment(wsi, buf + at, flen + 1, tok, i);
    if (n < 0) break;
    if (i > 0 && !sep) {
      free(buf);
      snprintf(r->why, sizeof r->why, "the %s header was sent more than once",
               name);
      return -1;
    }
    if (at > len) {
      buf[len] = sep;
      buf[len + 1] = ' ';
    }
    len = at + (size_t)n;
  }
  if (i == 0) {
    free(buf);
    return 0;
  }
  size_t start = 0;
  while (start < len && (buf[start] == ' ' || buf[start] == '\t'))
    start++;
  while (len > start && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
    len--;
  memmove(buf, buf + start, len - start);
  buf[len - start] = '\0';
  *out = buf;
  return 1;
}

void http_args_free(struct http_arg *args, int n) {
  for (int i = 0; i < n; i++) {
    free(args[i].key); /* the value shares the key's allocation */
  }
  free(args);
}

/* Reads the query's arguments, each decoded once by lws (which splits at
 * '&' and ';', turns '+' into a space and decodes %XX: a decoded '&' or
 * '=' is part of a value, never a separator). Nothing here decodes again. */
static int args_read(struct lws *wsi, struct req *r) {
  size_t raw = 0;
  for (int i = 0;; i++) {
    int flen = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (flen < 0 || (size_t)flen > HDR_MAX) return too_long(r, "query");
    char *frag = malloc((size_t)flen + 1);
    struct http_arg *grown =
        frag ? realloc(r->args, (size_t)(r->nargs + 1) * sizeof *grown) : NULL;
    if (!grown) {
      free(frag);
      snprintf(r->why, sizeof r->why, "out of memory reading the query");
      return -1;
    }
    r->args = grown;
    int n =
        lws_hdr_copy_fragment(wsi, frag, flen + 1, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) {
      free(frag);
      break;
    }
    raw += (size_t)n + (i > 0);
    if (raw > HDR_MAX) {
      free(frag);
      return too_long(r, "query");
    }
    char *eq = strchr(frag, '=');
    if (eq) *eq = '\0';
    r->args[r->nargs].key = frag;
    r->args[r->nargs].value = eq ? eq + 1 : frag + n;
    r->nargs++;
    if (!r->qtoken && eq && strcmp(frag, "token") == 0) r->qtoken = eq + 1;
  }
  return 0;
}

static int req_read(struct lws *wsi, struct req *r) {
  memset(r, 0, sizeof *r);
  if (hdr_read(wsi, WSI_TOKEN_HOST, "Host", 0, &r->host, r) < 0 ||
      hdr_read(wsi, WSI_TOKEN_ORIGIN, "Origin", 0, &r->origin, r) < 0 ||
      hdr_read(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, "Authorization", 0, &r->auth,
               r) < 0 ||
      hdr_read(wsi, WSI_TOKEN_HTTP_COOKIE, "Cookie", ';', &r->cookie, r) < 0 ||
      args_read(wsi, r) < 0)
    return -1;
  return 0;
}

/* --- the one access check ------------------------------------------------ */

enum route {
  ROUTE_WS,     /* the WebSocket */
  ROUTE_API,    /* /_mirrorstate/api/ */
  ROUTE_PUBLIC, /* the panel, client assets, healthz: public code */
  ROUTE_STATIC, /* the app's files */
  ROUTE_NONE,   /* nothing there: 404 */
};

static int is_ours(const char *path) {
  return strncmp(path, "/_mirrorstate", 13) == 0 &&
         (path[13] == '\0' || path[13] == '/');
}

/* The API and the WebSocket need the token when one is set; the panel's
 * and the client's code and healthz are public. */
static int needs_token(const char *path) {
  return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
         strcmp(path, "/ws") == 0;
}

static enum route route_of(const struct transport *t, const char *path) {
  if (is_ours(path)) return needs_token(path + 13) ? ROUTE_API : ROUTE_PUBLIC;
  return t->statics ? ROUTE_STATIC : ROUTE_NONE;
}

/* Fills r with an error message as its JSON body. */
static void error_reply(struct http_reply *r, int status, const char *code,
                        const char *message) {
  memset(r, 0, sizeof *r);
  r->version = -1;
  r->status = status;
  r->content_type = "application/json";
  r->body = msg_error(code, message, NULL, NULL, &r->len);
  if (!r->body) {
    r->status = 500;
    r->body = strdup("{}");
    r->len = r->body ? 2 : 0;
  }
}

/* Asks the receiver of on_http to answer req. */
static void ask(struct transport *t, const struct http_request *req,
                struct http_reply *r) {
  memset(r, 0, sizeof *r);
  r->version = -1;
  if (t->ev.on_http)
    t->ev.on_http(t->ev.arg, req, r);
  else
    error_reply(r, 404, ERR_NOT_FOUND, "no such page");
}

/* NULL if the request may go on, else why not. */
static const char *refuse_reason(const struct transport *t, const struct req *r,
                                 enum route route) {
  if (!access_host_ok(t->access, r->host))
    return "Host header not allowed (DNS rebinding defence; see --allow-host)";
  if (!access_origin_ok(t->access, r->origin))
    return "Origin not allowed (see --allow-origin)";
  if (route == ROUTE_WS || route == ROUTE_API || route == ROUTE_STATIC) {
    int ok = access_token_ok(t->access, r->qtoken, r->auth);
    if (!ok && route == ROUTE_STATIC && r->cookie && t->cookie_value[0])
      ok = access_cookie_ok(r->cookie, t->cookie_name, t->cookie_value);
    if (!ok) return "missing or wrong token";
  }
  return NULL;
}

/* A header value for the log: printable, at most 200 bytes. */
static const char *shown(const char *v, char *buf, size_t n) {
  if (!v) return "none";
  size_t len = strlen(v), k = 0;
  for (size_t i = 0; i < len && k + 1 < n && i < 200; i++)
    buf[k++] = v[i] >= ' ' && v[i] < 0x7f ? v[i] : '?';
  buf[k] = '\0';
  if (len > 200) {
    char tail[40];
    int m = snprintf(tail, sizeof tail, "... (%zu bytes)", len);
    if (m > 0 && k + (size_t)m < n) memcpy(buf + k, tail, (size_t)m + 1);
  }
  return buf;
}

static void log_refusal(struct lws *wsi, const char *what, const struct req *r,
                        const char *why) {
  char peer[64], host[256], origin[256], path[128];
  lws_get_peer_simple(wsi, peer, sizeof peer);
  log_warn("refused %s from %s (Host: %s, Origin: %s): %s",
           shown(what, path, sizeof path), peer,
           shown(r->host, host, sizeof host),
           shown(r->origin, origin, sizeof origin), why);
}

/* --- WebSocket upgrades --------------------------------------------------- */

/* Answers an upgrade with status and a JSON error; the connection closes
 * after it. Returns 1, for the filter. */
static int ws_refuse(struct lws *wsi, int status, const char *code,
                     const char *message) {
  struct http_reply r;
  error_reply(&r, status, code, message);
  size_t cap = LWS_PRE + 2048 + r.len;
  unsigned char *buf = r.body ? malloc(cap) : NULL;
  if (buf) {
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + cap - 1;
    if (!lws_add_http_common_headers(wsi, (unsigned int)status, r.content_type,
                                     r.len, &p, end) &&
        !lws_add_http_header_by_name(
            wsi, (const unsigned char *)"cache-control:",
            (const unsigned char *)"no-store", 8, &p, end) &&
        !lws_finalize_http_header(wsi, &p, end)) {
      memcpy(p, r.body, r.len);
      p += r.len;
      lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP);
    }
  }
  free(buf);
  free(r.body);
  return 1;
}

/* Reads the request's headers into *r and checks them for route: 0, or
 * the status to refuse it with (400 unreadable, 403 refused; *why says
 * why). */
static int check_request(struct transport *t, struct lws *wsi,
                         enum route route, struct req *r, const char **why) {
  *why = NULL;
  if (req_read(wsi, r) != 0) {
    *why = r->why;
    return 400;
  }
  return (*why = refuse_reason(t, r, route)) ? 403 : 0;
}

int http_ws_filter(struct transport *t, struct lws *wsi) {
  struct req r;
  const char *why;
  int status = check_request(t, wsi, ROUTE_WS, &r, &why);
  if (why) {
    log_refusal(wsi, "WebSocket", &r, why);
    ws_refuse(wsi, status, status == 400 ? ERR_BAD_REQUEST : ERR_FORBIDDEN,
              why);
    req_free(&r);
    return 1;
  }
  req_free(&r);
  /* lws accepts an upgrade on any path. */
  char uri[32];
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) >= (int)sizeof uri ||
      lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 ||
      strcmp(uri, "/_mirrorstate/ws") != 0)
    return ws_refuse(wsi, 404, ERR_NOT_FOUND,
                     "the WebSocket is at /_mirrorstate/ws");
  if (t->nsessions >= t->cfg->max_clients) {
    log_warn("refused WebSocket: --max-clients %d reached",
             t->cfg->max_clients);
    return ws_refuse(wsi, 503, ERR_UNAVAILABLE, "too many clients");
  }
  return 0;
}

char *http_ws_origin(struct lws *wsi) {
  struct req r;
  char *origin;
  memset(&r, 0, sizeof r);
  if (hdr_read(wsi, WSI_TOKEN_ORIGIN, "Origin", 0, &origin, &r) <= 0)
    return strdup("");
  return origin;
}

/* --- HTTP replies -------------------------------------------------------- */

static void add_header(struct pss *p, const char *name, char *value) {
  if (value && p->nheaders < REPLY_MAX_HEADERS) {
    p->headers[p->nheaders].name = name;
    p->headers[p->nheaders++].value = value;
  } else {
    free(value);
  }
}

static void reply_done(struct pss *p) {
  free(p->reply.body);
  p->reply.body = NULL;
  for (int i = 0; i < p->nheaders; i++)
    free(p->headers[i].value);
  p->nheaders = 0;
  p->replying = 0;
}

static int add(struct lws *wsi, const char *name, const char *value,
               unsigned char **p, unsigned char *end) {
  return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                     (const unsigned char *)value,
                                     (int)strlen(value), p, end);
}

static int send_headers(struct lws *wsi, struct pss *p) {
  struct http_reply *r = &p->reply;
  size_t cap = LWS_PRE + 1024;
  for (int i = 0; i < p->nheaders; i++)
    cap += strlen(p->headers[i].name) + strlen(p->headers[i].value) + 4;
  unsigned char *buf = malloc(cap);
  if (!buf) return -1;
  unsigned char *start = buf + LWS_PRE, *ptr = start, *end = buf + cap - 1;
  char v[32];
  int fail;
  if (p->head) {
    /* HEAD: the length a GET would have, and no body. */
    snprintf(v, sizeof v, "%zu", r->len);
    fail =
        lws_add_http_header_status(wsi, (unsigned int)r->status, &ptr, end) ||
        add(wsi, "content-type:", r->content_type, &ptr, end) ||
        add(wsi, "content-length:", v, &ptr, end);
  } else {
    fail = lws_add_http_common_headers(wsi, (unsigned int)r->status,
                                       r->content_type, r->len, &ptr, end);
  }
  fail = fail || add(wsi, "cache-control:", "no-store", &ptr, end);
  if (!fail && r->version >= 0) {
    snprintf(v, sizeof v, "%lld", r->version);
    fail = add(wsi, "x-mirrorstate-version:", v, &ptr, end);
  }
  for (int i = 0; i < p->nheaders && !fail; i++)
    fail = add(wsi, p->headers[i].name, p->headers[i].value, &ptr, end);
  fail = fail || lws_finalize_write_http_header(wsi, start, &ptr, end);
  free(buf);
  if (fail) return -1;
  if (p->head) {
    reply_done(p);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }
  p->replying = 1;
  p->sent = 0;
  lws_callback_on_writable(wsi);
  return 0;
}

static int http_writable(struct lws *wsi, struct pss *p) {
  if (!p->replying) return 0;
  struct http_reply *r = &p->reply;
  /* Write in place: the headroom lws may use before a chunk is either our
   * own bytes already sent, or the LWS_PRE-sized gap we kept in front. */
  size_t chunk = r->len - p->sent;
  if (chunk > 65536) chunk = 65536;
  int final = p->sent + chunk == r->len;
  unsigned char *tmp = NULL;
  unsigned char *out;
  if (p->sent == 0) {
    tmp = malloc(LWS_PRE + chunk + 1);
    if (!tmp) return -1;
    memcpy(tmp + LWS_PRE, r->body, chunk);
    out = tmp + LWS_PRE;
  } else {
    out = (unsigned char *)r->body + p->sent;
  }
  int n =
      lws_write(wsi, out, chunk, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
  free(tmp);
  if (n < 0) return -1;
  p->sent += chunk;
  if (!final) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  reply_done(p);
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Fills the reply with an error; sent at once, or after a POST's body. */
static void set_error(struct pss *p, int status, const char *code,
                      const char *message) {
  free(p->reply.body);
  error_reply(&p->reply, status, code, message);
  p->refused = 1;
}

/* Appends s percent-encoded (all but RFC 3986's unreserved characters). */
static char *encode_into(char *o, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      *o++ = (char)c;
    } else {
      *o++ = '%';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  return o;
}

/* A redirect to the path to, with the request's query encoded again. */
static void set_redirect(struct pss *p, const char *to) {
  size_t n = strlen(to) + 2;
  for (int i = 0; i < p->nargs; i++)
    n += 3 * (strlen(p->args[i].key) + strlen(p->args[i].value)) + 2;
  char *loc = malloc(n), *o = loc;
  if (loc) {
    o += sprintf(o, "%s", to);
    for (int i = 0; i < p->nargs; i++) {
      *o++ = i ? '&' : '?';
      o = encode_into(o, p->args[i].key);
      *o++ = '=';
      o = encode_into(o, p->args[i].value);
    }
    *o = '\0';
  }
  set_error(p, 308, ERR_MOVED, "moved: see the Location header");
  add_header(p, "location:", loc);
}

static int serve_static(struct transport *t, struct lws *wsi, struct pss *p,
                        const struct req *r) {
  const char *mime;
  int fd = static_open(t->statics, p->path, &mime);
  if (fd == -EISDIR) {
    char *dir = malloc(strlen(p->path) + 2);
    if (!dir) return -1;
    sprintf(dir, "%s/", p->path);
    set_redirect(p, dir);
    free(dir);
    return send_headers(wsi, p);
  }
  if (fd < 0) {
    set_error(p, 404, ERR_NOT_FOUND, "no such file");
    return send_headers(wsi, p);
  }
  /* A page opened with the token gets a cookie for the app's other files
   * (the cookie is a key of this run, not the token). */
  unsigned char hdrs[256], *hp = hdrs;
  if (t->cfg->token && t->cookie_value[0] &&
      access_token_ok(t->access, r->qtoken, r->auth)) {
    char cookie[160];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict",
             t->cookie_name, t->cookie_value);
    if (add(wsi, "set-cookie:", cookie, &hp, hdrs + sizeof hdrs)) hp = hdrs;
  }
  /* lws opens the file by name: this name is the file already opened and
   * checked, so nothing can be swapped in between. */
  char file[48];
  snprintf(file, sizeof file, "/proc/self/fd/%d", fd);
  int n = lws_serve_http_file(
      wsi, file, mime, hp > hdrs ? (const char *)hdrs : NULL, (int)(hp - hdrs));
  close(fd);
  if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi))) return -1;
  return 0;
}

/* MirrorState's own routes, once the request passed the check. */
static int serve_ours(struct transport *t, struct lws *wsi, struct pss *p,
                      const struct req *r, int is_post) {
  const char *sub = p->path + 13;
  if (!*sub && !is_post) {
    set_redirect(p, "/_mirrorstate/");
    return send_headers(wsi, p);
  }
  if (is_post) return 0; /* answered once the body is in */
  struct http_request req = {
      p->head ? HTTP_HEAD : HTTP_GET, sub, p->args, p->nargs, NULL, 0};
  ask(t, &req, &p->reply);
  if (strcmp(sub, "/") == 0) {
    add_header(p, "content-security-policy:", strdup(CSP_PANEL));
  } else if (strncmp(sub, "/api", 4) != 0 && strcmp(sub, "/healthz") != 0) {
    /* Client assets may be imported by pages of allowed origins. */
    add_header(p, "vary:", strdup("Origin"));
    if (r->origin)
      add_header(p, "access-control-allow-origin:", strdup(r->origin));
  }
  return send_headers(wsi, p);
}

static int http_begin(struct transport *t, struct lws *wsi, struct pss *p,
                      const char *in) {
  int is_post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
  int is_get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
  p->head = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
  p->refused = 0;
  free(p->path);
  http_args_free(p->args, p->nargs);
  p->args = NULL;
  p->nargs = 0;
  p->path = strdup(in && *in ? in : "/");
  if (!p->path) return -1;
  enum route route = route_of(t, p->path);
  struct req r;
  const char *why;
  int status = check_request(t, wsi, route, &r, &why);
  p->args = r.args;
  p->nargs = r.nargs;
  r.args = NULL;
  r.nargs = 0;
  if (why) {
    log_refusal(wsi, p->path, &r, why);
    set_error(p, status, status == 400 ? ERR_BAD_REQUEST : ERR_FORBIDDEN, why);
  } else if (is_post &&
             lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
    /* libwebsockets 4.1 cannot read chunked request bodies. */
    set_error(p, 411, ERR_LENGTH_REQUIRED,
              "a POST needs a Content-Length (chunked bodies are not "
              "supported)");
    is_post = 0;
  } else if (!is_get && !p->head && !(is_post && route != ROUTE_STATIC)) {
    set_error(p, 405, ERR_METHOD_NOT_ALLOWED,
              route == ROUTE_STATIC || route == ROUTE_NONE
                  ? "only GET and HEAD here"
                  : "only GET, HEAD and POST here");
    add_header(p, "allow:",
               strdup(route == ROUTE_STATIC || route == ROUTE_NONE
                          ? "GET, HEAD"
                          : "GET, HEAD, POST"));
  } else if (route == ROUTE_NONE) {
    set_error(p, 404, ERR_NOT_FOUND, "no such page");
  }
  int rc;
  if (p->refused)
    /* A refused POST's body is read and dropped, so the connection stays
     * usable for the client's next request. */
    rc = is_post ? 0 : send_headers(wsi, p);
  else if (route == ROUTE_STATIC)
    rc = serve_static(t, wsi, p, &r);
  else
    rc = serve_ours(t, wsi, p, &r, is_post);
  req_free(&r);
  return rc;
}

static int http_body(struct transport *t, struct pss *p, const char *in,
                     size_t len) {
  if (p->refused) return 0;
  if (p->body_len + len > t->cfg->max_message) {
    /* Read the rest and drop it, then answer: the client sees why. */
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
    set_error(p, 413, ERR_TOO_LARGE, "the body is larger than --max-message");
    return 0;
  }
  char *b = realloc(p->body, p->body_len + len + 1);
  if (!b) return -1;
  memcpy(b + p->body_len, in, len);
  p->body = b;
  p->body_len += len;
  return 0;
}

static int http_body_done(struct transport *t, struct lws *wsi, struct pss *p) {
  if (!p->refused) {
    struct http_request req = {HTTP_POST, p->path + 13, p->args,
                               p->nargs,  p->body,      p->body_len};
    ask(t, &req, &p->reply);
  }
  free(p->body);
  p->body = NULL;
  p->body_len = 0;
  return send_headers(wsi, p);
}

static void http_free(struct pss *p) {
  free(p->body);
  p->body = NULL;
  p->body_len = 0;
  free(p->path);
  p->path = NULL;
  http_args_free(p->args, p->nargs);
  p->args = NULL;
  p->nargs = 0;
  reply_done(p);
}

int http_callback(struct transport *t, struct lws *wsi,
                  enum lws_callback_reasons reason, struct pss *p, void *in,
                  size_t len) {
  switch (reason) {
  case LWS_CALLBACK_HTTP: return http_begin(t, wsi, p, in);
  case LWS_CALLBACK_HTTP_BODY: return http_body(t, p, in, len);
  case LWS_CALLBACK_HTTP_BODY_COMPLETION: return http_body_done(t, wsi, p);
  case LWS_CALLBACK_HTTP_WRITEABLE: return http_writable(wsi, p);
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
  case LWS_CALLBACK_CLOSED_HTTP:
    if (p) http_free(p);
    return -2; /* lws_callback_http_dummy cleans up its part */
  default: return -2;
  }
}
