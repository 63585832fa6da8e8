/* Fuzz target: the wire protocol decoder (msg_decode), on raw message
 * bytes. Properties: no crash or leak; a decoded message has the fields its
 * type promises (a name where one is needed, validated ops for a patch, a
 * state for a set); an error carries a known code and a NUL-terminated
 * message, and a name no longer than NAME_MAX_LEN; every encoder output for
 * a decoded message is valid JSON. The lenient reading of ref and name
 * (msg_recover, used when the strict parser refuses a message) agrees with
 * the strict one on every object both can read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "names.h"
#include "patch.h"
#include "protocol.h"

static void check_json(char *text, size_t len) {
  FUZZ_CHECK(text, "encoder returned NULL");
  FUZZ_CHECK(strlen(text) == len, "encoder length");
  cJSON *v = json_parse(text, len, NULL);
  FUZZ_CHECK(v, "encoder output does not parse");
  cJSON_Delete(v);
  free(text);
}

/* On text the strict parser takes as an object, the lenient reading finds
 * the same ref and name. */
static void check_recover(const uint8_t *data, size_t size) {
  cJSON *ref = NULL, *root = json_parse((const char *)data, size, NULL);
  char name[NAME_MAX_LEN + 1] = "";
  msg_recover((const char *)data, size, &ref, name);
  if (cJSON_IsObject(root)) {
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "ref");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "name");
    /* A repeated member: the parser folds it to the last value too. */
    FUZZ_CHECK(r ? ref && json_equal(r, ref) : !ref, "recovered ref differs");
    if (cJSON_IsString(n) && strlen(n->valuestring) <= NAME_MAX_LEN)
      FUZZ_CHECK(!strcmp(name, n->valuestring), "recovered name differs");
    else
      FUZZ_CHECK(!name[0], "recovered a name that is none");
  }
  cJSON_Delete(root);
  cJSON_Delete(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_recover(data, size);
  struct msg m;
  char err[256];
  cJSON *ref = NULL;
  char name[NAME_MAX_LEN + 1 + 16];
  memset(name, 'Z', sizeof name);
  memset(err, 'Z', sizeof err);
  const char *code =
      msg_decode((const char *)data, size, &m, err, sizeof err, &ref, name);
  if (code) {
    FUZZ_CHECK(!strcmp(code, ERR_BAD_MESSAGE) ||
                   !strcmp(code, ERR_INVALID_PATCH),
               "unknown error code");
    FUZZ_CHECK(memchr(err, '\0', sizeof err), "error message not terminated");
    FUZZ_CHECK(memchr(name, '\0', NAME_MAX_LEN + 1), "name_out overflow");
    FUZZ_CHECK(name[NAME_MAX_LEN + 1] == 'Z', "name_out overflow");
    FUZZ_CHECK(m.root == NULL, "root left after an error");
    size_t len;
    char *text = msg_error(code, err, name[0] ? name : NULL, ref, &len);
    check_json(text, len);
    cJSON_Delete(ref);
    return 0;
  }
  FUZZ_CHECK(ref == NULL, "ref_out set on success");
  FUZZ_CHECK(cJSON_IsObject(m.root), "decoded root is not an object");
  switch (m.type) {
  case MSG_SUBSCRIBE:
  case MSG_UNSUBSCRIBE:
  case MSG_HISTORY:
  case MSG_REVERT: FUZZ_CHECK(m.name, "message without a name"); break;
  case MSG_PATCH: {
    FUZZ_CHECK(m.name, "patch without a name");
    FUZZ_CHECK(cJSON_IsArray(m.ops), "patch without ops");
    FUZZ_CHECK(patch_validate(m.ops, NULL, 0) == PATCH_OK,
               "decoded ops do not validate");
    /* Validated ops never come back PATCH_INVALID from apply. */
    cJSON *doc = cJSON_CreateObject();
    cJSON *inverse = NULL;
    char perr[200];
    int rc = patch_apply(&doc, m.ops, &inverse, perr, sizeof perr);
    FUZZ_CHECK(rc != PATCH_INVALID, "validated ops are invalid on apply");
    cJSON_Delete(inverse);
    cJSON_Delete(doc);
    break;
  }
  case MSG_SET:
    FUZZ_CHECK(m.name && m.value, "set without name or state");
    break;
  case MSG_IDENTIFY:
    FUZZ_CHECK(m.role == ROLE_APP || m.role == ROLE_PANEL || m.role == ROLE_CLI,
               "identify role");
    break;
  default: break;
  }
  FUZZ_CHECK(m.limit >= 0 && m.limit <= 1000000, "history limit range");
  FUZZ_CHECK(m.base <= 9007199254740992ULL, "base range");
  /* Encode the replies a server would send for it. */
  const char *nm = m.name ? m.name : "x";
  size_t len;
  char *text = msg_ack(nm, m.ref, m.base, &len);
  check_json(text, len);
  text = msg_error(ERR_CONFLICT, "x", nm, m.ref, &len);
  check_json(text, len);
  if (m.value) {
    text = msg_snapshot(nm, m.version, m.value, &len);
    check_json(text, len);
  }
  if (m.ops) {
    text = msg_patch(nm, m.base, m.ops, "file", &len);
    check_json(text, len);
  }
  msg_free(&m);
  return 0;
}
