/* Wall-clock time in ISO 8601. */
#include "isotime.h"

#include <stdio.h>
#include <time.h>

double isotime_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void isotime_format(double ms, char *out, size_t outlen) {
  long long total = (long long)ms;
  time_t secs = (time_t)(total / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  size_t n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, outlen - n, ".%03dZ", (int)(total % 1000));
}
