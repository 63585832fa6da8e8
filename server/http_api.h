/* The HTTP side of /_mirrorstate/: health, the JSON API and the packed web
 * assets. No libwebsockets here: the transport hands over a parsed request
 * and sends back the reply. */
#ifndef MS_HTTP_API_H
#define MS_HTTP_API_H

#include <stddef.h>
#include <stdint.h>

#include "transport.h"

struct hub;

/* Handles a request for one of MirrorState's own routes. The path and the
 * query arguments arrive decoded and are used as they are: nothing is
 * decoded a second time. Always fills *reply. */
void http_api_handle(struct hub *h, const struct http_request *req,
                     struct http_reply *reply);

/* Fills *reply with an error object (for refusals made by the transport). */
void http_api_error(struct http_reply *reply, int status, const char *code,
                    const char *message);

/* Non-zero if path (below /_mirrorstate) needs the token when one is set:
 * the API and the WebSocket, not the panel's and client's static code. */
int http_api_needs_token(const char *path);

#endif
