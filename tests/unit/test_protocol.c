/* Decoding client messages, good and bad, and encoding server messages. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "json.h"
#include "names.h"
#include "patch.h"
#include "protocol.h"

/* Decodes text; returns the error code or NULL, and frees the message. */
static const char *decode(const char *text, struct msg *m, cJSON **ref,
                          char *name) {
  char err[256];
  return msg_decode(text, strlen(text), m, err, sizeof err, ref, name);
}

static void expect_error(const char *text, const char *code, int line) {
  struct msg m;
  cJSON *ref = NULL;
  char name[NAME_MAX_LEN + 1];
  const char *got = decode(text, &m, &ref, name);
  check_count++;
  if (!got || strcmp(got, code) != 0) {
    check_failures++;
    fprintf(stderr, "%s:%d: %s: got %s, want %s\n", __FILE__, line, text,
            got ? got : "(ok)", code);
    if (!got) msg_free(&m);
  }
  cJSON_Delete(ref);
}

static void test_bad_messages(void) {
  expect_error("", ERR_BAD_MESSAGE, __LINE__);
  expect_error("not json", ERR_BAD_MESSAGE, __LINE__);
  expect_error("[1,2]", ERR_BAD_MESSAGE, __LINE__);
  expect_error("\"subscribe\"", ERR_BAD_MESSAGE, __LINE__);
  expect_error("{}", ERR_BAD_MESSAGE, __LINE__);
  expect_error("{\"type\":1}", ERR_BAD_MESSAGE, __LINE__);
  expect_error("{\"type\":\"frobnicate\"}", ERR_BAD_MESSAGE, __LINE__);
  expect_error("{\"type\":\"subscribe\"}", ERR_BAD_MESSAGE, __LINE__);
  expect_error("{\"type\":\"subscribe\",\"name\":3}", ERR_BAD_MESSAGE,
               __LINE__);
  expect_error("{\"type\":\"patch\",\"name\":\"s\"}", ERR_BAD_MESSAGE,
               __LINE__);
  expect_error("{\"type\":\"patch\",\"name\":\"s\",\"ops\":\"nope\"}",
               ERR_BAD_MESSAGE, __LINE__);
  expect_error("{\"type\":\"patch\",\"name\":\"s\",\"ops\":[],\"base\":-1}",
               ERR_BAD_MESSAGE, __LINE__);
  expect_error("{\"type\":\"patch\",\"name\":\"s\",\"ops\":[],\"base\":1.5}",
               ERR_BAD_MESSAGE, __LINE__);
  expect_error("{\"type\":\"set\",\"name\":\"s\"}", ERR_BAD_MESSAGE, __LINE__);
  expect_error("{\"type\":\"revert\",\"name\":\"s\"}", ERR_BAD_MESSAGE,
               __LINE__);
  expect_error("{\"type\":\"identify\",\"role\":\"root\"}", ERR_BAD_MESSAGE,
               __LINE__);
  expect_error("{\"type\":\"history\",\"name\":\"s\",\"limit\":\"all\"}",
               ERR_BAD_MESSAGE, __LINE__);
  expect_error("{\"type\":\"subscribe\",\"name\":\"s\"} trailing",
               ERR_BAD_MESSAGE, __LINE__);
}

static void test_invalid_patches(void) {
  expect_error("{\"type\":\"patch\",\"name\":\"s\",\"ops\":[{\"op\":\"x\","
               "\"path\":\"/a\"}]}",
               ERR_INVALID_PATCH, __LINE__);
  expect_error("{\"type\":\"patch\",\"name\":\"s\",\"ops\":[{\"op\":\"add\","
               "\"path\":\"a\",\"value\":1}]}",
               ERR_INVALID_PATCH, __LINE__);
  expect_error("{\"type\":\"patch\",\"name\":\"s\",\"ops\":[{\"op\":\"add\","
               "\"path\":\"/a\"}]}",
               ERR_INVALID_PATCH, __LINE__);
  expect_error("{\"type\":\"patch\",\"name\":\"s\",\"ops\":[{\"op\":\"move\","
               "\"path\":\"/a\"}]}",
               ERR_INVALID_PATCH, __LINE__);
  expect_error("{\"type\":\"patch\",\"name\":\"s\",\"ops\":[7]}",
               ERR_INVALID_PATCH, __LINE__);
}

static void test_error_keeps_ref_and_name(void) {
  struct msg m;
  cJSON *ref = NULL;
  char name[NAME_MAX_LEN + 1];
  const char *code = decode("{\"type\":\"patch\",\"name\":\"todo\",\"ref\":"
                            "{\"n\":7},\"ops\":[{\"op\":\"nope\"}]}",
                            &m, &ref, name);
  CHECK(code && strcmp(code, ERR_INVALID_PATCH) == 0);
  CHECK_STR(name, "todo");
  CHECK(ref && cJSON_GetObjectItem(ref, "n")->valuedouble == 7);
  cJSON_Delete(ref);
}

/* A message the strict parser refuses as a whole still has its ref and
 * name read back, leniently, so the sender learns which change failed. */
static void expect_recovered(const char *text, const char *want_ref,
                             const char *want_name, int line) {
  struct msg m;
  cJSON *ref = NULL;
  char name[NAME_MAX_LEN + 1] = "garbage";
  const char *code = decode(text, &m, &ref, name);
  char *got = ref ? cJSON_PrintUnformatted(ref) : NULL;
  check_count++;
  if (!code || strcmp(code, ERR_BAD_MESSAGE) != 0 ||
      strcmp(got ? got : "(none)", want_ref) != 0 ||
      strcmp(name, want_name) != 0) {
    check_failures++;
    fprintf(stderr, "%s:%d: %s: got %s, ref %s, name \"%s\"\n", __FILE__, line,
            text, code ? code : "(ok)", got ? got : "(none)", name);
  }
  free(got);
  cJSON_Delete(ref);
}

static void test_refused_messages_keep_ref_and_name(void) {
  /* "\u0000", a lone surrogate, invalid UTF-8, a raw control character,
   * nesting past the limit: each refuses the whole message. */
  expect_recovered("{\"type\":\"set\",\"name\":\"todo\",\"ref\":7,"
                   "\"state\":{\"t\":\"a\\u0000b\"}}",
                   "7", "todo", __LINE__);
  expect_recovered("{\"type\":\"patch\",\"ref\":\"r-1\",\"ops\":[{\"op\":"
                   "\"add\",\"path\":\"/x\",\"value\":\"\\ud800\"}],"
                   "\"name\":\"a/b\"}",
                   "\"r-1\"", "a/b", __LINE__);
  expect_recovered("{\"ref\":{\"k\":[1,\"}\"]},\"type\":\"set\",\"name\":"
                   "\"s\",\"state\":\"\xff\xfe\"}",
                   "{\"k\":[1,\"}\"]}", "s", __LINE__);
  expect_recovered("{\"type\":\"set\",\"name\":\"s\",\"state\":\"tab\there\","
                   "\"ref\":[1,2]}",
                   "[1,2]", "s", __LINE__);
  /* The last of a repeated member wins, as in JSON.parse. */
  expect_recovered("{\"ref\":1,\"name\":\"a\",\"x\":\"\\u0000\",\"ref\":2}",
                   "2", "a", __LINE__);
  /* Escaped keys count, by their text. */
  expect_recovered("{\"\\u0072ef\":3,\"n\\u0061me\":\"q\",\"v\":\"\\udfff\"}",
                   "3", "q", __LINE__);
  /* Deeper than the parser's limit. */
  {
    size_t d = JSON_MAX_DEPTH + 5, n = 0;
    char *t = malloc(2 * d + 100);
    n += (size_t)sprintf(t, "{\"type\":\"set\",\"name\":\"deep\",\"state\":");
    memset(t + n, '[', d);
    memset(t + n + d, ']', d);
    n += 2 * d;
    strcpy(t + n, ",\"ref\":\"deep-1\"}");
    expect_recovered(t, "\"deep-1\"", "deep", __LINE__);
    free(t);
  }
  /* What cannot be read is left out, never guessed: a ref that is itself
   * invalid, a name that is not a string, a structure broken before them. */
  expect_recovered("{\"ref\":\"a\\u0000\",\"name\":7,\"x\":\"\\u0000\"}",
                   "(none)", "", __LINE__);
  expect_recovered("{\"x\":\"unterminated,\"ref\":1}", "(none)", "", __LINE__);
  expect_recovered("[\"ref\",1]x", "(none)", "", __LINE__);
  expect_recovered("\"\\u0000\"", "(none)", "", __LINE__);
}

static void test_good_messages(void) {
  struct msg m;
  CHECK(decode("{\"type\":\"subscribe\",\"name\":\"todo\",\"init\":{\"a\":1}}",
               &m, NULL, NULL) == NULL);
  CHECK(m.type == MSG_SUBSCRIBE);
  CHECK_STR(m.name, "todo");
  CHECK(cJSON_IsObject(m.value));
  msg_free(&m);

  CHECK(decode("{\"type\":\"patch\",\"name\":\"s\",\"base\":4,\"ref\":\"r1\","
               "\"ops\":[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2}]}",
               &m, NULL, NULL) == NULL);
  CHECK(m.type == MSG_PATCH && m.has_base && m.base == 4);
  CHECK(cJSON_GetArraySize(m.ops) == 1);
  CHECK(cJSON_IsString(m.ref));
  msg_free(&m);

  CHECK(decode("{\"type\":\"set\",\"name\":\"s\",\"state\":null}", &m, NULL,
               NULL) == NULL);
  CHECK(m.type == MSG_SET && cJSON_IsNull(m.value) && !m.has_base);
  msg_free(&m);

  CHECK(decode("{\"type\":\"revert\",\"name\":\"s\",\"version\":3}", &m, NULL,
               NULL) == NULL);
  CHECK(m.type == MSG_REVERT && m.version == 3);
  msg_free(&m);

  CHECK(decode(
            "{\"type\":\"identify\",\"role\":\"panel\",\"page\":\"http://x/\"}",
            &m, NULL, NULL) == NULL);
  CHECK(m.type == MSG_IDENTIFY);
  CHECK(m.role == ROLE_PANEL);
  CHECK_STR(msg_role_name(m.role), "panel");
  CHECK_STR(m.page, "http://x/");
  msg_free(&m);

  /* Unknown fields are ignored, so later clients stay compatible. */
  CHECK(decode("{\"type\":\"unsubscribe\",\"name\":\"s\",\"future\":true}", &m,
               NULL, NULL) == NULL);
  CHECK(m.type == MSG_UNSUBSCRIBE);
  msg_free(&m);
}

static void test_encoders(void) {
  size_t len;
  cJSON *state = cJSON_Parse("{\"a\":[1,2],\"b\":\"x\"}");
  char *s = msg_snapshot("todo", 3, state, &len);
  CHECK_STR(s, "{\"type\":\"snapshot\",\"name\":\"todo\",\"version\":3,"
               "\"state\":{\"a\":[1,2],\"b\":\"x\"}}");
  CHECK(len == strlen(s));
  free(s);
  s = msg_snapshot("todo", 0, NULL, &len);
  CHECK_STR(s, "{\"type\":\"snapshot\",\"name\":\"todo\",\"version\":0,"
               "\"exists\":false}");
  free(s);
  cJSON *ops = cJSON_Parse("[{\"op\":\"remove\",\"path\":\"/b\"}]");
  s = msg_patch("todo", 4, ops, "client:c2", &len);
  CHECK_STR(s,
            "{\"type\":\"patch\",\"name\":\"todo\",\"version\":4,\"ops\":"
            "[{\"op\":\"remove\",\"path\":\"/b\"}],\"origin\":\"client:c2\"}");
  free(s);
  cJSON *desc = cJSON_Parse("[\"removed b: \\\"x\\\"\"]");
  s = msg_patch_desc("todo", 4, ops, "file", desc, &len);
  CHECK_STR(s, "{\"type\":\"patch\",\"name\":\"todo\",\"version\":4,\"ops\":"
               "[{\"op\":\"remove\",\"path\":\"/b\"}],\"origin\":\"file\","
               "\"desc\":[\"removed b: \\\"x\\\"\"]}");
  free(s);
  s = msg_patch_desc("todo", 4, ops, "file", NULL, &len);
  CHECK_STR(s, "{\"type\":\"patch\",\"name\":\"todo\",\"version\":4,\"ops\":"
               "[{\"op\":\"remove\",\"path\":\"/b\"}],\"origin\":\"file\"}");
  free(s);
  cJSON_Delete(desc);
  cJSON *ref = cJSON_CreateNumber(12);
  s = msg_ack("todo", ref, 4, &len);
  CHECK_STR(s, "{\"type\":\"ack\",\"name\":\"todo\",\"ref\":12,\"version\":4}");
  free(s);
  s = msg_ack("a\"b", NULL, 9007199254740991ull, &len);
  CHECK_STR(s, "{\"type\":\"ack\",\"name\":\"a\\\"b\",\"version\":"
               "9007199254740991}");
  free(s);
  cJSON *keys = cJSON_Parse("{\"b\":1,\"1\":2,\"0\":\"\\u2028\"}");
  s = msg_snapshot("t", 1, keys, &len);
  CHECK_STR(s, "{\"type\":\"snapshot\",\"name\":\"t\",\"version\":1,"
               "\"state\":{\"0\":\"\xe2\x80\xa8\",\"1\":2,\"b\":1}}");
  free(s);
  cJSON_Delete(keys);
  s = msg_error(ERR_CONFLICT, "say \"why\"", "todo", ref, &len);
  CHECK_STR(s, "{\"type\":\"error\",\"code\":\"conflict\",\"message\":"
               "\"say \\\"why\\\"\",\"name\":\"todo\",\"ref\":12}");
  free(s);
  s = msg_error(ERR_NOT_FOUND, "no such page", NULL, NULL, &len);
  CHECK_STR(s, "{\"type\":\"error\",\"code\":\"not_found\",\"message\":"
               "\"no such page\"}");
  free(s);
  /* The encoders borrow: the values are intact afterwards. */
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(state, "a")) == 2);
  cJSON_Delete(ref);
  cJSON_Delete(ops);
  cJSON_Delete(state);
}

/* The messages built from the store: hello, states, history, file status,
 * and the HTTP bodies, byte for byte as docs/protocol.md shows them. */
static void test_store_encoders(void) {
  struct store store;
  store_init(&store, 10, 0, 0);
  struct state *todo = store_add(&store, "todo", "/app/todo.json");
  struct state *later = store_add(&store, "later", "/app/later.json");
  cJSON *ops = NULL;
  CHECK(store_replace(todo, cJSON_Parse("{\"done\":false}"), "file", &ops) ==
        0);
  cJSON_Delete(ops);
  todo->status = FILE_OK;
  bool changed;
  cJSON *p =
      cJSON_Parse("[{\"op\":\"replace\",\"path\":\"/done\",\"value\":true}]");
  CHECK(store_apply(todo, p, "client:c1", &changed, NULL, 0) == PATCH_OK);
  cJSON_Delete(p);
  size_t len;
  char *s = msg_hello("abc", "c3", &store, &len);
  CHECK_STR(
      s,
      "{\"type\":\"hello\",\"protocol\":1,\"server\":\"mirrorstate/" MS_VERSION
      "\",\"session\":\"abc\",\"client\":\"c3\",\"states\":[\"todo\","
      "\"later\"]}");
  CHECK(len == strlen(s));
  free(s);
  cJSON *ref = cJSON_CreateString("r");
  s = msg_states(&store, ref, &len);
  CHECK_STR(s, "{\"type\":\"states\",\"ref\":\"r\",\"states\":[{\"name\":"
               "\"todo\",\"file\":\"/app/todo.json\",\"version\":2,\"exists\":"
               "true,\"status\":\"ok\"},{\"name\":\"later\",\"file\":"
               "\"/app/later.json\",\"version\":0,\"exists\":false,\"status\":"
               "\"absent\"}]}");
  free(s);
  s = msg_server_states("abc", 2, &store, &len);
  CHECK(s &&
        strncmp(s,
                "{\"server\":\"mirrorstate/" MS_VERSION
                "\",\"session\":\"abc\",\"clients\":2,\"states\":[{",
                strlen("{\"server\":\"mirrorstate/" MS_VERSION
                       "\",\"session\":\"abc\",\"clients\":2,\"states\":[{")) ==
            0);
  free(s);
  s = msg_healthz("abc", &len);
  CHECK_STR(s, "{\"ok\":true,\"server\":\"mirrorstate/" MS_VERSION
               "\",\"session\":\"abc\"}");
  free(s);
  s = msg_history(todo, 0, ref, &len);
  cJSON *h = cJSON_Parse(s);
  CHECK_STR(cJSON_GetObjectItem(h, "type")->valuestring, "history");
  CHECK_STR(cJSON_GetObjectItem(h, "ref")->valuestring, "r");
  CHECK(cJSON_GetObjectItem(h, "version")->valuedouble == 2);
  cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(h, "entries"), 0);
  CHECK(cJSON_GetObjectItem(e, "version")->valuedouble == 2);
  CHECK_STR(cJSON_GetObjectItem(e, "origin")->valuestring, "client:c1");
  const char *when = cJSON_GetObjectItem(e, "time")->valuestring;
  CHECK(strlen(when) == 24 && when[10] == 'T' && when[23] == 'Z');
  char *inv = json_print_compact(cJSON_GetObjectItem(e, "inverse"), NULL);
  CHECK_STR(inv, "[{\"op\":\"replace\",\"path\":\"/done\",\"value\":false}]");
  free(inv);
  cJSON_Delete(h);
  free(s);
  /* One entry at most: the newest. */
  s = msg_history(todo, 1, NULL, &len);
  h = cJSON_Parse(s);
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(h, "entries")) == 1);
  cJSON_Delete(h);
  free(s);

  CHECK(msg_file_status(later, &len) == NULL);
  todo->status = FILE_INVALID;
  todo->error.line = 4;
  todo->error.column = 5;
  snprintf(todo->error.message, sizeof todo->error.message, "bad");
  todo->error_text = strdup("  x");
  s = msg_file_status(todo, &len);
  CHECK_STR(s,
            "{\"type\":\"error\",\"code\":\"file_invalid\",\"message\":"
            "\"bad\",\"name\":\"todo\",\"file\":\"/app/todo.json\",\"line\":4,"
            "\"column\":5,\"text\":\"  x\"}");
  free(s);
  s = msg_states(&store, NULL, &len);
  CHECK(strstr(s, "\"status\":\"invalid\",\"error\":{\"message\":\"bad\","
                  "\"line\":4,\"column\":5,\"text\":\"  x\"}") != NULL);
  free(s);
  todo->status = FILE_REMOVED;
  s = msg_file_status(todo, &len);
  CHECK(strstr(s, "\"code\":\"file_removed\"") && !strstr(s, "line"));
  free(s);
  todo->status = FILE_WRITE_FAILED;
  todo->write_error = strdup("disk full");
  s = msg_file_status(todo, &len);
  CHECK(strstr(s, "\"code\":\"write_failed\",\"message\":\"could not save "
                  "the file: disk full\""));
  free(s);
  todo->status = FILE_OK;
  s = msg_file_status(todo, &len);
  CHECK(strstr(s, "\"code\":\"file_ok\""));
  free(s);
  CHECK(msg_file_status_code(FILE_ABSENT) == NULL);

  char *subs[] = {"todo"};
  struct msg_client clients[] = {
      {"c3", ROLE_APP, "http://vm-1:3000/", "http://vm-1:3000", "127.0.0.1",
       1795580401123.0, subs, 1},
      {"c4", ROLE_PANEL, NULL, "", "::1", 0, NULL, 0},
  };
  s = msg_clients(clients, 2, ref, &len);
  CHECK_STR(s, "{\"type\":\"clients\",\"ref\":\"r\",\"clients\":[{\"id\":"
               "\"c3\",\"role\":\"app\",\"page\":\"http://vm-1:3000/\","
               "\"origin\":\"http://vm-1:3000\",\"address\":\"127.0.0.1\","
               "\"since\":\"2026-11-25T04:20:01.123Z\",\"subscriptions\":"
               "[\"todo\"]},{\"id\":\"c4\",\"role\":\"panel\",\"origin\":\"\","
               "\"address\":\"::1\",\"since\":\"1970-01-01T00:00:00.000Z\","
               "\"subscriptions\":[]}]}");
  free(s);
  cJSON_Delete(ref);
  store_free(&store);
}

int main(void) {
  test_bad_messages();
  test_invalid_patches();
  test_error_keeps_ref_and_name();
  test_refused_messages_keep_ref_and_name();
  test_good_messages();
  test_encoders();
  test_store_encoders();
  return CHECK_DONE();
}
