/* A tiny test harness: CHECK prints file:line and the failed expression,
 * keeps going, and the test binary exits non-zero if anything failed. */
#ifndef MS_CHECK_H
#define MS_CHECK_H

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Reads and parses a JSON fixture (path relative to the repository root,
 * where ctest runs the tests). Returns a new tree (caller frees) or NULL. */
static inline cJSON *check_load_json(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
  fclose(f);
  if (!buf) return NULL;
  buf[got] = '\0';
  cJSON *v = cJSON_Parse(buf);
  free(buf);
  return v;
}

/* Ends main(): prints a summary line and returns the exit status. */
#define CHECK_DONE()                                                         \
  (printf("%d checks, %d failed\n", check_count, check_failures),            \
   check_failures ? 1 : 0)

#endif
