/* Wire protocol v1: decoding and encoding. */
#include "protocol.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "isotime.h"
#include "json.h"
#include "names.h"
#include "patch.h"

static const struct {
  const char *name;
  enum msg_type type;
} msg_types[] = {
    {"subscribe", MSG_SUBSCRIBE},
    {"unsubscribe", MSG_UNSUBSCRIBE},
    {"patch", MSG_PATCH},
    {"set", MSG_SET},
    {"identify", MSG_IDENTIFY},
    {"clients", MSG_CLIENTS},
    {"states", MSG_STATES},
    {"history", MSG_HISTORY},
    {"revert", MSG_REVERT},
    {"sync", MSG_SYNC},
    {"undo", MSG_UNDO},
    {"reset", MSG_RESET},
    {"errors", MSG_ERRORS},
    {"applied", MSG_APPLIED},
    {"page_error", MSG_PAGE_ERROR},
};

static int needs_name(enum msg_type t) {
  return t == MSG_SUBSCRIBE || t == MSG_UNSUBSCRIBE || t == MSG_PATCH ||
         t == MSG_SET || t == MSG_HISTORY || t == MSG_REVERT || t == MSG_SYNC ||
         t == MSG_UNDO || t == MSG_RESET || t == MSG_APPLIED;
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

/* "strict" (docs/protocol.md): on a patch, which must then carry its
 * base. A set is absolute, so it cannot be strict. Returns why not, or
 * NULL. */
static const char *decode_strict(struct msg *m) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(m->root, "strict");
  if (!v || cJSON_IsNull(v)) return NULL;
  if (!cJSON_IsBool(v)) return "\"strict\" must be true or false";
  m->strict = cJSON_IsTrue(v);
  if (!m->strict) return NULL;
  if (m->type == MSG_SET)
    return "a set is absolute and cannot be strict: send a strict patch";
  if (m->type == MSG_PATCH && !m->has_base)
    return "a strict patch needs \"base\": the version it was computed from";
  return NULL;
}

/* Reads an optional boolean field: 1 or 0, or -1 if it is not a boolean. */
static int get_bool(const cJSON *obj, const char *key, int *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *out = 0;
  if (!v || cJSON_IsNull(v)) return 0;
  if (!cJSON_IsBool(v)) return -1;
  *out = cJSON_IsTrue(v);
  return 0;
}

/* An optional string field: 0 (and *out, or NULL when absent), or -1 if
 * it is there and not a string. */
static int get_str(const cJSON *obj, const char *key, const char **out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *out = cJSON_IsString(v) ? v->valuestring : NULL;
  return v && !cJSON_IsNull(v) && !cJSON_IsString(v) ? -1 : 0;
}

/* Cuts s (in place) to at most max bytes, at a character boundary. */
static void cut_utf8(char *s, size_t max) {
  if (!s || strlen(s) <= max) return;
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
    max--;
  s[max] = '\0';
}

static const char *decode_undo(struct msg *m, char *err, size_t errlen) {
  const cJSON *vs = cJSON_GetObjectItemCaseSensitive(m->root, "versions");
  int n = cJSON_GetArraySize(vs);
  if (!cJSON_IsArray(vs) || n < 1 || n > MSG_MAX_VERSIONS) {
    snprintf(err, errlen,
             "undo needs \"versions\": an array of 1 to %d version numbers",
             MSG_MAX_VERSIONS);
    return ERR_BAD_MESSAGE;
  }
  const cJSON *v;
  cJSON_ArrayForEach(v, vs) {
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (d < 1 || d > 9007199254740992.0 || floor(d) != d)
      return fail(err, errlen, ERR_BAD_MESSAGE, "%s",
                  "\"versions\" must hold positive integers");
    m->versions[m->nversions++] = (uint64_t)d;
  }
  return NULL;
}

static const char *decode_page_error(struct msg *m, char *err, size_t errlen) {
  cJSON *root = m->root;
  if (get_str(root, "kind", &m->kind) || get_str(root, "stack", &m->stack) ||
      get_str(root, "url", &m->url) || get_str(root, "message", &m->message) ||
      !m->message)
    return fail(err, errlen, ERR_BAD_MESSAGE, "%s",
                "page_error needs a string \"message\" (and \"kind\", "
                "\"stack\", \"url\" strings when given)");
  m->states = cJSON_GetObjectItemCaseSensitive(root, "states");
  if (m->states && !cJSON_IsObject(m->states))
    return fail(err, errlen, ERR_BAD_MESSAGE, "%s",
                "\"states\" must be an object of versions");
  if (!m->kind) m->kind = "error";
  cut_utf8((char *)m->kind, 40);
  cut_utf8((char *)m->message, 4000);
  cut_utf8((char *)m->stack, 8000);
  return NULL;
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
  const char *why = decode_strict(m);
  if (why) return fail(err, errlen, ERR_BAD_MESSAGE, "%s", why);
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
  case MSG_RESET:
  case MSG_APPLIED:
    if (get_uint(root, "version", &m->version) != 1)
      return fail(err, errlen, ERR_BAD_MESSAGE,
                  "%s needs a \"version\" (a positive integer)",
                  m->type == MSG_REVERT  ? "revert"
                  : m->type == MSG_RESET ? "reset"
                                         : "applied");
    break;
  case MSG_SYNC:
    m->timeout = MSG_SYNC_TIMEOUT;
    if (get_bool(root, "pages", &m->pages) != 0 ||
        get_uint(root, "timeout", &m->timeout) < 0)
      return fail(err, errlen, ERR_BAD_MESSAGE, "%s",
                  "sync: \"pages\" must be a boolean and \"timeout\" a "
                  "number of milliseconds");
    if (m->timeout > MSG_SYNC_TIMEOUT_MAX) m->timeout = MSG_SYNC_TIMEOUT_MAX;
    break;
  case MSG_UNDO: return decode_undo(m, err, errlen);
  case MSG_ERRORS: {
    m->has_since = get_uint(root, "since", &m->since);
    if (get_str(root, "name", &m->name) != 0 || m->has_since < 0 ||
        get_bool(root, "watch", &m->watch) != 0)
      return fail(err, errlen, ERR_BAD_MESSAGE, "%s",
                  "errors: \"name\" must be a string, \"since\" a version "
                  "and \"watch\" a boolean");
    if (m->has_since && !m->name)
      return fail(err, errlen, ERR_BAD_MESSAGE, "%s",
                  "errors: \"since\" is a version of one state: give its "
                  "\"name\" too");
    break;
  }
  case MSG_PAGE_ERROR: return decode_page_error(m, err, errlen);
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
    const char *name = cJSON_IsString(role) ? role->valuestring : "app";
    if (!strcmp(name, "app"))
      m->role = ROLE_APP;
    else if (!strcmp(name, "panel"))
      m->role = ROLE_PANEL;
    else if (!strcmp(name, "cli"))
      m->role = ROLE_CLI;
    else
      return fail(err, errlen, ERR_BAD_MESSAGE,
                  "unknown role \"%.40s\" (app, panel or cli)", name);
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

const char *msg_role_name(enum msg_role role) {
  switch (role) {
  case ROLE_PANEL: return "panel";
  case ROLE_CLI: return "cli";
  default: return "app";
  }
}

/* ---- encoders ----------------------------------------------------------- */

/* Adds a reference to value (not a copy) under key: the encoders build a
 * tree around borrowed values, print it and free it, and cJSON_Delete
 * leaves what is referenced alone. cJSON's reference helpers take a
 * non-const item; they never modify it. */
static void add_ref(cJSON *obj, const char *key, const cJSON *value) {
  cJSON_AddItemReferenceToObject(obj, key, (cJSON *)value);
}

static cJSON *new_msg(const char *type) {
  cJSON *o = cJSON_CreateObject();
  if (o) cJSON_AddStringToObject(o, "type", type);
  return o;
}

/* Prints obj compactly and frees it. */
static char *finish(cJSON *obj, size_t *len) {
  char *out = obj ? json_print_compact(obj, len) : NULL;
  cJSON_Delete(obj);
  return out;
}

static cJSON *state_names(const struct store *store) {
  cJSON *names = cJSON_CreateArray();
  for (const struct state *st = store ? store->head : NULL; st && names;
       st = st->next)
    cJSON_AddItemToArray(names, cJSON_CreateString(st->name));
  return names;
}

char *msg_hello(const char *session, const char *client,
                const struct store *store, size_t *len) {
  cJSON *o = new_msg("hello");
  cJSON_AddNumberToObject(o, "protocol", PROTOCOL_VERSION);
  cJSON_AddStringToObject(o, "server", PROTOCOL_SERVER);
  cJSON_AddStringToObject(o, "session", session);
  cJSON_AddStringToObject(o, "client", client);
  cJSON_AddItemToObject(o, "states", state_names(store));
  return finish(o, len);
}

/* The messages sent for every change (snapshot, patch, ack) are written
 * straight into their text, with the same bytes a tree would print. */

char *msg_snapshot(const char *name, uint64_t version, const cJSON *state,
                   size_t *len) {
  struct json_buf b;
  json_buf_init(&b, state ? 4096 : 128);
  json_buf_lit(&b, "{\"type\":\"snapshot\",\"name\":");
  json_buf_str(&b, name);
  json_buf_lit(&b, ",\"version\":");
  json_buf_num(&b, (double)version);
  if (state) {
    json_buf_lit(&b, ",\"state\":");
    json_buf_value(&b, state);
  } else {
    json_buf_lit(&b, ",\"exists\":false");
  }
  json_buf_lit(&b, "}");
  return json_buf_finish(&b, len);
}

char *msg_patch(const char *name, uint64_t version, const cJSON *ops,
                const char *origin, size_t *len) {
  return msg_patch_desc(name, version, ops, origin, NULL, len);
}

char *msg_ack(const char *name, const cJSON *ref, uint64_t version,
              size_t *len) {
  struct json_buf b;
  json_buf_init(&b, 128);
  json_buf_lit(&b, "{\"type\":\"ack\",\"name\":");
  json_buf_str(&b, name);
  if (ref) {
    json_buf_lit(&b, ",\"ref\":");
    json_buf_value(&b, ref);
  }
  json_buf_lit(&b, ",\"version\":");
  json_buf_num(&b, (double)version);
  json_buf_lit(&b, "}");
  return json_buf_finish(&b, len);
}

char *msg_error(const char *code, const char *message, const char *name,
                const cJSON *ref, size_t *len) {
  cJSON *o = new_msg("error");
  cJSON_AddStringToObject(o, "code", code);
  cJSON_AddStringToObject(o, "message", message);
  if (name) cJSON_AddStringToObject(o, "name", name);
  if (ref) add_ref(o, "ref", ref);
  return finish(o, len);
}

const char *msg_file_status_code(enum file_status status) {
  switch (status) {
  case FILE_INVALID: return ERR_FILE_INVALID;
  case FILE_REMOVED: return ERR_FILE_REMOVED;
  case FILE_WRITE_FAILED: return ERR_WRITE_FAILED;
  case FILE_OK: return ERR_FILE_OK;
  default: return NULL;
  }
}

char *msg_file_status(const struct state *st, size_t *len) {
  const char *code = msg_file_status_code(st->status);
  char message[256];
  switch (st->status) {
  case FILE_INVALID:
    snprintf(message, sizeof message, "%s", st->error.message);
    break;
  case FILE_REMOVED:
    snprintf(message, sizeof message,
             "the file was removed; the state is kept and the file is "
             "written again on the next change");
    break;
  case FILE_WRITE_FAILED:
    snprintf(message, sizeof message, "could not save the file: %s",
             st->write_error ? st->write_error : "unknown error");
    break;
  case FILE_OK:
    snprintf(message, sizeof message,
             "the file and the state are in sync again");
    break;
  default: return NULL;
  }
  cJSON *o = new_msg("error");
  cJSON_AddStringToObject(o, "code", code);
  cJSON_AddStringToObject(o, "message", message);
  cJSON_AddStringToObject(o, "name", st->name);
  cJSON_AddStringToObject(o, "file", st->path);
  if (st->status == FILE_INVALID) {
    cJSON_AddNumberToObject(o, "line", st->error.line);
    cJSON_AddNumberToObject(o, "column", st->error.column);
    cJSON_AddStringToObject(o, "text", st->error_text ? st->error_text : "");
  }
  return finish(o, len);
}

static const char *status_name(enum file_status s) {
  switch (s) {
  case FILE_OK: return "ok";
  case FILE_INVALID: return "invalid";
  case FILE_REMOVED: return "removed";
  case FILE_WRITE_FAILED: return "write_failed";
  default: return "absent";
  }
}

/* The entries of the states message and of GET /api/states. */
static cJSON *states_list(const struct store *store) {
  cJSON *arr = cJSON_CreateArray();
  for (const struct state *st = store->head; st && arr; st = st->next) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", st->name);
    cJSON_AddStringToObject(e, "file", st->path);
    cJSON_AddNumberToObject(e, "version", (double)st->version);
    cJSON_AddBoolToObject(e, "exists", st->current != NULL);
    cJSON_AddStringToObject(e, "status", status_name(st->status));
    if (st->status == FILE_INVALID) {
      cJSON *err = cJSON_AddObjectToObject(e, "error");
      cJSON_AddStringToObject(err, "message", st->error.message);
      cJSON_AddNumberToObject(err, "line", st->error.line);
      cJSON_AddNumberToObject(err, "column", st->error.column);
      cJSON_AddStringToObject(err, "text",
                              st->error_text ? st->error_text : "");
    } else if (st->status == FILE_WRITE_FAILED && st->write_error) {
      cJSON *err = cJSON_AddObjectToObject(e, "error");
      cJSON_AddStringToObject(err, "message", st->write_error);
    }
    cJSON_AddItemToArray(arr, e);
  }
  return arr;
}

char *msg_states(const struct store *store, const cJSON *ref, size_t *len) {
  cJSON *o = new_msg("states");
  if (ref) add_ref(o, "ref", ref);
  cJSON_AddItemToObject(o, "states", states_list(store));
  return finish(o, len);
}

char *msg_clients(const struct msg_client *clients, int n, const cJSON *ref,
                  size_t *len) {
  cJSON *o = new_msg("clients");
  if (ref) add_ref(o, "ref", ref);
  cJSON *arr = cJSON_AddArrayToObject(o, "clients");
  for (int i = 0; i < n && arr; i++) {
    const struct msg_client *c = &clients[i];
    cJSON *e = cJSON_CreateObject();
    char since[ISOTIME_LEN];
    isotime_format(c->since_ms, since, sizeof since);
    cJSON_AddStringToObject(e, "id", c->id);
    cJSON_AddStringToObject(e, "role", msg_role_name(c->role));
    if (c->page) cJSON_AddStringToObject(e, "page", c->page);
    cJSON_AddStringToObject(e, "origin", c->origin);
    cJSON_AddStringToObject(e, "address", c->address);
    cJSON_AddStringToObject(e, "since", since);
    cJSON *subs = cJSON_AddArrayToObject(e, "subscriptions");
    for (int k = 0; k < c->nsubs && subs; k++)
      cJSON_AddItemToArray(subs, cJSON_CreateString(c->subs[k]));
    cJSON_AddItemToArray(arr, e);
  }
  return finish(o, len);
}

char *msg_history(const struct state *st, int limit, const cJSON *ref,
                  size_t *len) {
  cJSON *o = new_msg("history");
  cJSON_AddStringToObject(o, "name", st->name);
  if (ref) add_ref(o, "ref", ref);
  cJSON_AddNumberToObject(o, "version", (double)st->version);
  cJSON *arr = cJSON_AddArrayToObject(o, "entries");
  int first = limit > 0 && limit < st->hist_len ? st->hist_len - limit : 0;
  for (int i = first; i < st->hist_len && arr; i++) {
    const struct history_entry *e = store_history(st, i);
    cJSON *j = cJSON_CreateObject();
    char when[ISOTIME_LEN];
    isotime_format(e->time_ms, when, sizeof when);
    cJSON_AddNumberToObject(j, "version", (double)e->version);
    cJSON_AddStringToObject(j, "time", when);
    cJSON_AddStringToObject(j, "origin", e->origin);
    add_ref(j, "ops", e->ops);
    add_ref(j, "inverse", e->inverse);
    if (e->desc) add_ref(j, "desc", e->desc);
    cJSON_AddItemToArray(arr, j);
  }
  return finish(o, len);
}

char *msg_patch_desc(const char *name, uint64_t version, const cJSON *ops,
                     const char *origin, const cJSON *desc, size_t *len) {
  struct json_buf b;
  json_buf_init(&b, 256);
  json_buf_lit(&b, "{\"type\":\"patch\",\"name\":");
  json_buf_str(&b, name);
  json_buf_lit(&b, ",\"version\":");
  json_buf_num(&b, (double)version);
  json_buf_lit(&b, ",\"ops\":");
  json_buf_value(&b, ops);
  json_buf_lit(&b, ",\"origin\":");
  json_buf_str(&b, origin);
  if (desc) {
    json_buf_lit(&b, ",\"desc\":");
    json_buf_value(&b, desc);
  }
  json_buf_lit(&b, "}");
  return json_buf_finish(&b, len);
}

static cJSON *version_array(const uint64_t *v, int n) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < n && a; i++)
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
  return a;
}

char *msg_ack_versions(const char *name, const cJSON *ref, uint64_t version,
                       const char *key, const uint64_t *versions, int n,
                       size_t *len) {
  cJSON *o = new_msg("ack");
  cJSON_AddStringToObject(o, "name", name);
  if (ref) add_ref(o, "ref", ref);
  cJSON_AddNumberToObject(o, "version", (double)version);
  cJSON_AddItemToObject(o, key, version_array(versions, n));
  return finish(o, len);
}

char *msg_undo_conflict(const char *name, const cJSON *ref, const char *message,
                        const struct msg_conflict *c, int n, size_t *len) {
  cJSON *o = new_msg("error");
  cJSON_AddStringToObject(o, "code", ERR_CONFLICT);
  cJSON_AddStringToObject(o, "message", message);
  cJSON_AddStringToObject(o, "name", name);
  if (ref) add_ref(o, "ref", ref);
  cJSON *arr = cJSON_AddArrayToObject(o, "conflicts");
  for (int i = 0; i < n && arr; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "version", (double)c[i].version);
    cJSON_AddStringToObject(e, "path", c[i].path);
    cJSON_AddNumberToObject(e, "by", (double)c[i].by);
    cJSON_AddItemToArray(arr, e);
  }
  return finish(o, len);
}

char *msg_synced(const struct state *st, const cJSON *ref, const char *status,
                 uint64_t version, const cJSON *pages, size_t *len) {
  cJSON *o = new_msg("synced");
  cJSON_AddStringToObject(o, "name", st->name);
  if (ref) add_ref(o, "ref", ref);
  cJSON_AddStringToObject(o, "status", status);
  cJSON_AddNumberToObject(o, "version", (double)version);
  if (!strcmp(status, "invalid") || !strcmp(status, "missing"))
    cJSON_AddStringToObject(o, "file", st->path);
  if (!strcmp(status, "invalid")) {
    cJSON_AddNumberToObject(o, "line", st->error.line);
    cJSON_AddNumberToObject(o, "column", st->error.column);
    cJSON_AddStringToObject(o, "message", st->error.message);
    cJSON_AddStringToObject(o, "text", st->error_text ? st->error_text : "");
  }
  if (pages) add_ref(o, "pages", pages);
  return finish(o, len);
}

char *msg_errors(const cJSON *ref, const cJSON *errors, size_t *len) {
  cJSON *o = new_msg("errors");
  if (ref) add_ref(o, "ref", ref);
  add_ref(o, "errors", errors);
  return finish(o, len);
}

char *msg_page_error(const cJSON *err, size_t *len) {
  cJSON *o = new_msg("page_error");
  for (const cJSON *c = err ? err->child : NULL; c && o; c = c->next)
    add_ref(o, c->string, c);
  return finish(o, len);
}

char *msg_healthz(const char *session, size_t *len) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddTrueToObject(o, "ok");
  cJSON_AddStringToObject(o, "server", PROTOCOL_SERVER);
  cJSON_AddStringToObject(o, "session", session);
  return finish(o, len);
}

char *msg_server_states(const char *session, int clients,
                        const struct store *store, size_t *len) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "server", PROTOCOL_SERVER);
  cJSON_AddStringToObject(o, "session", session);
  cJSON_AddNumberToObject(o, "clients", clients);
  cJSON_AddItemToObject(o, "states", states_list(store));
  return finish(o, len);
}
