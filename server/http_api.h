/* The HTTP side of /_mirrorstate/: health, the JSON API and the packed web
 * assets. No libwebsockets here: the transport hands over a request that
 * passed the access check (its on_http event, wired in server.c) and sends
 * back the reply. The API asks the hub (hub.h's queries) for states and
 * changes; every body it answers with is encoded in protocol.c. */
#ifndef MS_HTTP_API_H
#define MS_HTTP_API_H

#include "transport.h"

struct hub;

/* Answers a request for one of MirrorState's own routes (req->path is
 * below /_mirrorstate, e.g. "/api/states/todo"). The path and the query's
 * arguments arrive decoded and are used as they are: nothing is decoded a
 * second time. Always fills *reply; its body is the caller's to free. */
void http_api_handle(struct hub *h, const struct http_request *req,
                     struct http_reply *reply);

#endif
