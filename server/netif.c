/* Resolving --host values to the addresses to bind. */
#include "netif.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

#define TAILSCALE_IF "tailscale0"

int netif_is_loopback(const char *addr) {
  return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
         strcmp(addr, "localhost") == 0;
}

int netif_is_wildcard(const char *addr) {
  return strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0;
}

void netif_each_local(void (*fn)(const char *addr, void *arg), void *arg) {
  struct ifaddrs *ifs;
  if (getifaddrs(&ifs) != 0) return;
  for (struct ifaddrs *ifa = ifs; ifa; ifa = ifa->ifa_next) {
    if (!ifa->ifa_addr) continue;
    char buf[INET6_ADDRSTRLEN];
    int family = ifa->ifa_addr->sa_family;
    const void *a =
        family == AF_INET
            ? (const void *)&((struct sockaddr_in *)(void *)ifa->ifa_addr)
                  ->sin_addr
        : family == AF_INET6
            ? (const void *)&((struct sockaddr_in6 *)(void *)ifa->ifa_addr)
                  ->sin6_addr
            : NULL;
    if (a && inet_ntop(family, a, buf, sizeof buf)) fn(buf, arg);
  }
  freeifaddrs(ifs);
}

static void add(struct bind_list *out, const char *addr) {
  for (int i = 0; i < out->n; i++)
    if (strcmp(out->addr[i], addr) == 0) return;
  if (out->n >= NETIF_MAX_ADDRS) return;
  snprintf(out->addr[out->n++], NETIF_ADDR_LEN, "%s", addr);
  if (!netif_is_loopback(addr)) out->public = 1;
}

static int add_interface(struct bind_list *out, const char *ifname) {
  struct ifaddrs *ifs, *ifa;
  if (getifaddrs(&ifs) != 0) {
    log_error("--host tailscale: cannot list interfaces");
    return -1;
  }
  int found = 0;
  for (ifa = ifs; ifa; ifa = ifa->ifa_next) {
    if (!ifa->ifa_addr || strcmp(ifa->ifa_name, ifname) != 0) continue;
    char buf[INET6_ADDRSTRLEN];
    int family = ifa->ifa_addr->sa_family;
    const void *a;
    if (family == AF_INET)
      a = &((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr;
    else if (family == AF_INET6)
      a = &((struct sockaddr_in6 *)(void *)ifa->ifa_addr)->sin6_addr;
    else
      continue;
    /* A link-local IPv6 address needs a scope to bind: skip it. */
    if (family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)a))
      continue;
    if (inet_ntop(family, a, buf, sizeof buf)) {
      add(out, buf);
      found = 1;
    }
  }
  freeifaddrs(ifs);
  if (!found) {
    log_error("--host tailscale: there is no %s interface with an address "
              "(is Tailscale up? `tailscale ip` shows its addresses)",
              ifname);
    return -1;
  }
  return 0;
}

int netif_resolve(const char *const *hosts, int nhosts, struct bind_list *out) {
  memset(out, 0, sizeof *out);
  for (int i = 0; i < nhosts; i++) {
    const char *h = hosts[i];
    if (strcmp(h, "tailscale") == 0) {
      if (add_interface(out, TAILSCALE_IF) != 0) return -1;
      add(out, "127.0.0.1");
      continue;
    }
    if (strcmp(h, "localhost") == 0) h = "127.0.0.1";
    unsigned char probe[sizeof(struct in6_addr)];
    char bare[NETIF_ADDR_LEN];
    snprintf(bare, sizeof bare, "%s", h[0] == '[' ? h + 1 : h);
    bare[strcspn(bare, "]")] = '\0';
    if (inet_pton(AF_INET, bare, probe) != 1 &&
        inet_pton(AF_INET6, bare, probe) != 1) {
      log_error("--host %s: not an IP address (use an address, 0.0.0.0, :: "
                "or 'tailscale')",
                h);
      return -1;
    }
    add(out, bare);
  }
  return 0;
}
