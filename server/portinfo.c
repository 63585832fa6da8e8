/* Explaining a failed listen (see portinfo.h). */
#include "portinfo.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

/* Binds a socket of our own as lws would (SO_REUSEADDR, dual stack for
 * "::") to learn the errno lws does not pass on. Returns 0 or -errno. */
static int probe(const char *addr, int port) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  int family;
  if (strchr(addr, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1) return -EINVAL;
    family = AF_INET6;
    len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &a->sin_addr) != 1) return -EINVAL;
    family = AF_INET;
    len = sizeof *a;
  }
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  int rc = bind(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : -errno;
  if (!rc && listen(fd, 1) != 0) rc = -errno;
  close(fd);
  return rc;
}

/* Adds to inodes (up to max) the sockets listening on port in a
 * /proc/net/tcp-format file. Returns the new count. */
static int listening_inodes(const char *path, int port, unsigned long *inodes,
                            int n, int max) {
  FILE *f = fopen(path, "r");
  if (!f) return n;
  char line[512];
  if (!fgets(line, sizeof line, f)) { /* the header */
    fclose(f);
    return n;
  }
  while (n < max && fgets(line, sizeof line, f)) {
    char local[64];
    unsigned st;
    unsigned long inode;
    /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
    if (sscanf(line, "%*s %63s %*s %x %*s %*s %*s %*s %*s %lu", local, &st,
               &inode) != 3)
      continue;
    const char *colon = strrchr(local, ':');
    if (st != 0x0A || !colon) continue; /* 0A: LISTEN */
    if ((int)strtol(colon + 1, NULL, 16) == port && inode) inodes[n++] = inode;
  }
  fclose(f);
  return n;
}

static void read_cmdline(pid_t pid, char *cmd, size_t cmdlen) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, cmd, cmdlen - 1) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) {
    snprintf(cmd, cmdlen, "?");
    return;
  }
  cmd[n] = '\0';
  while (n > 0 && cmd[n - 1] == '\0')
    n--;
  for (ssize_t i = 0; i < n; i++)
    if (cmd[i] == '\0' || cmd[i] == '\n') cmd[i] = ' ';
  if ((size_t)n >= cmdlen - 1 && cmdlen > 4) strcpy(cmd + cmdlen - 4, "...");
}

pid_t portinfo_holder(int port, char *cmd, size_t cmdlen) {
  unsigned long inodes[16];
  int n = listening_inodes("/proc/net/tcp", port, inodes, 0, 16);
  n = listening_inodes("/proc/net/tcp6", port, inodes, n, 16);
  if (n == 0) return -1;
  DIR *proc = opendir("/proc");
  if (!proc) return -1;
  pid_t found = -1;
  struct dirent *de;
  while (found < 0 && (de = readdir(proc))) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    if (*end || pid <= 0) continue;
    char fds[64];
    snprintf(fds, sizeof fds, "/proc/%ld/fd", pid);
    DIR *d = opendir(fds); /* another user's: EACCES, skipped */
    if (!d) continue;
    struct dirent *fe;
    while (found < 0 && (fe = readdir(d))) {
      char link[64 + sizeof fe->d_name], target[64];
      snprintf(link, sizeof link, "%s/%s", fds, fe->d_name);
      ssize_t len = readlink(link, target, sizeof target - 1);
      if (len <= 0) continue;
      target[len] = '\0';
      unsigned long ino;
      if (sscanf(target, "socket:[%lu]", &ino) != 1) continue;
      for (int i = 0; i < n; i++)
        if (inodes[i] == ino) found = (pid_t)pid;
    }
    closedir(d);
  }
  closedir(proc);
  if (found > 0 && cmd && cmdlen) read_cmdline(found, cmd, cmdlen);
  return found;
}

void portinfo_explain(const char *addr, int port) {
  int rc = probe(addr, port);
  const char *fix = "start with --port 0 to pick a free port, or --port N "
                    "for another one";
  if (rc == -EADDRINUSE) {
    char cmd[160];
    pid_t pid = portinfo_holder(port, cmd, sizeof cmd);
    if (pid == getpid())
      log_error("cannot listen on %s port %d: this server listens there "
                "already (one --host covers another)",
                addr, port);
    else if (pid > 0)
      log_error("cannot listen on %s port %d: the port is in use by pid %d "
                "(%s); %s",
                addr, port, (int)pid, cmd, fix);
    else
      log_error("cannot listen on %s port %d: the port is in use (by a "
                "process this user cannot see); %s",
                addr, port, fix);
  } else if (rc == -EADDRNOTAVAIL) {
    log_error("cannot listen on %s port %d: %s is not an address of this "
              "machine (see --host)",
              addr, port, addr);
  } else if (rc == -EACCES) {
    log_error("cannot listen on %s port %d: ports below 1024 need root or "
              "CAP_NET_BIND_SERVICE; %s",
              addr, port, fix);
  } else if (rc < 0) {
    log_error("cannot listen on %s port %d: %s", addr, port, strerror(-rc));
  } else {
    log_error("cannot listen on %s port %d (it is free now: try again)", addr,
              port);
  }
}
