/* Why a port could not be listened on, said so that a person can fix it:
 * which port, which process holds it (when /proc tells), what to do. */
#ifndef MS_PORTINFO_H
#define MS_PORTINFO_H

#include <stddef.h>
#include <sys/types.h>

/* Logs why listening on addr (numeric, "::" or "0.0.0.0" for all) at port
 * failed, after probing the address with a socket of its own, and how to
 * get past it. */
void portinfo_explain(const char *addr, int port);

/* The process listening on TCP port (any address), from /proc/net/tcp,
 * /proc/net/tcp6 and /proc/PID/fd: returns its pid and its command line in
 * cmd (arguments joined by spaces, shortened to fit), or -1 if none is
 * found or visible to this user. */
pid_t portinfo_holder(int port, char *cmd, size_t cmdlen);

#endif
