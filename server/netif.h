/* Which addresses to listen on: --host values resolved to addresses, the
 * interfaces watched for addresses that come and go, this machine's
 * tailnet. */
#ifndef MS_NETIF_H
#define MS_NETIF_H

struct uv_loop_s;

#define NETIF_MAX_ADDRS 32
#define NETIF_ADDR_LEN 64

#define NETIF_TAILSCALE "tailscale0"

struct bind_list {
  char addr[NETIF_MAX_ADDRS][NETIF_ADDR_LEN]; /* numeric, no brackets */
  int n;
  int public; /* some address is reachable from other machines */
  /* An interface whose addresses are listened on as they come and go
   * (NETIF_TAILSCALE for --host tailscale), or NULL. */
  const char *follow;
};

/* Resolves --host values: an address is taken as is; "tailscale" is
 * 127.0.0.1 plus, through follow, the addresses tailscale0 has now or
 * gets later (none without a wildcard, which covers them). Duplicates are
 * dropped. Returns 0, or -1 after logging why (not an IP address). */
int netif_resolve(const char *const *hosts, int nhosts, struct bind_list *out);

/* Calls fn(addr, arg) for every address of every interface (numeric). */
void netif_each_local(void (*fn)(const char *addr, void *arg), void *arg);

/* Writes up to max numeric addresses of the interface ifname to out (of
 * every interface when ifname is NULL; link-local IPv6 addresses, which
 * need a scope to bind, only then). Returns how many, or -1 if the
 * interfaces cannot be listed. */
int netif_addresses(const char *ifname, char (*out)[NETIF_ADDR_LEN], int max);

/* Non-zero if an interface called ifname exists (with or without an
 * address). */
int netif_has_interface(const char *ifname);

/* --- watching the interfaces ----------------------------------------------
 * A NETLINK_ROUTE socket on the loop, subscribed to address and link
 * changes (an address added or removed, an interface that appears, goes
 * or is renamed). It says only that something changed: the receiver
 * lists what it follows again (netif_addresses) and compares, which also
 * covers messages the kernel dropped when the socket's buffer was full. */
struct netif_watch;

/* Calls changed(arg) on loop after each batch of such changes. Returns
 * the watch, or NULL after logging why (no netlink: a sandbox that
 * forbids AF_NETLINK). */
struct netif_watch *netif_watch_start(struct uv_loop_s *loop,
                                      void (*changed)(void *arg), void *arg);

/* Stops the watch; changed is not called after this. The memory is freed
 * once the loop has run the close callback. NULL is ignored. */
void netif_watch_stop(struct netif_watch *w);

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
struct netif_tailscale *
netif_tailscale_start(struct uv_loop_s *loop,
                      void (*cb)(const char *dns_name, void *arg), void *arg);

/* Kills the command if it still runs and closes the query's handles; cb
 * is not called after this. The memory is freed once the loop has run the
 * close callbacks. NULL is ignored. */
void netif_tailscale_stop(struct netif_tailscale *q);

#endif
