/* A tiny test harness: CHECK prints file:line and the failed expression,
 * keeps going, and the test binary exits non-zero if anything failed. */
#ifndef MS_CHECK_H
#define MS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(expr)                                                          \
  do {                                                                       \
    check_count++;                                                           \
    if (!(expr)) {                                                           \
      check_failures++;                                                      \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,       \
              #expr);                                                        \
    }                                                                        \
  } while (0)

#define CHECK_STR(got, want)                                                 \
  do {                                                                       \
    const char *g_ = (got), *w_ = (want);                                    \
    check_count++;                                                           \
    if (!g_ || strcmp(g_, w_) != 0) {                                        \
      check_failures++;                                                      \
      fprintf(stderr, "%s:%d: got  %s\n%*s want %s\n", __FILE__, __LINE__,   \
              g_ ? g_ : "(null)", (int)strlen(__FILE__) + 6, "", w_);        \
    }                                                                        \
  } while (0)

/* Ends main(): prints a summary line and returns the exit status. */
#define CHECK_DONE()                                                         \
  (printf("%d checks, %d failed\n", check_count, check_failures),            \
   check_failures ? 1 : 0)

#endif
