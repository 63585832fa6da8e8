/* Host allowlist, Origin check and token. */
#include "access.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define ACCESS_MAX_HOSTS 256

struct access {
  char *hosts[ACCESS_MAX_HOSTS];
  int nhosts;
  char hostname[256]; /* this machine's short name, lower case */
  const char *const *origins;
  int norigins;
  const char *token;
};

void access_allow_host(struct access *a, const char *host) {
  if (a->nhosts >= ACCESS_MAX_HOSTS || !host || !*host) return;
  char *h = strdup(host);
  if (!h) return;
  for (char *p = h; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  a->hosts[a->nhosts++] = h;
}

struct access *access_new(const struct config *cfg) {
  struct access *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  static const char *const loopback[] = {"localhost", "127.0.0.1", "::1",
                                         "localhost.localdomain"};
  for (size_t i = 0; i < sizeof loopback / sizeof *loopback; i++)
    access_allow_host(a, loopback[i]);
  if (gethostname(a->hostname, sizeof a->hostname - 1) == 0) {
    a->hostname[strcspn(a->hostname, ".")] = '\0';
    for (char *p = a->hostname; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    access_allow_host(a, a->hostname);
  }
  for (int i = 0; i < cfg->nhosts; i++)
    if (strcmp(cfg->hosts[i], "0.0.0.0") && strcmp(cfg->hosts[i], "::") &&
        strcmp(cfg->hosts[i], "tailscale"))
      access_allow_host(a, cfg->hosts[i]);
  for (int i = 0; i < cfg->nallow_hosts; i++)
    access_allow_host(a, cfg->allow_hosts[i]);
  a->origins = cfg->allow_origins;
  a->norigins = cfg->nallow_origins;
  a->token = cfg->token;
  return a;
}

void access_free(struct access *a) {
  if (!a) return;
  for (int i = 0; i < a->nhosts; i++)
    free(a->hosts[i]);
  free(a);
}

/* Copies the host part of "host", "host:port", "[v6]" or "[v6]:port",
 * lower case, into out. -1 if malformed. */
static int host_part(const char *in, char *out, size_t outlen) {
  const char *end;
  if (in[0] == '[') {
    in++;
    end = strchr(in, ']');
    if (!end || (end[1] && end[1] != ':')) return -1;
  } else {
    end = strchr(in, ':');
    if (!end) end = in + strlen(in);
  }
  size_t n = (size_t)(end - in);
  if (n == 0 || n >= outlen) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c <= ' ' || c == '/' || c == '@' || c >= 0x7f) return -1;
    out[i] = (char)tolower(c);
  }
  out[n] = '\0';
  if (n > 1 && out[n - 1] == '.') out[n - 1] = '\0'; /* "localhost." */
  return 0;
}

static int name_allowed(const struct access *a, const char *host) {
  for (int i = 0; i < a->nhosts; i++)
    if (strcmp(a->hosts[i], host) == 0) return 1;
  /* MagicDNS: <hostname>.<tailnet>.ts.net names this machine. */
  size_t hn = strlen(a->hostname), n = strlen(host);
  if (hn && n > hn + 7 && strncmp(host, a->hostname, hn) == 0 &&
      host[hn] == '.' && strcmp(host + n - 7, ".ts.net") == 0)
    return 1;
  /* RFC 6761: *.localhost always resolves to loopback. */
  return n > 10 && strcmp(host + n - 10, ".localhost") == 0;
}

int access_host_ok(const struct access *a, const char *host) {
  char h[256];
  if (!host || host_part(host, h, sizeof h) != 0) return 0;
  return name_allowed(a, h);
}

/* Matches an --allow-origin pattern: exact, or "scheme://host:*". */
static int origin_matches(const char *pattern, const char *origin) {
  size_t n = strlen(pattern);
  if (n > 2 && strcmp(pattern + n - 2, ":*") == 0) {
    if (strncasecmp(pattern, origin, n - 1) != 0) return 0;
    const char *port = origin + n - 1;
    if (!*port) return 0;
    for (; *port; port++)
      if (!isdigit((unsigned char)*port)) return 0;
    return 1;
  }
  return strcasecmp(pattern, origin) == 0;
}

int access_origin_ok(const struct access *a, const char *origin) {
  if (!origin || !*origin) return 1;
  for (int i = 0; i < a->norigins; i++)
    if (origin_matches(a->origins[i], origin)) return 1;
  const char *sep = strstr(origin, "://");
  if (!sep) return 0;
  size_t scheme = (size_t)(sep - origin);
  if (!((scheme == 4 && strncasecmp(origin, "http", 4) == 0) ||
        (scheme == 5 && strncasecmp(origin, "https", 5) == 0)))
    return 0;
  char h[256];
  if (strchr(sep + 3, '/') || host_part(sep + 3, h, sizeof h) != 0) return 0;
  return name_allowed(a, h);
}

static int equal_ct(const char *x, const char *y) {
  size_t nx = strlen(x), ny = strlen(y);
  unsigned char diff = nx != ny;
  for (size_t i = 0; i < ny; i++)
    diff |= (unsigned char)(x[i < nx ? i : 0] ^ y[i]);
  return diff == 0;
}

int access_token_ok(const struct access *a, const char *query_token,
                    const char *authorization) {
  if (!a->token) return 1;
  int ok = 0;
  if (query_token && *query_token) ok |= equal_ct(query_token, a->token);
  if (authorization && strncasecmp(authorization, "Bearer ", 7) == 0)
    ok |= equal_ct(authorization + 7, a->token);
  return ok;
}
