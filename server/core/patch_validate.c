/* JSON Patch (RFC 6902): checking that ops are well formed, before any
 * applies. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "patch.h"
#include "patch_int.h"

const char *const patch__op_names[] = {"add",  "remove", "replace",
                                       "move", "copy",   "test"};

int patch__fail(int rc, char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

int patch__op_kind(const char *name) {
  for (int k = 0; k <= OP_TEST; k++)
    if (strcmp(name, patch__op_names[k]) == 0) return k;
  return -1;
}

static int member_count(const cJSON *obj, const char *key) {
  int n = 0;
  for (const cJSON *c = obj->child; c; c = c->next)
    if (c->string && strcmp(c->string, key) == 0) n++;
  return n;
}

static int validate_ptr(const cJSON *op, const char *member, int i, char *err,
                        size_t errlen) {
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(op, member);
  if (!p)
    return patch__fail(PATCH_INVALID, err, errlen, "op %d: missing \"%s\"", i,
                       member);
  if (!cJSON_IsString(p))
    return patch__fail(PATCH_INVALID, err, errlen,
                       "op %d: \"%s\" is not a string", i, member);
  if (!ptr_valid(p->valuestring))
    return patch__fail(PATCH_INVALID, err, errlen,
                       "op %d: \"%s\" is not a valid JSON Pointer: \"%s\"", i,
                       member, p->valuestring);
  return PATCH_OK;
}

static int validate_op(const cJSON *op, int i, char *err, size_t errlen) {
  static const char *const members[] = {"op", "path", "from", "value"};
  if (!cJSON_IsObject(op))
    return patch__fail(PATCH_INVALID, err, errlen, "op %d: not an object", i);
  /* RFC 6902 section 4 makes an op with a repeated member an error, and
   * which copy a parser keeps is not portable. */
  for (size_t m = 0; m < sizeof members / sizeof *members; m++)
    if (member_count(op, members[m]) > 1)
      return patch__fail(PATCH_INVALID, err, errlen,
                         "op %d: duplicate \"%s\" member", i, members[m]);
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(op, "op");
  if (!name)
    return patch__fail(PATCH_INVALID, err, errlen, "op %d: missing \"op\"", i);
  if (!cJSON_IsString(name))
    return patch__fail(PATCH_INVALID, err, errlen,
                       "op %d: \"op\" is not a string", i);
  int kind = patch__op_kind(name->valuestring);
  if (kind < 0)
    return patch__fail(PATCH_INVALID, err, errlen, "op %d: unknown op \"%s\"",
                       i, name->valuestring);
  int rc = validate_ptr(op, "path", i, err, errlen);
  if (rc == PATCH_OK && (kind == OP_MOVE || kind == OP_COPY))
    rc = validate_ptr(op, "from", i, err, errlen);
  if (rc == PATCH_OK &&
      (kind == OP_ADD || kind == OP_REPLACE || kind == OP_TEST) &&
      !cJSON_GetObjectItemCaseSensitive(op, "value"))
    rc = patch__fail(PATCH_INVALID, err, errlen, "op %d: %s needs a \"value\"",
                     i, patch__op_names[kind]);
  return rc;
}

int patch_validate(const cJSON *ops, char *err, size_t errlen) {
  if (!cJSON_IsArray(ops))
    return patch__fail(PATCH_INVALID, err, errlen, "patch is not an array");
  int i = 0;
  for (const cJSON *op = ops->child; op; op = op->next, i++) {
    int rc = validate_op(op, i, err, errlen);
    if (rc != PATCH_OK) return rc;
  }
  return PATCH_OK;
}
