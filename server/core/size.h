/* Byte sizes as people write them on a command line: "1048576", "64MiB",
 * "10MB", "1k", "1.5GiB". The units follow GNU coreutils: K, M, G, T alone
 * and KiB, MiB, GiB, TiB are powers of 1024; KB, MB, GB, TB are powers of
 * 1000; B or nothing is bytes. Case does not matter, one space may stand
 * between number and unit, and a fraction is rounded down to whole bytes. */
#ifndef MS_SIZE_H
#define MS_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parses s into *out. Returns 0, -EINVAL (not a size) or -ERANGE (over
 * 2^64 - 1 bytes). */
int size_parse(const char *s, uint64_t *out);

/* Formats n for people: "32 MiB" when n is a whole number of KiB, MiB,
 * GiB or TiB, else "N bytes". */
void size_format(uint64_t n, char *out, size_t outlen);

#endif
