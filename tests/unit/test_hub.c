/* The hub, driven by a fake transport (sessions that record what they are
 * sent) and a fake mirror (look-ups in the store, saves counted): hello,
 * subscribe and snapshot, acks and broadcasts, the no-op rule, errors with
 * their ref and name, panels and what they are told, file changes and the
 * HTTP API's changes. */
#include "check.h"
#include "hub.h"
#include "json.h"
#include "log.h"
#include "outmsg.h"
#include "patch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the fake transport --------------------------------------------------- */

#define MAX_SENT 64

struct fake_session {
  struct session s;
  char *sent[MAX_SENT]; /* texts received, oldest first */
  int nsent;
  int open;
};

static void fake_send(void *arg, struct session *s, struct outmsg *m) {
  (void)arg;
  struct fake_session *f = (struct fake_session *)s;
  CHECK(f->open);
  if (f->nsent < MAX_SENT)
    f->sent[f->nsent++] = strdup((const char *)outmsg_text(m));
}

/* --- the fake mirror ------------------------------------------------------ */

struct fake_files {
  struct store *store;
  int changed;        /* saves asked for */
  struct state *last; /* the state of the last save */
  int unused;         /* subscriptions ended */
};

static struct state *fake_lookup(void *arg, const char *name,
                                 const char **why) {
  struct fake_files *f = arg;
  struct state *st = store_find(f->store, name);
  if (!st && strncmp(name, "new", 3) == 0)
    st = store_add(f->store, name, "/dir/new.json"); /* as under --dir */
  if (!st) *why = "not one of the mirrored files";
  return st;
}

static void fake_changed(void *arg, struct state *st) {
  struct fake_files *f = arg;
  f->changed++;
  f->last = st;
}

static void fake_unused(void *arg) {
  struct fake_files *f = arg;
  f->unused++;
}

/* --- the test bed --------------------------------------------------------- */

struct bed {
  struct config cfg;
  struct store store;
  struct fake_files files;
  struct hub *hub;
  struct fake_session c[4];
};

static cJSON *parse(const char *s) {
  cJSON *v = json_parse(s, strlen(s), NULL);
  if (!v) fprintf(stderr, "bad JSON in test: %s\n", s);
  return v;
}

static void bed_init(struct bed *b) {
  memset(b, 0, sizeof *b);
  b->cfg.max_ops = 5;
  store_init(&b->store, 10, 0, 0);
  struct state *todo = store_add(&b->store, "todo", "/app/todo.json");
  cJSON *ops = NULL;
  CHECK(store_replace(todo, parse("{\"items\":[],\"title\":\"x\"}"), "file",
                      &ops) == 0);
  cJSON_Delete(ops);
  todo->status = FILE_OK;
  store_add(&b->store, "later", "/app/later.json");
  b->files.store = &b->store;
  struct hub_sender sender = {fake_send, NULL};
  struct hub_files files = {fake_lookup, fake_changed, fake_unused, NULL,
                            &b->files};
  b->hub = hub_new(&b->cfg, &b->store, NULL, &sender, &files);
  CHECK(b->hub != NULL);
}

static void clear(struct fake_session *f) {
  for (int i = 0; i < f->nsent; i++)
    free(f->sent[i]);
  f->nsent = 0;
}

static void open_client(struct bed *b, int i) {
  struct fake_session *f = &b->c[i];
  snprintf(f->s.id, sizeof f->s.id, "c%d", i + 1);
  f->s.origin = "";
  snprintf(f->s.address, sizeof f->s.address, "127.0.0.1");
  f->open = 1;
  CHECK(hub_on_open(b->hub, &f->s) == 0);
  CHECK(f->s.data != NULL);
}

static void close_client(struct bed *b, int i) {
  hub_on_close(b->hub, &b->c[i].s);
  CHECK(b->c[i].s.data == NULL);
  b->c[i].open = 0;
  clear(&b->c[i]);
}

static void bed_free(struct bed *b) {
  for (int i = 0; i < 4; i++)
    if (b->c[i].open) close_client(b, i);
  hub_free(b->hub);
  store_free(&b->store);
}

static void say(struct bed *b, int i, const char *msg) {
  hub_on_message(b->hub, &b->c[i].s, msg, strlen(msg));
}

/* Message k received by client i, parsed (caller frees); NULL if none. */
static cJSON *got(struct bed *b, int i, int k) {
  return k < b->c[i].nsent ? parse(b->c[i].sent[k]) : NULL;
}

static const char *str(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : "(none)";
}

static double num(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Checks that client i's message k has type (and, if not NULL, code). */
#define CHECK_MSG(b, i, k, type, code)                                         \
  do {                                                                         \
    cJSON *m_ = got(b, i, k);                                                  \
    CHECK_STR(str(m_, "type"), type);                                          \
    if (code) CHECK_STR(str(m_, "code"), (const char *)(code));                \
    cJSON_Delete(m_);                                                          \
  } while (0)

/* --- tests ---------------------------------------------------------------- */

static void test_hello(void) {
  struct bed b;
  bed_init(&b);
  open_client(&b, 0);
  CHECK(b.c[0].nsent == 1);
  cJSON *m = got(&b, 0, 0);
  CHECK_STR(str(m, "type"), "hello");
  CHECK(num(m, "protocol") == 1);
  CHECK_STR(str(m, "session"), hub_session_id(b.hub));
  CHECK(strlen(hub_session_id(b.hub)) == 16);
  CHECK_STR(str(m, "client"), "c1");
  char *states = json_print_compact(cJSON_GetObjectItem(m, "states"), NULL);
  CHECK_STR(states, "[\"todo\",\"later\"]");
  free(states);
  cJSON_Delete(m);
  CHECK(hub_client_count(b.hub) == 1);
  close_client(&b, 0);
  CHECK(hub_client_count(b.hub) == 0);
  bed_free(&b);
}

static void test_subscribe(void) {
  struct bed b;
  bed_init(&b);
  open_client(&b, 0);
  open_client(&b, 1);
  clear(&b.c[0]);
  clear(&b.c[1]);
  say(&b, 0, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  CHECK(b.c[0].nsent == 1);
  cJSON *m = got(&b, 0, 0);
  CHECK_STR(str(m, "type"), "snapshot");
  CHECK_STR(str(m, "name"), "todo");
  CHECK(num(m, "version") == 1);
  CHECK_STR(str(cJSON_GetObjectItem(m, "state"), "title"), "x");
  cJSON_Delete(m);
  CHECK(b.c[1].nsent == 0);
  CHECK(hub_subscribers(b.hub, hub_find(b.hub, "todo")) == 1);

  /* A state with no value: exists false, and the subscription stays. */
  say(&b, 1, "{\"type\":\"subscribe\",\"name\":\"later\"}");
  m = got(&b, 1, 0);
  CHECK_STR(str(m, "type"), "snapshot");
  CHECK(num(m, "version") == 0);
  CHECK(cJSON_IsFalse(cJSON_GetObjectItem(m, "exists")));
  cJSON_Delete(m);
  clear(&b.c[1]);

  /* With init it is created, saved, and the other subscriber is sent the
   * new state whole. */
  say(&b, 0,
      "{\"type\":\"subscribe\",\"name\":\"later\",\"init\":{\"n\":1},\"ref\":"
      "7}");
  struct state *later = hub_find(b.hub, "later");
  CHECK(later->version == 1 && later->current);
  CHECK(b.files.changed == 1 && b.files.last == later);
  m = got(&b, 1, 0);
  CHECK_STR(str(m, "type"), "snapshot");
  CHECK(num(m, "version") == 1);
  cJSON_Delete(m);
  CHECK_MSG(&b, 0, 1, "snapshot", NULL);
  CHECK(later->hist_len == 0); /* the first value is not history */

  /* Unsubscribing tells the mirror, which may drop what nobody needs. */
  say(&b, 1, "{\"type\":\"unsubscribe\",\"name\":\"later\"}");
  CHECK(b.files.unused == 1);
  CHECK(hub_subscribers(b.hub, later) == 1);
  bed_free(&b);
}

static void test_patch_ack_broadcast(void) {
  struct bed b;
  bed_init(&b);
  for (int i = 0; i < 3; i++)
    open_client(&b, i);
  say(&b, 0, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  say(&b, 1, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  for (int i = 0; i < 3; i++)
    clear(&b.c[i]);
  say(&b, 0,
      "{\"type\":\"patch\",\"name\":\"todo\",\"base\":1,\"ref\":\"r1\","
      "\"ops\":[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":\"milk\"}]}");
  /* The sender: an ack with its ref and the new version. */
  CHECK(b.c[0].nsent == 1);
  cJSON *m = got(&b, 0, 0);
  CHECK_STR(str(m, "type"), "ack");
  CHECK_STR(str(m, "name"), "todo");
  CHECK_STR(str(m, "ref"), "r1");
  CHECK(num(m, "version") == 2);
  cJSON_Delete(m);
  /* The other subscriber: the ops, with the sender as origin. */
  CHECK(b.c[1].nsent == 1);
  m = got(&b, 1, 0);
  CHECK_STR(str(m, "type"), "patch");
  CHECK(num(m, "version") == 2);
  CHECK_STR(str(m, "origin"), "client:c1");
  char *ops = json_print_compact(cJSON_GetObjectItem(m, "ops"), NULL);
  CHECK_STR(ops, "[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":\"milk\"}]");
  free(ops);
  cJSON_Delete(m);
  /* Not subscribed: nothing. */
  CHECK(b.c[2].nsent == 0);
  CHECK(b.files.changed == 1);

  /* set: diffed, so the others get small ops. */
  clear(&b.c[0]);
  clear(&b.c[1]);
  say(&b, 1,
      "{\"type\":\"set\",\"name\":\"todo\",\"ref\":2,\"state\":{\"items\":"
      "[\"milk\"],\"title\":\"y\"}}");
  CHECK_MSG(&b, 1, 0, "ack", NULL);
  m = got(&b, 0, 0);
  CHECK_STR(str(m, "origin"), "client:c2");
  ops = json_print_compact(cJSON_GetObjectItem(m, "ops"), NULL);
  CHECK_STR(ops, "[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"y\"}]");
  free(ops);
  cJSON_Delete(m);
  CHECK(b.files.changed == 2);

  /* revert: back to version 2, as version 4. */
  clear(&b.c[0]);
  clear(&b.c[1]);
  say(&b, 2, "{\"type\":\"identify\",\"role\":\"cli\"}");
  say(&b, 2, "{\"type\":\"revert\",\"name\":\"todo\",\"version\":2,\"ref\":3}");
  m = got(&b, 2, b.c[2].nsent - 1);
  CHECK_STR(str(m, "type"), "ack");
  CHECK(num(m, "version") == 4);
  cJSON_Delete(m);
  m = got(&b, 0, 0);
  CHECK_STR(str(m, "origin"), "api"); /* a cli connection's changes */
  cJSON_Delete(m);
  CHECK_STR(str(hub_find(b.hub, "todo")->current, "title"), "x");
  say(&b, 2, "{\"type\":\"revert\",\"name\":\"todo\",\"version\":99}");
  CHECK_MSG(&b, 2, b.c[2].nsent - 1, "error", "unknown_version");
  bed_free(&b);
}

static void test_no_op_changes(void) {
  struct bed b;
  bed_init(&b);
  open_client(&b, 0);
  open_client(&b, 1);
  say(&b, 0, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  say(&b, 1, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  clear(&b.c[0]);
  clear(&b.c[1]);
  const char *noops[] = {
      "{\"type\":\"patch\",\"name\":\"todo\",\"ref\":1,\"ops\":[]}",
      "{\"type\":\"patch\",\"name\":\"todo\",\"ref\":2,\"ops\":[{\"op\":"
      "\"test\",\"path\":\"/title\",\"value\":\"x\"}]}",
      "{\"type\":\"patch\",\"name\":\"todo\",\"ref\":3,\"ops\":[{\"op\":"
      "\"replace\",\"path\":\"/title\",\"value\":\"x\"}]}",
      "{\"type\":\"set\",\"name\":\"todo\",\"ref\":4,\"state\":{\"items\":[],"
      "\"title\":\"x\"}}",
  };
  for (size_t k = 0; k < sizeof noops / sizeof *noops; k++) {
    say(&b, 0, noops[k]);
    cJSON *m = got(&b, 0, (int)k);
    CHECK_STR(str(m, "type"), "ack");
    CHECK(num(m, "ref") == (double)k + 1);
    CHECK(num(m, "version") == 1); /* no version spent */
    cJSON_Delete(m);
  }
  CHECK(b.c[1].nsent == 0);    /* nothing broadcast */
  CHECK(b.files.changed == 0); /* nothing written */
  CHECK(hub_find(b.hub, "todo")->hist_len == 0);
  bed_free(&b);
}

static void test_errors_carry_ref_and_name(void) {
  struct bed b;
  bed_init(&b);
  open_client(&b, 0);
  open_client(&b, 1);
  say(&b, 0, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  say(&b, 1, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  clear(&b.c[0]);
  clear(&b.c[1]);

  /* A conflict: nothing applied, the error, then a fresh snapshot. */
  say(&b, 0,
      "{\"type\":\"patch\",\"name\":\"todo\",\"ref\":5,\"ops\":[{\"op\":"
      "\"add\",\"path\":\"/items/-\",\"value\":1},{\"op\":\"replace\","
      "\"path\":\"/nope/x\",\"value\":2}]}");
  CHECK(b.c[0].nsent == 2);
  cJSON *m = got(&b, 0, 0);
  CHECK_STR(str(m, "code"), "conflict");
  CHECK_STR(str(m, "name"), "todo");
  CHECK(num(m, "ref") == 5);
  cJSON_Delete(m);
  CHECK_MSG(&b, 0, 1, "snapshot", NULL);
  CHECK(hub_find(b.hub, "todo")->version == 1);
  CHECK(b.c[1].nsent == 0 && b.files.changed == 0);

  struct {
    const char *msg, *code, *name, *ref;
  } cases[] = {
      {"{\"type\":\"patch\",\"name\":\"todo\",\"ref\":\"a\",\"ops\":[{\"op\":"
       "\"frob\",\"path\":\"/x\"}]}",
       "invalid_patch", "todo", "a"},
      {"{\"type\":\"patch\",\"name\":\"todo\",\"ref\":\"b\",\"ops\":{}}",
       "bad_message", "todo", "b"},
      /* Not JSON as a whole: ref and name are still read. */
      {"{\"type\":\"patch\",\"name\":\"todo\",\"ref\":\"c\",\"ops\":[}",
       "bad_message", "todo", "c"},
      {"{\"type\":\"patch\",\"name\":\"nosuch\",\"ref\":\"d\",\"ops\":[]}",
       "unknown_state", "nosuch", "d"},
      {"{\"type\":\"patch\",\"name\":\"later\",\"ref\":\"e\",\"ops\":[]}",
       "conflict", "later", "e"},
      {"{\"type\":\"patch\",\"name\":\"todo\",\"ref\":\"f\",\"ops\":[" /* 6 */
       "{\"op\":\"test\",\"path\":\"\",\"value\":1},{\"op\":\"test\","
       "\"path\":\"\",\"value\":1},{\"op\":\"test\",\"path\":\"\",\"value\":"
       "1},{\"op\":\"test\",\"path\":\"\",\"value\":1},{\"op\":\"test\","
       "\"path\":\"\",\"value\":1},{\"op\":\"test\",\"path\":\"\",\"value\":"
       "1}]}",
       "too_large", "todo", "f"},
      {"{\"type\":\"frobnicate\",\"name\":\"todo\",\"ref\":\"g\"}",
       "bad_message", "todo", "g"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    clear(&b.c[0]);
    say(&b, 0, cases[k].msg);
    m = got(&b, 0, 0);
    CHECK_STR(str(m, "type"), "error");
    CHECK_STR(str(m, "code"), cases[k].code);
    CHECK_STR(str(m, "name"), cases[k].name);
    CHECK_STR(str(m, "ref"), cases[k].ref);
    if (!strcmp(cases[k].code, "unknown_state"))
      CHECK(strstr(str(m, "message"), "not one of the mirrored files"));
    cJSON_Delete(m);
  }
  CHECK(b.c[1].nsent == 0 && b.files.changed == 0);
  bed_free(&b);
}

static void test_panels(void) {
  struct bed b;
  bed_init(&b);
  open_client(&b, 0);
  open_client(&b, 1);
  say(&b, 1, "{\"type\":\"identify\",\"role\":\"panel\"}");
  /* A panel is sent the states at once, then the client list. */
  CHECK_MSG(&b, 1, 1, "states", NULL);
  CHECK_MSG(&b, 1, 2, "clients", NULL);
  clear(&b.c[1]);

  /* An app identifies with its page: no query reaches the list. */
  say(&b, 0,
      "{\"type\":\"identify\",\"role\":\"app\",\"page\":"
      "\"http://vm-1:3000/?token=secret#x\"}");
  cJSON *m = got(&b, 1, 0);
  CHECK_STR(str(m, "type"), "clients");
  const cJSON *list = cJSON_GetObjectItem(m, "clients");
  CHECK(cJSON_GetArraySize(list) == 2);
  const cJSON *app = cJSON_GetArrayItem(list, 1); /* newest first */
  CHECK_STR(str(app, "id"), "c1");
  CHECK_STR(str(app, "role"), "app");
  CHECK_STR(str(app, "page"), "http://vm-1:3000/");
  CHECK_STR(str(cJSON_GetArrayItem(list, 0), "role"), "panel");
  cJSON_Delete(m);
  clear(&b.c[1]);

  /* Subscribing changes the list. */
  say(&b, 0, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  m = got(&b, 1, 0);
  CHECK_STR(str(m, "type"), "clients");
  app = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "clients"), 1);
  char *subs =
      json_print_compact(cJSON_GetObjectItem(app, "subscriptions"), NULL);
  CHECK_STR(subs, "[\"todo\"]");
  free(subs);
  cJSON_Delete(m);
  clear(&b.c[0]);
  clear(&b.c[1]);

  /* A file status reaches the subscribers and every panel, then panels get
   * the states again; an app not subscribed hears nothing. */
  open_client(&b, 2);
  clear(&b.c[1]);
  clear(&b.c[2]);
  struct state *todo = hub_find(b.hub, "todo");
  todo->status = FILE_INVALID;
  todo->error.line = 2;
  todo->error.column = 3;
  snprintf(todo->error.message, sizeof todo->error.message, "bad");
  hub_file_status(b.hub, todo);
  CHECK_MSG(&b, 0, 0, "error", "file_invalid");
  CHECK_MSG(&b, 1, 0, "error", "file_invalid");
  CHECK_MSG(&b, 1, 1, "states", NULL);
  CHECK(b.c[2].nsent == 0);

  /* A subscriber that comes while the file is invalid is told too. */
  say(&b, 2, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  CHECK_MSG(&b, 2, 0, "snapshot", NULL);
  CHECK_MSG(&b, 2, 1, "error", "file_invalid");

  /* Requests answered with their ref. */
  clear(&b.c[2]);
  say(&b, 2, "{\"type\":\"states\",\"ref\":8}");
  say(&b, 2, "{\"type\":\"clients\",\"ref\":9}");
  say(&b, 2, "{\"type\":\"history\",\"name\":\"todo\",\"ref\":10}");
  m = got(&b, 2, 0);
  CHECK(num(m, "ref") == 8);
  cJSON_Delete(m);
  m = got(&b, 2, 1);
  CHECK(num(m, "ref") == 9);
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(m, "clients")) == 3);
  cJSON_Delete(m);
  m = got(&b, 2, 2);
  CHECK_STR(str(m, "type"), "history");
  CHECK(num(m, "ref") == 10);
  cJSON_Delete(m);

  /* A client leaving: the panel gets the shorter list, the mirror hears
   * that a subscription ended. */
  clear(&b.c[1]);
  close_client(&b, 0);
  CHECK(b.files.unused == 1);
  m = got(&b, 1, 0);
  CHECK_STR(str(m, "type"), "clients");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(m, "clients")) == 2);
  cJSON_Delete(m);
  bed_free(&b);
}

static void test_file_changes(void) {
  struct bed b;
  bed_init(&b);
  open_client(&b, 0);
  open_client(&b, 1);
  say(&b, 0, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  say(&b, 1, "{\"type\":\"subscribe\",\"name\":\"later\"}");
  clear(&b.c[0]);
  clear(&b.c[1]);
  struct state *todo = hub_find(b.hub, "todo");
  cJSON *ops =
      parse("[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"z\"}]");
  bool changed;
  CHECK(store_apply(todo, ops, "file", &changed, NULL, 0) == PATCH_OK);
  hub_changed(b.hub, todo, ops, "file");
  cJSON_Delete(ops);
  cJSON *m = got(&b, 0, 0);
  CHECK_STR(str(m, "type"), "patch");
  CHECK_STR(str(m, "origin"), "file");
  CHECK(num(m, "version") == 2);
  cJSON_Delete(m);
  CHECK(b.c[1].nsent == 0);
  CHECK(b.files.changed == 0); /* the file's own change is not saved back */

  /* A file appears: its subscribers get the snapshot. */
  struct state *later = hub_find(b.hub, "later");
  ops = NULL;
  CHECK(store_replace(later, parse("{\"n\":2}"), "file", &ops) == 0);
  hub_appeared(b.hub, later, ops);
  cJSON_Delete(ops);
  m = got(&b, 1, 0);
  CHECK_STR(str(m, "type"), "snapshot");
  CHECK(num(m, "version") == 1);
  cJSON_Delete(m);
  CHECK(b.c[0].nsent == 1);
  bed_free(&b);
}

static void test_api_change(void) {
  struct bed b;
  bed_init(&b);
  open_client(&b, 0);
  say(&b, 0, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  clear(&b.c[0]);
  struct state *todo = hub_find(b.hub, "todo");
  struct msg m;
  char err[256];
  const char *text = "{\"type\":\"patch\",\"name\":\"todo\",\"ref\":1,\"ops\":"
                     "[{\"op\":\"replace\",\"path\":\"/title\",\"value\":2}]}";
  CHECK(msg_decode(text, strlen(text), &m, err, sizeof err, NULL, NULL) ==
        NULL);
  const char *code = "unset";
  size_t len;
  char *answer = hub_api_change(b.hub, todo, &m, &code, &len);
  msg_free(&m);
  CHECK(code == NULL);
  CHECK_STR(answer,
            "{\"type\":\"ack\",\"name\":\"todo\",\"ref\":1,\"version\":2}");
  free(answer);
  cJSON *p = got(&b, 0, 0);
  CHECK_STR(str(p, "origin"), "api");
  cJSON_Delete(p);
  CHECK(b.files.changed == 1);

  text = "{\"type\":\"patch\",\"name\":\"todo\",\"ops\":[{\"op\":\"remove\","
         "\"path\":\"/gone\"}]}";
  CHECK(msg_decode(text, strlen(text), &m, err, sizeof err, NULL, NULL) ==
        NULL);
  answer = hub_api_change(b.hub, todo, &m, &code, &len);
  msg_free(&m);
  CHECK_STR(code, "conflict");
  cJSON *e = parse(answer);
  CHECK_STR(str(e, "type"), "error");
  CHECK_STR(str(e, "name"), "todo");
  cJSON_Delete(e);
  free(answer);
  CHECK(b.c[0].nsent == 1 && b.files.changed == 1);

  /* The queries the HTTP API uses. */
  CHECK(hub_find(b.hub, "newname") == NULL);   /* finding makes nothing */
  CHECK(hub_lookup(b.hub, "newname") != NULL); /* a look-up may */
  CHECK(hub_find(b.hub, "newname") != NULL);
  CHECK(hub_lookup(b.hub, "nosuch") == NULL);
  CHECK(hub_store(b.hub) == &b.store);
  bed_free(&b);
}

/* A strict patch computed before another connection's change to an
 * overlapping path is refused with conflict (name, ref) and a snapshot;
 * changes elsewhere, and the sender's own, do not make it stale. */
static void test_strict(void) {
  struct bed b;
  bed_init(&b);
  open_client(&b, 0);
  open_client(&b, 1);
  say(&b, 0, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  say(&b, 1, "{\"type\":\"subscribe\",\"name\":\"todo\"}");
  clear(&b.c[0]);
  clear(&b.c[1]);
  struct state *todo = hub_find(b.hub, "todo");
  /* Both computed "title" from version 1; the first one in wins. */
  say(&b, 0,
      "{\"type\":\"patch\",\"name\":\"todo\",\"base\":1,\"strict\":true,"
      "\"ref\":1,\"ops\":[{\"op\":\"replace\",\"path\":\"/title\",\"value\":"
      "\"a\"}]}");
  CHECK_MSG(&b, 0, 0, "ack", NULL);
  clear(&b.c[1]);
  say(&b, 1,
      "{\"type\":\"patch\",\"name\":\"todo\",\"base\":1,\"strict\":true,"
      "\"ref\":\"r2\",\"ops\":[{\"op\":\"replace\",\"path\":\"/title\","
      "\"value\":\"b\"}]}");
  CHECK(b.c[1].nsent == 2);
  cJSON *m = got(&b, 1, 0);
  CHECK_STR(str(m, "type"), "error");
  CHECK_STR(str(m, "code"), "conflict");
  CHECK_STR(str(m, "name"), "todo");
  CHECK_STR(str(m, "ref"), "r2");
  CHECK(strstr(str(m, "message"), "client:c1") != NULL);
  cJSON_Delete(m);
  m = got(&b, 1, 1);
  CHECK_STR(str(m, "type"), "snapshot");
  CHECK(num(m, "version") == 2);
  CHECK_STR(str(cJSON_GetObjectItem(m, "state"), "title"), "a");
  cJSON_Delete(m);
  CHECK(todo->version == 2);
  CHECK_STR(str(todo->current, "title"), "a");
  /* The same patch without strict is absolute, and applies. */
  clear(&b.c[1]);
  say(&b, 1,
      "{\"type\":\"patch\",\"name\":\"todo\",\"base\":1,\"ref\":3,\"ops\":"
      "[{\"op\":\"replace\",\"path\":\"/title\",\"value\":\"b\"}]}");
  CHECK_MSG(&b, 1, 0, "ack", NULL);
  /* Another path: applied although the base is old. */
  clear(&b.c[0]);
  say(&b, 0,
      "{\"type\":\"patch\",\"name\":\"todo\",\"base\":1,\"strict\":true,"
      "\"ref\":4,\"ops\":[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":"
      "1}]}");
  CHECK_MSG(&b, 0, 0, "ack", NULL);
  /* The sender's own changes since its base never count: c1 made version
   * 4, and its patch from version 3 on that path applies. */
  clear(&b.c[0]);
  say(&b, 0,
      "{\"type\":\"patch\",\"name\":\"todo\",\"base\":3,\"strict\":true,"
      "\"ref\":5,\"ops\":[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":"
      "2}]}");
  CHECK_MSG(&b, 0, 0, "ack", NULL);
  CHECK(todo->version == 5);
  /* A base from the future, or older than the history kept: refused. */
  clear(&b.c[0]);
  say(&b, 0,
      "{\"type\":\"patch\",\"name\":\"todo\",\"base\":9,\"strict\":true,"
      "\"ref\":6,\"ops\":[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]}");
  CHECK_MSG(&b, 0, 0, "error", "conflict");
  CHECK_MSG(&b, 0, 1, "snapshot", NULL);
  /* Malformed: strict without base, strict not a boolean, a strict set. */
  const char *bad[] = {
      "{\"type\":\"patch\",\"name\":\"todo\",\"strict\":true,\"ref\":7,"
      "\"ops\":[]}",
      "{\"type\":\"patch\",\"name\":\"todo\",\"base\":5,\"strict\":1,\"ref\":"
      "7,\"ops\":[]}",
      "{\"type\":\"set\",\"name\":\"todo\",\"base\":5,\"strict\":true,"
      "\"ref\":7,\"state\":{}}",
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    clear(&b.c[0]);
    say(&b, 0, bad[k]);
    CHECK(b.c[0].nsent == 1);
    m = got(&b, 0, 0);
    CHECK_STR(str(m, "code"), "bad_message");
    CHECK(num(m, "ref") == 7);
    CHECK_STR(str(m, "name"), "todo");
    cJSON_Delete(m);
  }
  CHECK(todo->version == 5);
  /* Over HTTP there is no sender to recognise: every change since base
   * counts, and a stale patch is a conflict. */
  struct msg msg;
  char err[256];
  const char *text = "{\"type\":\"patch\",\"name\":\"todo\",\"base\":4,"
                     "\"strict\":true,\"ops\":[{\"op\":\"test\",\"path\":"
                     "\"/items\",\"value\":[1,2]}]}";
  CHECK(msg_decode(text, strlen(text), &msg, err, sizeof err, NULL, NULL) ==
        NULL);
  const char *code = NULL;
  size_t len;
  char *answer = hub_api_change(b.hub, todo, &msg, &code, &len);
  msg_free(&msg);
  CHECK_STR(code, "conflict");
  free(answer);
  CHECK(todo->version == 5);
  bed_free(&b);
}

int main(void) {
  log_set_level(MS_LOG_ERROR); /* the file status test logs a warning */
  test_hello();
  test_subscribe();
  test_patch_ack_broadcast();
  test_no_op_changes();
  test_errors_carry_ref_and_name();
  test_panels();
  test_file_changes();
  test_api_change();
  test_strict();
  return CHECK_DONE();
}
