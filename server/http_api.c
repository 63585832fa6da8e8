/* /_mirrorstate/ over HTTP: health, the JSON API, packed assets. */
#include "http_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "hub.h"
#include "json.h"
#include "mirror.h"
#include "names.h"
#include "patch.h"
#include "protocol.h"
#include "transport.h"

static void reply_json(struct http_reply *r, int status, cJSON *obj) {
  r->status = status;
  r->content_type = "application/json";
  r->body = obj ? json_print_compact(obj, &r->len) : NULL;
  cJSON_Delete(obj);
  if (!r->body) {
    r->status = 500;
    r->body = strdup("{}");
    r->len = 2;
  }
}

void http_api_error(struct http_reply *r, int status, const char *code,
                    const char *message) {
  memset(r, 0, sizeof *r);
  r->version = -1;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "error");
  cJSON_AddStringToObject(o, "code", code);
  cJSON_AddStringToObject(o, "message", message);
  reply_json(r, status, o);
}

/* ref (may be NULL) is taken. */
static void reply_error_ref(struct http_reply *r, int status, const char *code,
                            const char *message, const char *name, cJSON *ref) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "error");
  cJSON_AddStringToObject(o, "code", code);
  cJSON_AddStringToObject(o, "message", message);
  if (name) cJSON_AddStringToObject(o, "name", name);
  if (ref) cJSON_AddItemToObject(o, "ref", ref);
  reply_json(r, status, o);
}

static void reply_error(struct http_reply *r, int status, const char *code,
                        const char *message, const char *name) {
  reply_error_ref(r, status, code, message, name, NULL);
}

static void serve_asset(struct http_reply *r, const char *path) {
  char url[600];
  snprintf(url, sizeof url, "/_mirrorstate%s",
           strcmp(path, "/") == 0 || !*path ? "/panel/index.html" : path);
  const struct asset *a = assets_find(url);
  if (!a) {
    reply_error(r, 404, "not_found", "no such page", NULL);
    return;
  }
  r->status = 200;
  r->content_type = assets_mime(url);
  r->body = malloc(a->size + 1);
  if (r->body) memcpy(r->body, a->data, a->size);
  r->len = r->body ? a->size : 0;
}

static void get_state(struct hub *h, struct state *st,
                      const struct http_request *req, struct http_reply *r) {
  const char *ptr = http_request_arg(req, "pointer");
  if (ptr && !ptr_valid(ptr)) {
    reply_error(r, 400, ERR_BAD_MESSAGE, "malformed JSON Pointer", st->name);
    return;
  }
  if (!st->current) {
    reply_error(r, 404, ERR_UNKNOWN_STATE,
                "the state does not exist yet (no file)", st->name);
    return;
  }
  const cJSON *v = ptr ? ptr_get(st->current, ptr) : st->current;
  if (!v) {
    reply_error(r, 404, "not_found", "the pointer names no value", st->name);
    return;
  }
  (void)h;
  r->status = 200;
  r->content_type = "application/json";
  r->body = json_print_compact(v, &r->len);
  r->version = (long long)st->version;
}

static void post_state(struct hub *h, struct state *st, const char *body,
                       size_t len, struct http_reply *r) {
  /* The body is a client message without its name: add it, then decode the
   * message as if it came over the WebSocket. */
  struct json_error jerr;
  cJSON *o = body ? json_parse(body, len, &jerr) : NULL;
  if (!cJSON_IsObject(o)) {
    /* Whatever ref can be read goes back, so the sender knows which change
     * was refused. */
    cJSON *ref = NULL;
    if (body && !o) msg_recover(body, len, &ref, NULL);
    cJSON_Delete(o);
    reply_error_ref(r, 400, ERR_BAD_MESSAGE,
                    "the body must be a JSON object: {\"type\":\"patch\","
                    "\"ops\":[...]}, {\"type\":\"set\",\"state\":...} or "
                    "{\"type\":\"revert\",\"version\":N}",
                    st->name, ref);
    return;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(o, "name");
  cJSON_AddStringToObject(o, "name", st->name);
  size_t mlen;
  char *text = json_print_compact(o, &mlen);
  cJSON_Delete(o);
  struct msg m;
  char err[256] = "out of memory";
  cJSON *ref = NULL;
  const char *code =
      text ? msg_decode(text, mlen, &m, err, sizeof err, &ref, NULL)
           : ERR_TOO_LARGE;
  free(text);
  if (code) {
    reply_error_ref(r, 400, code, err, st->name, ref);
    return;
  }
  if (m.type != MSG_PATCH && m.type != MSG_SET && m.type != MSG_REVERT) {
    msg_free(&m);
    reply_error(r, 400, ERR_BAD_MESSAGE,
                "POST takes a patch, set or revert message", st->name);
    return;
  }
  int status;
  cJSON *reply = hub_api_change(h, st, &m, &status);
  msg_free(&m);
  reply_json(r, status, reply);
}

static void states_api(struct hub *h, const char *rest,
                       const struct http_request *req, struct http_reply *r) {
  char name[NAME_MAX_LEN + 16];
  if (!*rest || strcmp(rest, "/") == 0) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "server", "mirrorstate/" MS_VERSION);
    cJSON_AddStringToObject(o, "session", h->session_id);
    cJSON_AddNumberToObject(o, "clients",
                            transport_session_count(h->transport));
    cJSON_AddItemToObject(o, "states", hub_states_json(h));
    reply_json(r, 200, o);
    return;
  }
  /* The path is decoded already: a name is used exactly as it arrives. */
  if (strlen(rest + 1) >= sizeof name) {
    reply_error(r, 400, ERR_BAD_MESSAGE, "malformed state name", NULL);
    return;
  }
  strcpy(name, rest + 1);
  /* NAME/history is the history of NAME, a state known already (its file
   * exists, it has a value or a subscriber), unless a state is called
   * "NAME/history" itself. Only then is the whole path looked up, which
   * under --dir makes a state of that name for as long as it is needed. */
  int history = 0;
  struct state *st = store_find(&h->store, name);
  size_t n = strlen(name);
  if (!st && n > 8 && strcmp(name + n - 8, "/history") == 0) {
    name[n - 8] = '\0';
    st = store_find(&h->store, name);
    history = st != NULL;
    if (!st) name[n - 8] = '/';
  }
  if (!st) st = mirror_state(h->mirror, name);
  if (!st) {
    reply_error(r, 404, ERR_UNKNOWN_STATE, "no such state", NULL);
    return;
  }
  if (history) {
    const char *lim = http_request_arg(req, "limit");
    reply_json(r, 200, hub_history_json(h, st, lim ? atoi(lim) : 0));
  } else if (req->method == HTTP_POST) {
    post_state(h, st, req->body, req->body_len, r);
  } else {
    get_state(h, st, req, r);
  }
}

int http_api_needs_token(const char *path) {
  return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
         strcmp(path, "/ws") == 0;
}

void http_api_handle(struct hub *h, const struct http_request *req,
                     struct http_reply *r) {
  const char *path = req->path;
  int is_post = req->method == HTTP_POST;
  memset(r, 0, sizeof *r);
  r->version = -1;
  if (strcmp(path, "/healthz") == 0) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddStringToObject(o, "server", "mirrorstate/" MS_VERSION);
    cJSON_AddStringToObject(o, "session", h->session_id);
    reply_json(r, 200, o);
  } else if (strncmp(path, "/api/states", 11) == 0 &&
             (path[11] == '\0' || path[11] == '/')) {
    states_api(h, path + 11, req, r);
  } else if (is_post) {
    reply_error(r, 405, ERR_BAD_MESSAGE, "POST goes to /api/states/NAME", NULL);
  } else {
    serve_asset(r, path);
  }
}
