/* Wall-clock time and its ISO 8601 form, as JavaScript's
 * Date.prototype.toISOString prints it: "2026-11-29T04:20:01.123Z". The
 * one formatter of times in the wire protocol, the event log, the runtime
 * file and the CLI. */
#ifndef MS_ISOTIME_H
#define MS_ISOTIME_H

#include <stddef.h>

/* Room for any time isotime_format writes, its NUL included. */
#define ISOTIME_LEN 32

/* The wall clock: milliseconds since the epoch. */
double isotime_now_ms(void);

/* Writes ms (milliseconds since the epoch, UTC) to out (outlen bytes, at
 * least ISOTIME_LEN) as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void isotime_format(double ms, char *out, size_t outlen);

#endif
