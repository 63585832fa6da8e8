/* Numbers as JavaScript prints them: Number.prototype.toString's shortest
 * round-trip digits, laid out in decimal or exponential form by its rules. */
#include "json.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A positive finite double as ECMAScript describes it: the value is
 * 0.D1D2...Dk times 10^n, with k as small as possible. */
struct decimal {
  char digits[24];
  int k;
  int n;
};

static const double pow10_table[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int write_uint(uint64_t u, char *out) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  for (int i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  return n;
}

/* Numbers with few decimals (0.1, 12.75, 1e-7) are found without printf: at
 * the smallest scale k where some integer m has m / 10^k == a, that m is
 * the shortest digit string. The product a * 10^k is kept below 2^50 so its
 * rounding error (under 1/8) cannot make the rounding miss the one
 * candidate, and adding 0.5 to it is exact. */
static int short_decimal(double a, struct decimal *dec) {
  for (int k = 1; k <= 22; k++) {
    double p = a * pow10_table[k];
    if (p >= 1125899906842624.0) return 0;
    double m = (double)(uint64_t)(p + 0.5);
    if (m != 0 && m / pow10_table[k] == a) {
      dec->k = write_uint((uint64_t)m, dec->digits);
      dec->n = dec->k - k;
      return 1;
    }
  }
  return 0;
}

__extension__ typedef unsigned __int128 u128;

/* frexp and ldexp's work, read off the bits (the server then needs no
 * libm, which costs a third of a megabyte of resident pages): a positive
 * finite a is m * 2^(e - 53), with m a 53-bit integer whose top bit is set
 * (subnormals are normalized). */
static uint64_t double_bits(double a, int *e) {
  uint64_t bits;
  memcpy(&bits, &a, sizeof bits);
  int exp = (int)(bits >> 52) & 0x7ff;
  uint64_t m = bits & ((1ull << 52) - 1);
  if (exp == 0) {
    int shift = __builtin_clzll(m) - 11;
    m <<= shift;
    exp = 1 - shift;
  } else {
    m |= 1ull << 52;
  }
  *e = exp - 1022;
  return m;
}

/* Finds, by exact integer arithmetic, the first scale p (decimal places)
 * at which some integer d puts d / 10^p inside the rounding interval of a,
 * then the d closest to a (ties to even, as JavaScript picks). Values are
 * counted in quarter-units of the last place, so a = 4M, and the interval
 * ends are 2 away (1 below a power of two, where the doubles below are
 * twice as dense); an end is inside when M is even, since strtod rounds
 * ties to even. Covers non-integers whose products fit in 128 bits:
 * roughly 1e-4 <= a < 2^53. Starts near 14 digits: short_decimal has
 * already ruled out shorter strings. */
static int exact_digits(double a, struct decimal *dec) {
  int e2;
  uint64_t m = double_bits(a, &e2);
  int shift = 2 - (e2 - 53);
  if (shift <= 2 || shift > 120) return 0;
  u128 v = (u128)m << 2, hi = v + 2, lo = v - (m == 1ull << 52 ? 1 : 2);
  u128 mask = ((u128)1 << shift) - 1, half = (u128)1 << (shift - 1);
  int lead = (int)floor((e2 - 1) * 0.30102999566398120) + 1;
  int p = 13 - lead > 1 ? 13 - lead : 1;
  u128 scale = 1;
  for (int i = 0; i < p; i++)
    scale *= 10;
  for (; p <= 18 - lead && p <= 21; p++, scale *= 10) {
    u128 nlo = lo * scale, nhi = hi * scale, nv = v * scale;
    u128 dlo = (nlo >> shift) + ((nlo & mask) != 0 || (m & 1));
    u128 dhi = (nhi >> shift) - ((nhi & mask) == 0 && (m & 1));
    if (dlo > dhi) continue;
    u128 d = nv >> shift, rem = nv & mask;
    if (rem > half || (rem == half && (d & 1))) d++;
    if (d < dlo) d = dlo;
    if (d > dhi) d = dhi;
    dec->k = write_uint((uint64_t)d, dec->digits);
    dec->n = dec->k - p;
    return 1;
  }
  return 0;
}

/* Reads the digits and exponent of printf's "%.*e" output. The radix
 * character depends on the locale, so anything between the digits is
 * skipped rather than expected to be '.'. */
static void read_e_format(const char *s, struct decimal *dec) {
  dec->k = 0;
  for (; *s && *s != 'e'; s++)
    if (*s >= '0' && *s <= '9') dec->digits[dec->k++] = *s;
  dec->n = atoi(s + 1) + 1;
}

/* Whether the digits, read back as a decimal, give exactly a. The test
 * string has no radix character, so strtod's locale does not matter. */
static int round_trips(const struct decimal *dec, double a) {
  char s[48];
  memcpy(s, dec->digits, (size_t)dec->k);
  snprintf(s + dec->k, sizeof s - (size_t)dec->k, "e%d", dec->n - dec->k);
  return strtod(s, NULL) == a;
}

static void strip_zeros(struct decimal *dec) {
  while (dec->k > 1 && dec->digits[dec->k - 1] == '0')
    dec->k--;
}

static int try_precision(double a, int prec, struct decimal *dec) {
  char s[48];
  snprintf(s, sizeof s, "%.*e", prec - 1, a);
  read_e_format(s, dec);
  return round_trips(dec, a);
}

/* Adds one unit in the last digit. */
static void increment_digits(struct decimal *dec) {
  int i = dec->k - 1;
  while (i >= 0 && dec->digits[i] == '9')
    dec->digits[i--] = '0';
  if (i >= 0) {
    dec->digits[i]++;
  } else {
    dec->digits[0] = '1';
    dec->n++;
  }
}

static int is_power_of_two(double a) {
  int e;
  return double_bits(a, &e) == 1ull << 52;
}

/* Shortest round-trip digits, and among equally short ones the closest to
 * a (printf rounds correctly, so its output is the closest). With 15
 * digits or fewer the DBL_DIG guarantee makes printf's answer the only
 * candidate. With 16 there is one exception: just above a power of two the
 * doubles below are twice as dense, so the closest 16-digit string may
 * fall outside the narrow lower half-interval while the next one up still
 * lies inside the wide upper one. Seventeen digits always round-trip. */
static void shortest_digits(double a, struct decimal *dec) {
  if (a >= DBL_MIN) {
    if (try_precision(a, DBL_DIG, dec)) goto done;
    if (try_precision(a, 16, dec)) goto done;
    if (is_power_of_two(a)) {
      increment_digits(dec);
      if (round_trips(dec, a)) goto done;
    }
  } else {
    for (int p = 1; p < 17; p++)
      if (try_precision(a, p, dec)) goto done;
  }
  try_precision(a, 17, dec);
done:
  strip_zeros(dec);
}

/* Lays the digits out as Number.prototype.toString does. */
static int layout(const struct decimal *dec, char *out) {
  int k = dec->k, n = dec->n, len = 0;
  if (k <= n && n <= 21) {
    memcpy(out, dec->digits, (size_t)k);
    memset(out + k, '0', (size_t)(n - k));
    len = n;
  } else if (0 < n && n <= 21) {
    memcpy(out, dec->digits, (size_t)n);
    out[n] = '.';
    memcpy(out + n + 1, dec->digits + n, (size_t)(k - n));
    len = k + 1;
  } else if (-6 < n && n <= 0) {
    out[0] = '0';
    out[1] = '.';
    memset(out + 2, '0', (size_t)-n);
    memcpy(out + 2 - n, dec->digits, (size_t)k);
    len = 2 - n + k;
  } else {
    int e = n - 1;
    out[len++] = dec->digits[0];
    if (k > 1) {
      out[len++] = '.';
      memcpy(out + len, dec->digits + 1, (size_t)(k - 1));
      len += k - 1;
    }
    out[len++] = 'e';
    out[len++] = e < 0 ? '-' : '+';
    len += write_uint((uint64_t)(e < 0 ? -e : e), out + len);
  }
  out[len] = '\0';
  return len;
}

int json_format_number(double d, char *out) {
  if (!isfinite(d)) {
    memcpy(out, "null", 5);
    return 4;
  }
  int len = 0;
  if (d < 0) {
    out[len++] = '-';
    d = -d;
  }
  if (d == 0) {
    memcpy(out, "0", 2);
    return 1;
  }
  if (d < 9007199254740992.0 && d == floor(d)) {
    len += write_uint((uint64_t)d, out + len);
    out[len] = '\0';
    return len;
  }
  struct decimal dec;
  if (!short_decimal(d, &dec) && !exact_digits(d, &dec))
    shortest_digits(d, &dec);
  return len + layout(&dec, out + len);
}
