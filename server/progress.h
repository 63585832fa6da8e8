/* Progress of a slow step on stderr: a step that ends within half a
 * second says nothing; a longer one says what it is doing, every few
 * seconds that it is still doing it, and how long it took. */
#ifndef MS_PROGRESS_H
#define MS_PROGRESS_H

struct progress;

/* Starts watching a step described by what ("state.json (74.0 MiB)"). The
 * delay before the first line is 500 ms, or MIRRORSTATE_PROGRESS_MS (0:
 * the first line at once).
 * Returns NULL if no thread could be started (then nothing is said). */
struct progress *progress_start(const char *what);

/* Ends the step: says how long it took if it said anything, and frees p.
 * NULL is fine. */
void progress_stop(struct progress *p);

#endif
