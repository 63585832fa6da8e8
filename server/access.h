/* Who may talk to the server: the Host allowlist (against DNS rebinding),
 * the Origin check (against cross-site requests and WebSocket hijacking),
 * the token and the static-files cookie. Pure string checks on header
 * values the transport has read whole; see docs/security.md for the
 * rules. */
#ifndef MS_ACCESS_H
#define MS_ACCESS_H

#include <stddef.h>

#include "cli.h"

/* Longest host name kept (RFC 1035: 253 bytes, plus the NUL). */
#define ACCESS_HOST_MAX 256

struct access;

/* Builds the allowlist from cfg: loopback names, this machine's host name,
 * the bound addresses, --allow-host and --allow-origin. Returns 0, or -1
 * after logging why (a malformed --allow-host or --allow-origin, or no
 * memory); *out is then NULL. */
int access_new(const struct config *cfg, struct access **out);
void access_free(struct access *a);

/* Non-zero if host is a valid --allow-host (a name or an address, no
 * scheme or port), or pattern a valid --allow-origin ("http(s)://HOST",
 * "http(s)://HOST:PORT" or "http(s)://HOST:*"). */
int access_valid_host(const char *host);
int access_valid_origin_rule(const char *pattern);
#define ACCESS_HOST_RULE                                                       \
  "not a host name or address (a name like app.test or an address, "           \
  "without scheme or port)"
#define ACCESS_ORIGIN_RULE                                                     \
  "expected http(s)://HOST, http(s)://HOST:PORT or http(s)://HOST:* "          \
  "(no path)"

/* Adds a host name or address to the allowlist (e.g. an interface's).
 * Ignored if malformed. */
void access_allow_host(struct access *a, const char *host);

/* Undoes one access_allow_host of host (an address that went away); a
 * host allowed twice, e.g. also by --allow-host, stays allowed. */
void access_forget_host(struct access *a, const char *host);

/* This machine's own tailnet names, replacing any given before. From the
 * tailscale CLI: dns_name is Self.DNSName ("vm-1.tail1234.ts.net."); its
 * first label is allowed too (MagicDNS resolves the short name). From
 * resolv.conf: access_add_tailnet_domain adds "<host name>.<domain>". */
void access_clear_tailnet(struct access *a);
void access_set_tailnet_name(struct access *a, const char *dns_name);
void access_add_tailnet_domain(struct access *a, const char *domain);

/* The short host name this machine goes by (lower case), or "". */
const char *access_hostname(const struct access *a);

/* Parses "host", "host:port", "[v6]" or "[v6]:port" (a Host header, or
 * the part of an Origin after "scheme://"): host names of letters,
 * digits, '-', '_' and '.', labels of 1 to 63 bytes, at most one trailing
 * dot; a port of 1 to 5 digits up to 65535. Writes the host in canonical
 * form to out (lower case, no trailing dot, no brackets, IPv6 compressed)
 * and the port to *port (-1 if none). Returns 0, or -1 if malformed. */
int access_parse_authority(const char *in, size_t n, char *out, size_t outlen,
                           int *port);

/* Non-zero if the Host header value names an allowed host. NULL (no Host
 * header) and malformed values are refused. */
int access_host_ok(const struct access *a, const char *host);

/* Non-zero if the Origin header passes: NULL (absent) does; otherwise it
 * must be exactly "http(s)://host[:port]" with an allowed host on any
 * port, or match an --allow-origin. "", "null", paths, userinfo, queries
 * and fragments are refused. */
int access_origin_ok(const struct access *a, const char *origin);

/* Non-zero if no token is configured, or query_token or a "Bearer TOKEN"
 * authorization (either may be NULL) carries it. Constant time. */
int access_token_ok(const struct access *a, const char *query_token,
                    const char *authorization);

/* Non-zero if the Cookie header value holds name=value. Constant time in
 * the value. */
int access_cookie_ok(const char *cookies, const char *name, const char *value);

/* A page URL as a client reported it, fit for the client list: without
 * userinfo, query and fragment, at most 2048 bytes. Returns a new string
 * (caller frees), or NULL if url is NULL or memory ran out. */
char *access_page_url(const char *url);

#endif
