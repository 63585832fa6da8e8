/* Host allowlist, Origin check, token, cookie and page URLs. */
#include "access.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

#define ACCESS_MAX_HOSTS 256
#define ACCESS_MAX_TAILNET 8
#define PAGE_URL_MAX 2048

enum { PORT_NONE = -1, PORT_ANY = -2 };

/* An --allow-origin: scheme, host and port (PORT_ANY for ":*"). */
struct origin_rule {
  char scheme[8];
  char host[ACCESS_HOST_MAX];
  int port;
};

struct access {
  char *hosts[ACCESS_MAX_HOSTS]; /* canonical names and addresses */
  int nhosts;
  char *tailnet[ACCESS_MAX_TAILNET]; /* this machine's own tailnet names */
  int ntailnet;
  char hostname[ACCESS_HOST_MAX]; /* short, lower case, or "" */
  struct origin_rule *origins;
  int norigins;
  const char *token;
};

/* --- parsing ------------------------------------------------------------- */

static int parse_port(const char *s, size_t n, int *port) {
  if (n == 0 || n > 5) return -1;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  if (v < 1 || v > 65535) return -1;
  *port = v;
  return 0;
}

/* A DNS-style name: labels of [a-z0-9_-], 1 to 63 bytes, one optional
 * trailing dot (dropped). Lower-cases into out. */
static int parse_name(const char *in, size_t n, char *out, size_t outlen) {
  if (n > 1 && in[n - 1] == '.') n--; /* "localhost." is localhost */
  if (n == 0 || n > 253 || n >= outlen) return -1;
  size_t label = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c == '.') {
      if (label == 0) return -1;
      label = 0;
    } else if (isalnum(c) || c == '-' || c == '_') {
      if (++label > 63) return -1;
    } else {
      return -1;
    }
    out[i] = (char)tolower(c);
  }
  if (label == 0) return -1;
  out[n] = '\0';
  return 0;
}

int access_parse_authority(const char *in, size_t n, char *out, size_t outlen,
                           int *port) {
  *port = PORT_NONE;
  const char *hend;
  if (n > 0 && in[0] == '[') {
    const char *close = memchr(in, ']', n);
    if (!close) return -1;
    char v6[INET6_ADDRSTRLEN + 1];
    size_t len = (size_t)(close - in - 1);
    struct in6_addr addr;
    if (len == 0 || len >= sizeof v6) return -1;
    memcpy(v6, in + 1, len);
    v6[len] = '\0';
    if (inet_pton(AF_INET6, v6, &addr) != 1 ||
        !inet_ntop(AF_INET6, &addr, out, (socklen_t)outlen))
      return -1;
    hend = close + 1;
  } else {
    hend = memchr(in, ':', n);
    if (!hend) hend = in + n;
    if (parse_name(in, (size_t)(hend - in), out, outlen) != 0) return -1;
  }
  size_t rest = n - (size_t)(hend - in);
  if (rest == 0) return 0;
  if (*hend != ':') return -1;
  return parse_port(hend + 1, rest - 1, port);
}

/* Splits "scheme://authority" with scheme http or https (any case). */
static int parse_origin(const char *origin, char *scheme, char *host,
                        int *port) {
  const char *sep = strstr(origin, "://");
  if (!sep) return -1;
  size_t n = (size_t)(sep - origin);
  if (!((n == 4 && strncasecmp(origin, "http", 4) == 0) ||
        (n == 5 && strncasecmp(origin, "https", 5) == 0)))
    return -1;
  for (size_t i = 0; i < n; i++)
    scheme[i] = (char)tolower((unsigned char)origin[i]);
  scheme[n] = '\0';
  const char *auth = sep + 3;
  if (access_parse_authority(auth, strlen(auth), host, ACCESS_HOST_MAX, port) !=
      0)
    return -1;
  /* Browsers leave the default port out; treat it as absent. */
  if ((*port == 80 && n == 4) || (*port == 443 && n == 5)) *port = PORT_NONE;
  return 0;
}

/* An --allow-origin: "scheme://host[:port]" or "scheme://host:*". */
static int parse_rule(const char *pattern, struct origin_rule *r) {
  char copy[ACCESS_HOST_MAX + 32];
  size_t n = strlen(pattern);
  if (n >= sizeof copy) return -1;
  memcpy(copy, pattern, n + 1);
  int any = n > 2 && strcmp(copy + n - 2, ":*") == 0;
  if (any) copy[n - 2] = '\0';
  if (parse_origin(copy, r->scheme, r->host, &r->port) != 0) return -1;
  if (any) {
    if (r->port != PORT_NONE) return -1;
    r->port = PORT_ANY;
  }
  return 0;
}

/* --- the allowlist ------------------------------------------------------- */

static char *canonical(const char *host) {
  char h[ACCESS_HOST_MAX];
  int port;
  if (!host ||
      access_parse_authority(host, strlen(host), h, sizeof h, &port) != 0 ||
      port != PORT_NONE) {
    /* A bare IPv6 address, as interfaces and --host give them. */
    struct in6_addr addr;
    if (!host || inet_pton(AF_INET6, host, &addr) != 1 ||
        !inet_ntop(AF_INET6, &addr, h, sizeof h))
      return NULL;
  }
  return strdup(h);
}

int access_valid_host(const char *host) {
  char *h = canonical(host);
  free(h);
  return h != NULL;
}

int access_valid_origin_rule(const char *pattern) {
  struct origin_rule r;
  return parse_rule(pattern, &r) == 0;
}

void access_allow_host(struct access *a, const char *host) {
  if (a->nhosts >= ACCESS_MAX_HOSTS) return;
  char *h = canonical(host);
  if (h) a->hosts[a->nhosts++] = h;
}

void access_forget_host(struct access *a, const char *host) {
  char *h = canonical(host);
  for (int i = a->nhosts - 1; h && i >= 0; i--)
    if (strcmp(a->hosts[i], h) == 0) {
      free(a->hosts[i]);
      memmove(&a->hosts[i], &a->hosts[i + 1],
              (size_t)(a->nhosts - i - 1) * sizeof *a->hosts);
      a->nhosts--;
      break;
    }
  free(h);
}

void access_clear_tailnet(struct access *a) {
  for (int i = 0; i < a->ntailnet; i++)
    free(a->tailnet[i]);
  a->ntailnet = 0;
}

static void add_tailnet(struct access *a, const char *name) {
  char *h = a->ntailnet < ACCESS_MAX_TAILNET ? canonical(name) : NULL;
  if (h) a->tailnet[a->ntailnet++] = h;
}

void access_set_tailnet_name(struct access *a, const char *dns_name) {
  char first[ACCESS_HOST_MAX];
  access_clear_tailnet(a);
  add_tailnet(a, dns_name);
  size_t n = strcspn(dns_name, ".");
  if (a->ntailnet && n < sizeof first) {
    memcpy(first, dns_name, n);
    first[n] = '\0';
    add_tailnet(a, first);
  }
}

void access_add_tailnet_domain(struct access *a, const char *domain) {
  char name[2 * ACCESS_HOST_MAX];
  if (!a->hostname[0]) return;
  snprintf(name, sizeof name, "%s.%s", a->hostname, domain);
  add_tailnet(a, name);
}

const char *access_hostname(const struct access *a) {
  return a->hostname;
}

int access_new(const struct config *cfg, struct access **out) {
  struct access *a = calloc(1, sizeof *a);
  *out = NULL;
  if (!a) return -1;
  static const char *const loopback[] = {"localhost", "127.0.0.1", "::1",
                                         "localhost.localdomain"};
  for (size_t i = 0; i < sizeof loopback / sizeof *loopback; i++)
    access_allow_host(a, loopback[i]);
  char name[ACCESS_HOST_MAX];
  int port;
  if (gethostname(name, sizeof name - 1) == 0) {
    name[sizeof name - 1] = '\0';
    name[strcspn(name, ".")] = '\0';
    if (access_parse_authority(name, strlen(name), a->hostname,
                               sizeof a->hostname, &port) != 0 ||
        port != PORT_NONE)
      a->hostname[0] = '\0';
    access_allow_host(a, a->hostname);
  }
  for (int i = 0; i < cfg->nhosts; i++)
    if (strcmp(cfg->hosts[i], "0.0.0.0") && strcmp(cfg->hosts[i], "::") &&
        strcmp(cfg->hosts[i], "tailscale"))
      access_allow_host(a, cfg->hosts[i]);
  for (int i = 0; i < cfg->nallow_hosts; i++) {
    if (!access_valid_host(cfg->allow_hosts[i])) {
      log_error("--allow-host %s: %s", cfg->allow_hosts[i], ACCESS_HOST_RULE);
      access_free(a);
      return -1;
    }
    access_allow_host(a, cfg->allow_hosts[i]);
  }
  a->origins = calloc((size_t)cfg->nallow_origins + 1, sizeof *a->origins);
  if (!a->origins) {
    access_free(a);
    return -1;
  }
  for (int i = 0; i < cfg->nallow_origins; i++) {
    if (parse_rule(cfg->allow_origins[i], &a->origins[i]) != 0) {
      log_error("--allow-origin %s: %s", cfg->allow_origins[i],
                ACCESS_ORIGIN_RULE);
      access_free(a);
      return -1;
    }
    a->norigins++;
  }
  a->token = cfg->token;
  *out = a;
  return 0;
}

void access_free(struct access *a) {
  if (!a) return;
  for (int i = 0; i < a->nhosts; i++)
    free(a->hosts[i]);
  access_clear_tailnet(a);
  free(a->origins);
  free(a);
}

/* --- the checks ---------------------------------------------------------- */

static int name_allowed(const struct access *a, const char *host) {
  for (int i = 0; i < a->nhosts; i++)
    if (strcmp(a->hosts[i], host) == 0) return 1;
  for (int i = 0; i < a->ntailnet; i++)
    if (strcmp(a->tailnet[i], host) == 0) return 1;
  /* RFC 6761: browsers resolve *.localhost to loopback themselves. */
  size_t n = strlen(host);
  return n > 10 && strcmp(host + n - 10, ".localhost") == 0;
}

int access_host_ok(const struct access *a, const char *host) {
  char h[ACCESS_HOST_MAX];
  int port;
  if (!host ||
      access_parse_authority(host, strlen(host), h, sizeof h, &port) != 0)
    return 0;
  return name_allowed(a, h);
}

int access_origin_ok(const struct access *a, const char *origin) {
  if (!origin) return 1;
  char scheme[8], host[ACCESS_HOST_MAX];
  int port;
  if (parse_origin(origin, scheme, host, &port) != 0) return 0;
  for (int i = 0; i < a->norigins; i++) {
    const struct origin_rule *r = &a->origins[i];
    if (strcmp(r->scheme, scheme) == 0 && strcmp(r->host, host) == 0 &&
        (r->port == PORT_ANY || r->port == port))
      return 1;
  }
  return name_allowed(a, host);
}

static int equal_ct(const char *x, size_t nx, const char *y) {
  size_t ny = strlen(y);
  unsigned char diff = nx != ny;
  for (size_t i = 0; i < ny; i++)
    diff |= (unsigned char)(x[i < nx ? i : 0] ^ y[i]);
  return diff == 0;
}

int access_token_ok(const struct access *a, const char *query_token,
                    const char *authorization) {
  if (!a->token) return 1;
  int ok = 0;
  if (query_token && *query_token)
    ok |= equal_ct(query_token, strlen(query_token), a->token);
  if (authorization && strncasecmp(authorization, "Bearer ", 7) == 0) {
    const char *t = authorization + 7;
    while (*t == ' ')
      t++;
    ok |= equal_ct(t, strlen(t), a->token);
  }
  return ok;
}

int access_cookie_ok(const char *cookies, const char *name, const char *value) {
  size_t nlen = strlen(name);
  int ok = 0;
  for (const char *p = cookies; p && *p;) {
    while (*p == ' ' || *p == ';')
      p++;
    size_t n = strcspn(p, ";");
    size_t vn = n;
    while (vn > 0 && p[vn - 1] == ' ')
      vn--;
    if (vn > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=')
      ok |= equal_ct(p + nlen + 1, vn - nlen - 1, value);
    p += n;
  }
  return ok;
}

char *access_page_url(const char *url) {
  if (!url) return NULL;
  size_t n = strcspn(url, "?#");
  const char *start = url;
  const char *sep = strstr(url, "://");
  size_t pre = 0;
  if (sep && (size_t)(sep - url) < n) {
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', alen);
    if (at) {
      pre = (size_t)(auth - url);
      start = at + 1;
    }
  }
  size_t rest = n - (size_t)(start - url);
  if (pre + rest > PAGE_URL_MAX) rest = PAGE_URL_MAX - pre;
  char *out = malloc(pre + rest + 1);
  if (!out) return NULL;
  memcpy(out, url, pre);
  memcpy(out + pre, start, rest);
  out[pre + rest] = '\0';
  return out;
}
