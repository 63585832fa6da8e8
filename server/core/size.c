/* Byte sizes with units (see size.h for the rules). */
#include "size.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>

static const struct {
  const char *unit;
  uint64_t mult;
} units[] = {
    {"", 1},
    {"b", 1},
    {"k", 1ull << 10},
    {"kib", 1ull << 10},
    {"kb", 1000ull},
    {"m", 1ull << 20},
    {"mib", 1ull << 20},
    {"mb", 1000000ull},
    {"g", 1ull << 30},
    {"gib", 1ull << 30},
    {"gb", 1000000000ull},
    {"t", 1ull << 40},
    {"tib", 1ull << 40},
    {"tb", 1000000000000ull},
};

int size_parse(const char *s, uint64_t *out) {
  unsigned __int128 whole = 0, frac = 0, scale = 1;
  const char *p = s;
  if (*p < '0' || *p > '9') return -EINVAL;
  for (; *p >= '0' && *p <= '9'; p++) {
    whole = whole * 10 + (unsigned)(*p - '0');
    if (whole > UINT64_MAX) return -ERANGE;
  }
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9') return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
      if (scale < 1000000000000000000ull) { /* 18 digits are plenty */
        frac = frac * 10 + (unsigned)(*p - '0');
        scale *= 10;
      }
    }
  }
  if (*p == ' ' && p[1]) p++; /* "10 MB", not "10 " */
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcasecmp(p, units[i].unit) != 0) continue;
    unsigned __int128 v = whole * units[i].mult + frac * units[i].mult / scale;
    if (v > UINT64_MAX) return -ERANGE;
    *out = (uint64_t)v;
    return 0;
  }
  return -EINVAL;
}

void size_format(uint64_t n, char *out, size_t outlen) {
  static const char *const names[] = {"TiB", "GiB", "MiB", "KiB"};
  for (int i = 0; i < 4; i++) {
    uint64_t mult = 1ull << (10 * (4 - i));
    if (n >= mult && n % mult == 0) {
      snprintf(out, outlen, "%llu %s", (unsigned long long)(n / mult),
               names[i]);
      return;
    }
  }
  snprintf(out, outlen, "%llu byte%s", (unsigned long long)n,
           n == 1 ? "" : "s");
}
