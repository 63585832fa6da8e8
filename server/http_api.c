/* /_mirrorstate/ over HTTP: health, the JSON API, packed assets. */
#include "http_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "hub.h"
#include "json.h"
#include "names.h"
#include "pointer.h"
#include "protocol.h"

/* Fills r with an encoded message (taken) as its JSON body. */
static void reply_text(struct http_reply *r, int status, char *text,
                       size_t len) {
  r->status = status;
  r->content_type = "application/json";
  r->body = text;
  r->len = len;
  if (!r->body) {
    r->status = 500;
    r->body = strdup("{}");
    r->len = r->body ? 2 : 0;
  }
}

/* The HTTP status of an error code. */
static int error_status(const char *code) {
  if (!strcmp(code, ERR_CONFLICT)) return 409;
  if (!strcmp(code, ERR_UNKNOWN_STATE) || !strcmp(code, ERR_UNKNOWN_VERSION) ||
      !strcmp(code, ERR_NOT_FOUND))
    return 404;
  if (!strcmp(code, ERR_TOO_LARGE)) return 413;
  if (!strcmp(code, ERR_FORBIDDEN)) return 403;
  return 400;
}

/* name and ref may be NULL. */
static void reply_error(struct http_reply *r, int status, const char *code,
                        const char *message, const char *name,
                        const cJSON *ref) {
  size_t len = 0;
  char *text = msg_error(code, message, name, ref, &len);
  reply_text(r, status, text, len);
}

static void serve_asset(struct http_reply *r, const char *path) {
  char url[600];
  snprintf(url, sizeof url, "/_mirrorstate%s",
           strcmp(path, "/") == 0 || !*path ? "/panel/index.html" : path);
  const struct asset *a = assets_find(url);
  if (!a) {
    reply_error(r, 404, ERR_NOT_FOUND, "no such page", NULL, NULL);
    return;
  }
  r->status = 200;
  r->content_type = assets_mime(url);
  r->body = malloc(a->size + 1);
  if (r->body) memcpy(r->body, a->data, a->size);
  r->len = r->body ? a->size : 0;
}

/* The state itself (not a message), or the value a pointer names in it. */
static void get_state(struct state *st, const struct http_request *req,
                      struct http_reply *r) {
  const char *ptr = http_request_arg(req, "pointer");
  if (ptr && !ptr_valid(ptr)) {
    reply_error(r, 400, ERR_BAD_MESSAGE, "malformed JSON Pointer", st->name,
                NULL);
    return;
  }
  if (!st->current) {
    reply_error(r, 404, ERR_UNKNOWN_STATE,
                "the state does not exist yet (no file)", st->name, NULL);
    return;
  }
  const cJSON *v = ptr ? ptr_get(st->current, ptr) : st->current;
  if (!v) {
    reply_error(r, 404, ERR_NOT_FOUND, "the pointer names no value", st->name,
                NULL);
    return;
  }
  size_t len = 0;
  char *text = json_print_compact(v, &len);
  reply_text(r, 200, text, len);
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
    reply_error(r, 400, ERR_BAD_MESSAGE,
                "the body must be a JSON object: {\"type\":\"patch\","
                "\"ops\":[...]}, {\"type\":\"set\",\"state\":...}, "
                "{\"type\":\"undo\",\"versions\":[N]}, "
                "{\"type\":\"reset\",\"version\":N} or "
                "{\"type\":\"sync\"}",
                st->name, ref);
    cJSON_Delete(ref);
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
    reply_error(r, 400, code, err, st->name, ref);
    cJSON_Delete(ref);
    return;
  }
  if (m.type != MSG_PATCH && m.type != MSG_SET && m.type != MSG_REVERT &&
      m.type != MSG_RESET && m.type != MSG_UNDO && m.type != MSG_SYNC) {
    msg_free(&m);
    reply_error(r, 400, ERR_BAD_MESSAGE,
                "POST takes a patch, set, undo, reset, revert or sync message",
                st->name, NULL);
    return;
  }
  size_t n = 0;
  char *answer = hub_api_change(h, st, &m, &code, &n);
  msg_free(&m);
  reply_text(r, code ? error_status(code) : 200, answer, n);
}

static void states_api(struct hub *h, const char *rest,
                       const struct http_request *req, struct http_reply *r) {
  size_t len = 0;
  if (!*rest || strcmp(rest, "/") == 0) {
    char *text = msg_server_states(hub_session_id(h), hub_client_count(h),
                                   hub_store(h), &len);
    reply_text(r, 200, text, len);
    return;
  }
  /* The path is decoded already: a name is used exactly as it arrives. */
  char name[NAME_MAX_LEN + 16];
  if (strlen(rest + 1) >= sizeof name) {
    reply_error(r, 400, ERR_BAD_MESSAGE, "malformed state name", NULL, NULL);
    return;
  }
  strcpy(name, rest + 1);
  /* NAME/history is the history of NAME, a state known already (its file
   * exists, it has a value or a subscriber), unless a state is called
   * "NAME/history" itself. Only then is the whole path looked up, which
   * under --dir makes a state of that name for as long as it is needed. */
  int history = 0;
  struct state *st = hub_find(h, name);
  size_t n = strlen(name);
  if (!st && n > 8 && strcmp(name + n - 8, "/history") == 0) {
    name[n - 8] = '\0';
    st = hub_find(h, name);
    history = st != NULL;
    if (!st) name[n - 8] = '/';
  }
  if (!st) st = hub_lookup(h, name);
  if (!st) {
    reply_error(r, 404, ERR_UNKNOWN_STATE, "no such state", NULL, NULL);
    return;
  }
  if (history) {
    const char *lim = http_request_arg(req, "limit");
    char *text = msg_history(st, lim ? atoi(lim) : 0, NULL, &len);
    reply_text(r, 200, text, len);
  } else if (req->method == HTTP_POST) {
    post_state(h, st, req->body, req->body_len, r);
  } else {
    get_state(st, req, r);
  }
}

void http_api_handle(struct hub *h, const struct http_request *req,
                     struct http_reply *r) {
  const char *path = req->path;
  memset(r, 0, sizeof *r);
  r->version = -1;
  if (strcmp(path, "/healthz") == 0) {
    size_t len = 0;
    char *text = msg_healthz(hub_session_id(h), &len);
    reply_text(r, 200, text, len);
  } else if (strncmp(path, "/api/states", 11) == 0 &&
             (path[11] == '\0' || path[11] == '/')) {
    states_api(h, path + 11, req, r);
  } else if (req->method == HTTP_POST) {
    reply_error(r, 405, ERR_BAD_MESSAGE, "POST goes to /api/states/NAME", NULL,
                NULL);
  } else {
    serve_asset(r, path);
  }
}
