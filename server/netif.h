/* Which addresses to listen on: --host values resolved to addresses. */
#ifndef MS_NETIF_H
#define MS_NETIF_H

#define NETIF_MAX_ADDRS 32
#define NETIF_ADDR_LEN 64

struct bind_list {
  char addr[NETIF_MAX_ADDRS][NETIF_ADDR_LEN]; /* numeric, no brackets */
  int n;
  int public; /* some address is reachable from other machines */
};

/* Resolves --host values: an address is taken as is; "tailscale" is every
 * IPv4 and IPv6 address of the tailscale0 interface, plus 127.0.0.1.
 * Duplicates are dropped. Returns 0, or -1 after logging why (e.g. no
 * tailscale0 interface). */
int netif_resolve(const char *const *hosts, int nhosts, struct bind_list *out);

/* Calls fn(addr, arg) for every address of every interface (numeric). */
void netif_each_local(void (*fn)(const char *addr, void *arg), void *arg);

/* Non-zero for the wildcard addresses 0.0.0.0 and ::. */
int netif_is_wildcard(const char *addr);

/* Non-zero for loopback addresses (127.0.0.0/8, ::1, "localhost"). */
int netif_is_loopback(const char *addr);

/* --- this machine's tailnet ------------------------------------------------
 * MagicDNS names are checked against this machine's own tailnet only: an
 * attacker can name a node "vm-1" in their own tailnet. */

/* Calls fn(domain, arg) for each search domain ending in ".ts.net" in
 * resolv.conf ($MIRRORSTATE_RESOLV_CONF, else /etc/resolv.conf): the
 * tailnet MagicDNS writes there. */
void netif_tailnet_domains(void (*fn)(const char *domain, void *arg),
                           void *arg);

/* Runs `tailscale status --json --peers=false` ($MIRRORSTATE_TAILSCALE
 * names the command; empty: do not run it) on loop, without blocking it,
 * and calls cb(dns_name, arg) once with Self.DNSName, or with NULL when
 * the command is missing, fails, prints no name or takes over 2 s (it is
 * then killed). Returns a query to stop with netif_tailscale_stop, or NULL
 * when nothing was started (cb is not called then). */
struct netif_tailscale;
struct uv_loop_s;
struct netif_tailscale *
netif_tailscale_start(struct uv_loop_s *loop,
                      void (*cb)(const char *dns_name, void *arg), void *arg);

/* Kills the command if it still runs and closes the query's handles; cb
 * is not called after this. The memory is freed once the loop has run the
 * close callbacks. NULL is ignored. */
void netif_tailscale_stop(struct netif_tailscale *q);

#endif
