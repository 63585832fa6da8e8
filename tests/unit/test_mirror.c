/* The mirror's per-file work, on a real loop and real files in a temporary
 * directory, with a fake event sink in place of the hub: loading, reading a
 * save, echo suppression, the settle window, the three-way merge, writing,
 * and an invalid file that is never overwritten.
 *
 * inotify queues an event while the system call that causes it runs, so
 * after a write the test drains the queue itself (mirror__drain, what the
 * loop would do next): no test waits on a clock except for the settle
 * timer, and that wait is bounded by a hang guard. */
#include "check.h"
#include "json.h"
#include "log.h"
#include "mirror.h"
#include "mirror_int.h"
#include "patch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- the fake event sink -------------------------------------------------- */

struct sink {
  int changed, appeared, appeared_loading, status, states;
  char last_ops[512];
  enum file_status last_status;
  int subscribers; /* what the sink answers */
};

static void on_changed(void *arg, struct state *st, const cJSON *ops) {
  struct sink *k = arg;
  (void)st;
  k->changed++;
  char *s = json_print_compact(ops, NULL);
  snprintf(k->last_ops, sizeof k->last_ops, "%s", s ? s : "");
  free(s);
}

static void on_appeared(void *arg, struct state *st, const cJSON *ops) {
  struct sink *k = arg;
  (void)st;
  if (ops)
    k->appeared++;
  else
    k->appeared_loading++;
}

static void on_status(void *arg, struct state *st) {
  struct sink *k = arg;
  k->status++;
  k->last_status = st->status;
}

static void on_states(void *arg) {
  struct sink *k = arg;
  k->states++;
}

static int on_subscribers(void *arg, const struct state *st) {
  struct sink *k = arg;
  (void)st;
  return k->subscribers;
}

/* --- the test bed --------------------------------------------------------- */

struct bed {
  char dir[64], path[128];
  uv_loop_t loop;
  struct config cfg;
  struct store store;
  struct sink sink;
  struct mirror *m;
  struct state *st;
};

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 16);
  size_t n = fread(buf, 1, (1 << 16) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* Saves text as an agent's edit tool does: a temporary file renamed over
 * the target. */
static void save(const char *path, const char *text) {
  char tmp[160];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  fputs(text, f);
  fclose(f);
  CHECK(rename(tmp, path) == 0);
}

static int bed_start(struct bed *b, const char *initial, int settle_ms,
                     int write_delay_ms) {
  memset(b, 0, sizeof *b);
  snprintf(b->dir, sizeof b->dir, "/tmp/ms-test-mirror-XXXXXX");
  if (!mkdtemp(b->dir)) return -1;
  snprintf(b->path, sizeof b->path, "%s/s.json", b->dir);
  if (initial) save(b->path, initial);
  uv_loop_init(&b->loop);
  b->cfg.files[0] = b->path;
  b->cfg.nfiles = 1;
  b->cfg.settle_ms = settle_ms;
  b->cfg.write_delay_ms = write_delay_ms;
  b->cfg.max_state = 1 << 20;
  b->cfg.max_states = 10;
  b->cfg.history = 10;
  store_init(&b->store, 10, 0, b->cfg.max_state);
  struct mirror_events ev = {on_changed, on_appeared,    on_status,
                             on_states,  on_subscribers, &b->sink};
  int rc = mirror_start(&b->loop, &b->cfg, &b->store, &ev, &b->m);
  b->st = store_find(&b->store, "s");
  return rc;
}

static void bed_stop(struct bed *b) {
  mirror_stop(b->m);
  uv_run(&b->loop, UV_RUN_DEFAULT);
  mirror_free(b->m);
  store_free(&b->store);
  CHECK(uv_loop_close(&b->loop) == 0);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->dir);
  CHECK(system(cmd) == 0);
}

static int guard_fired;
static void on_guard(uv_timer_t *t) {
  (void)t;
  guard_fired = 1;
}

/* Runs the loop until done(b); a hang guard of 10 s (never a timing
 * assertion: what is waited for comes in milliseconds). */
static int run_until(struct bed *b, int (*done)(struct bed *)) {
  uv_timer_t guard;
  guard_fired = 0;
  uv_timer_init(&b->loop, &guard);
  uv_timer_start(&guard, on_guard, 10000, 0);
  while (!done(b) && !guard_fired)
    uv_run(&b->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&b->loop, UV_RUN_NOWAIT);
  return done(b);
}

static int status_reported(struct bed *b) {
  return b->sink.status > 0;
}

/* A client's change to the state, as the hub applies it. */
static void client_change(struct bed *b, const char *ops_text) {
  cJSON *ops = cJSON_Parse(ops_text);
  bool changed = false;
  CHECK(store_apply(b->st, ops, "client:c1", &changed, NULL, 0) == PATCH_OK);
  CHECK(changed);
  cJSON_Delete(ops);
  mirror_changed(b->m, b->st);
}

static int written(struct bed *b) {
  return !b->st->file->dirty && !b->st->file->write_scheduled;
}

static char *state_text(struct bed *b) {
  return json_print_compact(b->st->current, NULL);
}

/* --- tests ---------------------------------------------------------------- */

static void test_load_and_read(void) {
  struct bed b;
  CHECK(bed_start(&b, "{\"a\":1}\n", 20, 0) == 0);
  CHECK(b.st && b.st->version == 1 && b.st->status == FILE_OK);
  CHECK(b.sink.appeared_loading == 1 && b.sink.appeared == 0);
  /* A save is read and reported as a patch from the file. */
  save(b.path, "{\"a\":2,\"b\":true}");
  mirror__drain(b.m);
  CHECK(b.sink.changed == 1);
  CHECK_STR(b.sink.last_ops,
            "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2},"
            "{\"op\":\"add\",\"path\":\"/b\",\"value\":true}]");
  CHECK(b.st->version == 2);
  /* Nothing but formatting changed: no news, and the file is left alone. */
  save(b.path, "{\n\"b\": true, \"a\": 2}");
  mirror__drain(b.m);
  CHECK(b.sink.changed == 1 && b.st->version == 2);
  char *text = read_all(b.path);
  CHECK_STR(text, "{\n\"b\": true, \"a\": 2}");
  free(text);
  CHECK(b.sink.status == 0);
  bed_stop(&b);
}

static void test_write_and_echo(void) {
  struct bed b;
  CHECK(bed_start(&b, "{\"a\":1}", 20, 0) == 0);
  client_change(&b, "[{\"op\":\"add\",\"path\":\"/c\",\"value\":[1,2]}]");
  CHECK(!written(&b));
  CHECK(run_until(&b, written));
  /* The file as JSON.stringify(state, null, 2) + "\n" prints it. */
  char *text = read_all(b.path);
  CHECK_STR(text, "{\n  \"a\": 1,\n  \"c\": [\n    1,\n    2\n  ]\n}\n");
  free(text);
  /* The server's own write comes back as events: not news. */
  mirror__drain(b.m);
  CHECK(b.sink.changed == 0 && b.sink.status == 0);
  /* Nor is a save of the same bytes. */
  save(b.path, "{\n  \"a\": 1,\n  \"c\": [\n    1,\n    2\n  ]\n}\n");
  mirror__drain(b.m);
  CHECK(b.sink.changed == 0 && b.st->version == 2);
  bed_stop(&b);
}

static void test_settle(void) {
  /* A long settle window: a transient invalid file fixed within it is
   * never reported. */
  struct bed b;
  CHECK(bed_start(&b, "{\"a\":1}", 60000, 0) == 0);
  save(b.path, "");
  mirror__drain(b.m);
  save(b.path, "{\"a\":");
  mirror__drain(b.m);
  CHECK(b.sink.status == 0 && b.st->status == FILE_OK);
  CHECK(b.st->file->settling);
  save(b.path, "{\"a\":3}");
  mirror__drain(b.m);
  CHECK(b.sink.status == 0 && !b.st->file->settling);
  CHECK(b.sink.changed == 1 && b.st->version == 2);
  bed_stop(&b);

  /* A short one: an invalid file is reported once it is over, with where
   * it failed. */
  CHECK(bed_start(&b, "{\"a\":1}", 1, 0) == 0);
  save(b.path, "{\n  \"a\": 1,\n  \"b\" 2\n}\n");
  mirror__drain(b.m);
  CHECK(run_until(&b, status_reported));
  CHECK(b.sink.last_status == FILE_INVALID);
  CHECK(b.st->error.line == 3 && b.st->error.column == 7);
  CHECK_STR(b.st->error_text, "  \"b\" 2");
  bed_stop(&b);
}

static void test_invalid_file_kept(void) {
  struct bed b;
  CHECK(bed_start(&b, "{\"a\":1,\"b\":1}", 1, 0) == 0);
  const char *bad = "{\"a\":1,\"b\":1,}";
  save(b.path, bad);
  mirror__drain(b.m);
  CHECK(run_until(&b, status_reported));
  CHECK(b.st->status == FILE_INVALID);
  /* A client's change meanwhile is kept in memory; the file is not
   * touched, even when everything is flushed. */
  client_change(&b, "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":5}]");
  uv_run(&b.loop, UV_RUN_NOWAIT);
  mirror_flush(b.m);
  char *text = read_all(b.path);
  CHECK_STR(text, bad);
  free(text);
  /* ... but kept beside it. */
  char unsaved[160];
  snprintf(unsaved, sizeof unsaved, "%s.unsaved", b.path);
  text = read_all(unsaved);
  CHECK(text && strstr(text, "\"a\": 5"));
  free(text);
  unlink(unsaved);
  /* The agent fixes the file: its fix and the client's change are merged,
   * and the result written. */
  b.sink.status = 0;
  save(b.path, "{\"a\":1,\"b\":2}");
  mirror__drain(b.m);
  CHECK(b.sink.status == 1 && b.sink.last_status == FILE_OK);
  char *s = state_text(&b);
  CHECK_STR(s, "{\"a\":5,\"b\":2}");
  free(s);
  mirror_flush(b.m);
  text = read_all(b.path);
  CHECK_STR(text, "{\n  \"a\": 5,\n  \"b\": 2\n}\n");
  free(text);
  bed_stop(&b);
}

static void test_merge(void) {
  /* A long write delay keeps the client's change unsaved while the agent
   * saves a change of another key. */
  struct bed b;
  CHECK(bed_start(&b,
                  "{\"todos\":[{\"id\":1,\"done\":false},{\"id\":2,\"done\":"
                  "false}],\"title\":\"t\"}",
                  20, 60000) == 0);
  client_change(&b, "[{\"op\":\"replace\",\"path\":\"/todos/0/done\","
                    "\"value\":true}]");
  CHECK(b.st->file->dirty && !written(&b));
  save(b.path,
       "{\"todos\":[{\"id\":1,\"done\":false},{\"id\":2,\"done\":false},"
       "{\"id\":3,\"done\":false}],\"title\":\"agent\"}");
  mirror__drain(b.m);
  /* Both survive: the agent's new todo and title, the user's tick. */
  char *s = state_text(&b);
  CHECK_STR(s, "{\"todos\":[{\"id\":1,\"done\":true},{\"id\":2,\"done\":false},"
               "{\"id\":3,\"done\":false}],\"title\":\"agent\"}");
  free(s);
  CHECK(b.sink.changed == 1);
  /* The merge differs from what the agent wrote: it is written back. */
  mirror_flush(b.m);
  char *text = read_all(b.path);
  cJSON *onfile = cJSON_Parse(text);
  CHECK(json_equal(onfile, b.st->current));
  cJSON_Delete(onfile);
  free(text);
  CHECK(written(&b));
  /* A true conflict: the file wins. */
  client_change(&b,
                "[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"ui\"}]");
  text = read_all(b.path);
  char *edited = strdup(text);
  char *at = strstr(edited, "\"agent\"");
  memcpy(at, "\"file!\"", 7);
  save(b.path, edited);
  mirror__drain(b.m);
  CHECK_STR(cJSON_GetObjectItem(b.st->current, "title")->valuestring, "file!");
  free(edited);
  free(text);
  bed_stop(&b);
}

static void test_removed_and_back(void) {
  struct bed b;
  CHECK(bed_start(&b, "{\"a\":1}", 20, 0) == 0);
  CHECK(unlink(b.path) == 0);
  mirror__drain(b.m);
  CHECK(b.sink.last_status == FILE_REMOVED && b.st->current);
  /* The next change writes it again. */
  client_change(&b, "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2}]");
  mirror_flush(b.m);
  char *text = read_all(b.path);
  CHECK_STR(text, "{\n  \"a\": 2\n}\n");
  free(text);
  CHECK(b.st->status == FILE_OK);
  bed_stop(&b);
}

static void test_absent_file_appears(void) {
  struct bed b;
  CHECK(bed_start(&b, NULL, 20, 0) == 0);
  CHECK(b.st && !b.st->current && b.st->status == FILE_ABSENT);
  CHECK(b.sink.appeared_loading == 0);
  save(b.path, "{\"new\":true}");
  mirror__drain(b.m);
  CHECK(b.sink.appeared == 1 && b.st->version == 1);
  bed_stop(&b);
}

static void test_failed_start_leaves_nothing(void) {
  /* A second --file that cannot be mirrored: the first one's state is
   * removed again, and the mirror frees itself once the loop has run. */
  struct bed b;
  memset(&b, 0, sizeof b);
  snprintf(b.dir, sizeof b.dir, "/tmp/ms-test-mirror-XXXXXX");
  CHECK(mkdtemp(b.dir) != NULL);
  snprintf(b.path, sizeof b.path, "%s/s.json", b.dir);
  save(b.path, "{}");
  uv_loop_init(&b.loop);
  b.cfg.files[0] = b.path;
  b.cfg.files[1] = "/nonexistent-dir/x.json";
  b.cfg.nfiles = 2;
  b.cfg.max_state = 1 << 20;
  b.cfg.max_states = 10;
  store_init(&b.store, 10, 0, 0);
  struct mirror_events ev = {on_changed, on_appeared,    on_status,
                             on_states,  on_subscribers, &b.sink};
  CHECK(mirror_start(&b.loop, &b.cfg, &b.store, &ev, &b.m) == -1);
  CHECK(b.m == NULL);
  CHECK(b.store.nstates == 0 && b.store.head == NULL);
  uv_run(&b.loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&b.loop) == 0);
  store_free(&b.store);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", b.dir);
  CHECK(system(cmd) == 0);
}

int main(void) {
  log_set_level(MS_LOG_ERROR); /* invalid files are logged as warnings */
  test_load_and_read();
  test_write_and_echo();
  test_settle();
  test_invalid_file_kept();
  test_merge();
  test_removed_and_back();
  test_absent_file_appears();
  test_failed_start_leaves_nothing();
  return CHECK_DONE();
}
