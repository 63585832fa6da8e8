/* Who may talk to the server: the Host allowlist (against DNS rebinding),
 * the Origin check (against cross-site WebSocket hijacking) and the token.
 * Pure string checks; see docs/security.md. */
#ifndef MS_ACCESS_H
#define MS_ACCESS_H

#include "cli.h"

struct access;

/* Builds the allowlist from cfg: loopback names, this machine's host name
 * (and its <name>.<tailnet>.ts.net form), the bound addresses, --allow-host
 * and --allow-origin. Returns NULL on allocation failure. */
struct access *access_new(const struct config *cfg);
void access_free(struct access *a);

/* Adds a host name or address to the allowlist (e.g. an interface's). */
void access_allow_host(struct access *a, const char *host);

/* Non-zero if the Host header (with or without a port) names an allowed
 * host. A missing Host header (NULL) is refused. */
int access_host_ok(const struct access *a, const char *host);

/* Non-zero if the Origin header is absent (NULL or ""), names an allowed
 * host on any port, or matches --allow-origin. "null" is refused. */
int access_origin_ok(const struct access *a, const char *origin);

/* Non-zero if no token is configured, or query_token or a "Bearer TOKEN"
 * authorization (either may be NULL) carries it. Constant time. */
int access_token_ok(const struct access *a, const char *query_token,
                    const char *authorization);

#endif
