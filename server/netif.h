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

#endif
