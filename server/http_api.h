/* The HTTP side of /_mirrorstate/: health, the JSON API and the packed web
 * assets. No libwebsockets here: the transport hands over a parsed request
 * and sends back the reply. */
#ifndef MS_HTTP_API_H
#define MS_HTTP_API_H

#include <stddef.h>
#include <stdint.h>

struct hub;

struct http_reply {
  int status;
  const char *content_type;
  char *body; /* malloc'd; the transport frees it */
  size_t len;
  long long version; /* X-MirrorState-Version, or -1 */
};

/* Handles a request for path (below /_mirrorstate, e.g. "/api/states").
 * query is the raw query string or "", body the POST body or NULL. Always
 * fills *reply. */
void http_api_handle(struct hub *h, int is_post, const char *path,
                     const char *query, const char *body, size_t len,
                     struct http_reply *reply);

/* Fills *reply with an error object (for refusals made by the transport). */
void http_api_error(struct http_reply *reply, int status, const char *code,
                    const char *message);

/* Non-zero if path (below /_mirrorstate) needs the token when one is set:
 * the API and the WebSocket, not the panel's and client's static code. */
int http_api_needs_token(const char *path);

#endif
