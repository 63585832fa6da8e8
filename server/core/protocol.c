/* Wire protocol v1: decoding and encoding. */
#include "protocol.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "names.h"
#include "patch.h"

static const struct {
  const char *name;
  enum msg_type type;
} msg_types[] = {
    {"subscribe", MSG_SUBSCRIBE}, {"unsubscribe", MSG_UNSUBSCRIBE},
    {"patch", MSG_PATCH},         {"set", MSG_SET},
    {"identify", MSG_IDENTIFY},   {"clients", MSG_CLIENTS},
    {"states", MSG_STATES},       {"history", MSG_HISTORY},
    {"revert", MSG_REVERT},
};

static int needs_name(enum msg_type t) {
  return t == MSG_SUBSCRIBE || t == MSG_UNSUBSCRIBE || t == MSG_PATCH ||
         t == MSG_SET || t == MSG_HISTORY || t == MSG_REVERT;
}

/* Reads a non-negative integer field; 1 if present and valid, 0 if absent,
 * -1 if present but not a non-negative integer. */
static int get_uint(const cJSON *obj, const char *key, uint64_t *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!v || cJSON_IsNull(v)) return 0;
  if (!cJSON_IsNumber(v)) return -1;
  double d = v->valuedouble;
  if (d < 0 || d > 9007199254740992.0 || floor(d) != d) return -1;
  *out = (uint64_t)d;
  return 1;
}

static const char *fail(char *err, size_t errlen, const char *code,
                        const char *fmt, const char *arg) {
  snprintf(err, errlen, fmt, arg);
  return code;
}

static const char *decode_fields(struct msg *m, char *err, size_t errlen) {
  cJSON *root = m->root;
  if (needs_name(m->type)) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (!cJSON_IsString(name))
      return fail(err, errlen, ERR_BAD_MESSAGE, "%s: \"name\" must be a string",
                  "message");
    m->name = name->valuestring;
  }
  int r = get_uint(root, "base", &m->base);
  if (r < 0)
    return fail(err, errlen, ERR_BAD_MESSAGE,
                "%s must be a non-negative integer", "\"base\"");
  m->has_base = r;
  switch (m->type) {
  case MSG_PATCH: {
    m->ops = cJSON_GetObjectItemCaseSensitive(root, "ops");
    if (!cJSON_IsArray(m->ops))
      return fail(err, errlen, ERR_BAD_MESSAGE, "%s",
                  "a patch needs \"ops\": an array of operations");
    char perr[200];
    if (patch_validate(m->ops, perr, sizeof perr) != PATCH_OK)
      return fail(err, errlen, ERR_INVALID_PATCH, "%s", perr);
    break;
  }
  case MSG_SET:
    m->value = cJSON_GetObjectItemCaseSensitive(root, "state");
    if (!m->value)
      return fail(err, errlen, ERR_BAD_MESSAGE, "%s", "set without \"state\"");
    break;
  case MSG_SUBSCRIBE:
    m->value = cJSON_GetObjectItemCaseSensitive(root, "init");
    break;
  case MSG_REVERT:
    if (get_uint(root, "version", &m->version) != 1)
      return fail(err, errlen, ERR_BAD_MESSAGE, "%s",
                  "revert needs a \"version\" (a positive integer)");
    break;
  case MSG_HISTORY: {
    uint64_t limit = 0;
    if (get_uint(root, "limit", &limit) < 0)
      return fail(err, errlen, ERR_BAD_MESSAGE, "%s",
                  "\"limit\" must be a non-negative integer");
    m->limit = limit > 1000000 ? 1000000 : (int)limit;
    break;
  }
  case MSG_IDENTIFY: {
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(root, "role");
    const cJSON *page = cJSON_GetObjectItemCaseSensitive(root, "page");
    m->role = cJSON_IsString(role) ? role->valuestring : "app";
    if (strcmp(m->role, "app") && strcmp(m->role, "panel") &&
        strcmp(m->role, "cli"))
      return fail(err, errlen, ERR_BAD_MESSAGE,
                  "unknown role \"%.40s\" (app, panel or cli)", m->role);
    m->page = cJSON_IsString(page) ? page->valuestring : NULL;
    break;
  }
  default: break;
  }
  return NULL;
}

/* ---- reading ref and name from a message the parser refused ----------
 *
 * A message can be refused as a whole for one bad byte anywhere (a "\u0000"
 * or a lone surrogate in a string, invalid UTF-8, nesting past the depth
 * limit), and its sender must still learn which change was refused. So the
 * top-level object is walked leniently, without recursion and without
 * trusting anything in it: strings end at the next unescaped quote,
 * containers at their matching bracket, and only the members "ref" and
 * "name" are parsed (strictly) on their own. */

static size_t lax_ws(const char *b, size_t n, size_t i) {
  while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
    i++;
  return i;
}

static size_t lax_string(const char *b, size_t n, size_t i) {
  for (i++; i < n; i++) {
    if (b[i] == '\\')
      i++;
    else if (b[i] == '"')
      return i + 1;
  }
  return n;
}

static size_t lax_value(const char *b, size_t n, size_t i) {
  if (i < n && b[i] == '"') return lax_string(b, n, i);
  if (i < n && (b[i] == '{' || b[i] == '[')) {
    size_t depth = 0;
    while (i < n) {
      if (b[i] == '"') {
        i = lax_string(b, n, i);
        continue;
      }
      if (b[i] == '{' || b[i] == '[')
        depth++;
      else if ((b[i] == '}' || b[i] == ']') && --depth == 0)
        return i + 1;
      i++;
    }
    return n;
  }
  while (i < n && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' &&
         b[i] != '\t' && b[i] != '\n' && b[i] != '\r')
    i++;
  return i;
}

void msg_recover(const char *buf, size_t len, cJSON **ref_out, char *name_out) {
  size_t i = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
  size_t ref_at = 0, ref_end = 0, name_at = 0, name_end = 0;
  i = lax_ws(buf, len, i);
  if (i >= len || buf[i] != '{') return;
  for (i++;;) {
    i = lax_ws(buf, len, i);
    if (i >= len || buf[i] != '"') break;
    size_t key_at = i, key_end = lax_string(buf, len, i);
    i = lax_ws(buf, len, key_end);
    if (i >= len || buf[i] != ':') break;
    size_t at = lax_ws(buf, len, i + 1), end = lax_value(buf, len, at);
    cJSON *key = json_parse(buf + key_at, key_end - key_at, NULL);
    if (cJSON_IsString(key) && strcmp(key->valuestring, "ref") == 0)
      ref_at = at, ref_end = end;
    else if (cJSON_IsString(key) && strcmp(key->valuestring, "name") == 0)
      name_at = at, name_end = end;
    cJSON_Delete(key);
    i = lax_ws(buf, len, end);
    if (i >= len || buf[i] != ',') break;
    i++;
  }
  if (ref_out && ref_end > ref_at)
    *ref_out = json_parse(buf + ref_at, ref_end - ref_at, NULL);
  if (name_out && name_end > name_at) {
    cJSON *name = json_parse(buf + name_at, name_end - name_at, NULL);
    if (cJSON_IsString(name) && strlen(name->valuestring) <= NAME_MAX_LEN)
      strcpy(name_out, name->valuestring);
    cJSON_Delete(name);
  }
}

const char *msg_decode(const char *buf, size_t len, struct msg *m, char *err,
                       size_t errlen, cJSON **ref_out, char *name_out) {
  memset(m, 0, sizeof *m);
  if (ref_out) *ref_out = NULL;
  if (name_out) name_out[0] = '\0';
  struct json_error jerr;
  m->root = json_parse(buf, len, &jerr);
  if (!m->root) {
    snprintf(err, errlen, "not JSON: %s at column %d", jerr.message,
             jerr.column);
    msg_recover(buf, len, ref_out, name_out);
    return ERR_BAD_MESSAGE;
  }
  const char *code = NULL;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(m->root, "type");
  if (!cJSON_IsObject(m->root)) {
    code = fail(err, errlen, ERR_BAD_MESSAGE, "%s",
                "a message must be a JSON object");
  } else if (!cJSON_IsString(type)) {
    code = fail(err, errlen, ERR_BAD_MESSAGE, "%s",
                "a message needs a string \"type\"");
  } else {
    code = ERR_BAD_MESSAGE;
    for (size_t i = 0; i < sizeof msg_types / sizeof *msg_types; i++)
      if (strcmp(type->valuestring, msg_types[i].name) == 0) {
        m->type = msg_types[i].type;
        code = NULL;
      }
    if (code)
      fail(err, errlen, code, "unknown message type \"%.60s\"",
           type->valuestring);
  }
  if (!code) {
    m->ref = cJSON_GetObjectItemCaseSensitive(m->root, "ref");
    code = decode_fields(m, err, errlen);
  }
  if (code) {
    if (cJSON_IsObject(m->root)) {
      const cJSON *ref = cJSON_GetObjectItemCaseSensitive(m->root, "ref");
      const cJSON *name = cJSON_GetObjectItemCaseSensitive(m->root, "name");
      if (ref && ref_out) *ref_out = cJSON_Duplicate(ref, 1);
      if (cJSON_IsString(name) && name_out &&
          strlen(name->valuestring) <= NAME_MAX_LEN)
        strcpy(name_out, name->valuestring);
    }
    msg_free(m);
  }
  return code;
}

void msg_free(struct msg *m) {
  cJSON_Delete(m->root);
  m->root = NULL;
}

void msg_add_ref(cJSON *obj, const char *key, const cJSON *value) {
  /* cJSON's reference helpers take a non-const item; they never modify it. */
  cJSON_AddItemReferenceToObject(obj, key, (cJSON *)value);
}

static char *finish(cJSON *obj, size_t *len) {
  char *out = obj ? json_print_compact(obj, len) : NULL;
  cJSON_Delete(obj);
  return out;
}

char *msg_snapshot(const char *name, uint64_t version, const cJSON *state,
                   size_t *len) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "snapshot");
  cJSON_AddStringToObject(o, "name", name);
  cJSON_AddNumberToObject(o, "version", (double)version);
  if (state)
    msg_add_ref(o, "state", state);
  else
    cJSON_AddFalseToObject(o, "exists");
  return finish(o, len);
}

char *msg_patch(const char *name, uint64_t version, const cJSON *ops,
                const char *origin, size_t *len) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "patch");
  cJSON_AddStringToObject(o, "name", name);
  cJSON_AddNumberToObject(o, "version", (double)version);
  msg_add_ref(o, "ops", ops);
  cJSON_AddStringToObject(o, "origin", origin);
  return finish(o, len);
}

char *msg_ack(const char *name, const cJSON *ref, uint64_t version,
              size_t *len) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "ack");
  cJSON_AddStringToObject(o, "name", name);
  if (ref) msg_add_ref(o, "ref", ref);
  cJSON_AddNumberToObject(o, "version", (double)version);
  return finish(o, len);
}

char *msg_error(const char *code, const char *message, const char *name,
                const cJSON *ref, size_t *len) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "error");
  cJSON_AddStringToObject(o, "code", code);
  cJSON_AddStringToObject(o, "message", message);
  if (name) cJSON_AddStringToObject(o, "name", name);
  if (ref) msg_add_ref(o, "ref", ref);
  return finish(o, len);
}
