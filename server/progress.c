/* A thread that speaks up when the loop thread is busy loading. */
#include "progress.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

#define EVERY_MS 5000

struct progress {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done, shown;
  long after_ms;
  struct timespec t0;
  char what[256];
};

static double since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) +
         (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static struct timespec at(const struct timespec *t0, long ms) {
  struct timespec t = *t0;
  t.tv_sec += ms / 1000;
  t.tv_nsec += (ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

static void *run(void *arg) {
  struct progress *p = arg;
  long next = p->after_ms;
  pthread_mutex_lock(&p->mu);
  while (!p->done) {
    struct timespec deadline = at(&p->t0, next);
    int rc = 0;
    while (!p->done && rc != ETIMEDOUT)
      rc = pthread_cond_timedwait(&p->cv, &p->mu, &deadline);
    if (p->done) break;
    if (!p->shown)
      log_info("loading %s...", p->what);
    else
      log_info("still loading %s (%.0f s)", p->what, since(&p->t0));
    p->shown = 1;
    next += EVERY_MS;
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

struct progress *progress_start(const char *what) {
  struct progress *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  const char *env = getenv("MIRRORSTATE_PROGRESS_MS");
  p->after_ms = env && *env ? strtol(env, NULL, 10) : 500;
  if (p->after_ms < 0) p->after_ms = 0;
  snprintf(p->what, sizeof p->what, "%s", what);
  clock_gettime(CLOCK_MONOTONIC, &p->t0);
  if (p->after_ms == 0) { /* at once: said here, not left to a race */
    log_info("loading %s...", p->what);
    p->shown = 1;
    p->after_ms = EVERY_MS;
  }
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&p->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&p->mu, NULL);
  if (pthread_create(&p->thread, NULL, run, p) != 0) {
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
    return NULL;
  }
  return p;
}

void progress_stop(struct progress *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->done = 1;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  pthread_join(p->thread, NULL);
  if (p->shown) log_info("loaded %s in %.1f s", p->what, since(&p->t0));
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
  free(p);
}
