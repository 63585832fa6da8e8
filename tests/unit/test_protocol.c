/* Decoding client messages, good and bad, and encoding server messages. */
#include <stdlib.h>

#include "check.h"
#include "json.h"
#include "names.h"
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
  CHECK_STR(m.role, "panel");
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
  cJSON *ref = cJSON_CreateNumber(12);
  s = msg_ack("todo", ref, 4, &len);
  CHECK_STR(s, "{\"type\":\"ack\",\"name\":\"todo\",\"ref\":12,\"version\":4}");
  free(s);
  s = msg_error(ERR_CONFLICT, "say \"why\"", "todo", ref, &len);
  CHECK_STR(s, "{\"type\":\"error\",\"code\":\"conflict\",\"message\":"
               "\"say \\\"why\\\"\",\"name\":\"todo\",\"ref\":12}");
  free(s);
  /* The encoders borrow: the values are intact afterwards. */
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(state, "a")) == 2);
  cJSON_Delete(ref);
  cJSON_Delete(ops);
  cJSON_Delete(state);
}

int main(void) {
  test_bad_messages();
  test_invalid_patches();
  test_error_keeps_ref_and_name();
  test_good_messages();
  test_encoders();
  return CHECK_DONE();
}
