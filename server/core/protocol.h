/* Wire protocol v1: decoding client messages, encoding server messages.
 * Pure, no I/O; see docs/protocol.md.
 *
 * Every message the server sends, over the WebSocket or as the body of an
 * HTTP answer, is encoded here by the one function named after it in
 * docs/protocol.md; no other module builds a message. */
#ifndef MS_PROTOCOL_H
#define MS_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

#include "store.h"

#define PROTOCOL_VERSION 1
#define PROTOCOL_SERVER "mirrorstate/" MS_VERSION
#define PROTOCOL_NAME "mirrorstate.v1"

enum msg_type {
  MSG_SUBSCRIBE,
  MSG_UNSUBSCRIBE,
  MSG_PATCH,
  MSG_SET,
  MSG_IDENTIFY,
  MSG_CLIENTS,
  MSG_STATES,
  MSG_HISTORY,
  MSG_REVERT,
  MSG_SYNC,
  MSG_UNDO,
  MSG_RESET,
  MSG_ERRORS,
  MSG_APPLIED,
  MSG_PAGE_ERROR,
};

/* The most versions one undo message may name. */
#define MSG_MAX_VERSIONS 64
/* sync: the pages' wait when the message gives no timeout, and the
 * longest it may ask for (ms). */
#define MSG_SYNC_TIMEOUT 10000
#define MSG_SYNC_TIMEOUT_MAX 600000

/* Who a connection says it is (identify). */
enum msg_role { ROLE_APP, ROLE_PANEL, ROLE_CLI };

/* "app", "panel" or "cli". */
const char *msg_role_name(enum msg_role role);

/* A decoded client message. Every pointer borrows from root, which the
 * message owns: free it with msg_free. */
struct msg {
  enum msg_type type;
  cJSON *root;
  const char *name; /* subscribe, unsubscribe, patch, set, history, revert,
                       sync, undo, reset, applied; errors (may be NULL) */
  int has_base;
  uint64_t base;      /* patch, set: the version the client last saw */
  int strict;         /* patch: refused if stale since base (strict.h) */
  cJSON *ops;         /* patch: validated RFC 6902 ops */
  cJSON *value;       /* set: state; subscribe: init (may be NULL) */
  cJSON *ref;         /* any JSON value to echo back, or NULL */
  uint64_t version;   /* revert, reset, applied */
  int limit;          /* history: 0 means all */
  enum msg_role role; /* identify */
  const char *page;   /* identify: the page URL, may be NULL */
  int pages;          /* sync: wait for the pages too */
  uint64_t timeout;   /* sync: how long to wait for them, ms */
  uint64_t versions[MSG_MAX_VERSIONS]; /* undo */
  int nversions;
  int has_since; /* errors */
  uint64_t since;
  int watch; /* errors: go on sending new ones */
  /* page_error: kind and message are strings (message at most 4000
   * bytes, stack 8000, cut at a character); stack and url may be NULL;
   * states an object of the versions the page showed (may be NULL). */
  const char *kind, *message, *stack, *url;
  const cJSON *states;
};

/* Error codes of the error message (and of HTTP answers). */
#define ERR_BAD_MESSAGE "bad_message"
#define ERR_UNKNOWN_STATE "unknown_state"
#define ERR_CONFLICT "conflict"
#define ERR_INVALID_PATCH "invalid_patch"
#define ERR_FILE_INVALID "file_invalid"
#define ERR_FILE_REMOVED "file_removed"
#define ERR_FILE_OK "file_ok"
#define ERR_WRITE_FAILED "write_failed"
#define ERR_TOO_LARGE "too_large"
#define ERR_FORBIDDEN "forbidden"
#define ERR_UNKNOWN_VERSION "unknown_version"
/* Only over HTTP. */
#define ERR_NOT_FOUND "not_found"
#define ERR_BAD_REQUEST "bad_request"
#define ERR_MOVED "moved"
#define ERR_LENGTH_REQUIRED "length_required"
#define ERR_METHOD_NOT_ALLOWED "method_not_allowed"
#define ERR_UNAVAILABLE "unavailable"

/* Decodes one message. Returns 0 and fills *m, or returns an error code
 * (ERR_BAD_MESSAGE or ERR_INVALID_PATCH) with a message in err; then
 * *ref_out, if not NULL, receives a copy of the message's ref (caller frees)
 * and name_out (size NAME_MAX_LEN + 1) the name, if there were any, so the
 * error can carry them. They are recovered even from a message that is not
 * valid JSON as a whole (see msg_recover). */
const char *msg_decode(const char *buf, size_t len, struct msg *m, char *err,
                       size_t errlen, cJSON **ref_out, char *name_out);

/* Reads the members "ref" and "name" of a top-level object that the strict
 * parser refused, walking it leniently (linear, no recursion) and parsing
 * only those two members' values. *ref_out receives the ref (caller frees)
 * if one is found and is valid JSON on its own; name_out (size
 * NAME_MAX_LEN + 1) the name if it is such a string. Either may be NULL;
 * what is not found is left untouched. The last occurrence of a member
 * wins, as in JSON.parse. */
void msg_recover(const char *buf, size_t len, cJSON **ref_out, char *name_out);

void msg_free(struct msg *m);

/* Encoders, one per message of docs/protocol.md. Each returns a malloc'd
 * compact JSON text (caller frees) with its length in *len, or NULL on
 * allocation failure. Everything passed in is borrowed; a ref or a name
 * that may be NULL is then left out. */

/* hello: this server run's session id, the connection's id, and the
 * names of store's states. */
char *msg_hello(const char *session, const char *client,
                const struct store *store, size_t *len);
/* snapshot: the whole state; state NULL is {"version":0,"exists":false}. */
char *msg_snapshot(const char *name, uint64_t version, const cJSON *state,
                   size_t *len);
/* patch: a change made by origin ("file", "client:c3", "panel", "api"). */
char *msg_patch(const char *name, uint64_t version, const cJSON *ops,
                const char *origin, size_t *len);
char *msg_ack(const char *name, const cJSON *ref, uint64_t version,
              size_t *len);
/* error: also the body of every HTTP error. name and ref may be NULL. */
char *msg_error(const char *code, const char *message, const char *name,
                const cJSON *ref, size_t *len);
/* The error (or file_ok notice) that tells what became of st's file:
 * file_invalid (with file, line, column, text), file_removed,
 * write_failed or file_ok. NULL for a state with no file yet. */
char *msg_file_status(const struct state *st, size_t *len);
/* The code msg_file_status uses for a status, or NULL for FILE_ABSENT. */
const char *msg_file_status_code(enum file_status status);
/* states: every state of store with its version and file status. */
char *msg_states(const struct store *store, const cJSON *ref, size_t *len);

/* One connection as the clients message lists it. */
struct msg_client {
  const char *id;
  enum msg_role role;
  const char *page; /* NULL if none */
  const char *origin;
  const char *address;
  double since_ms; /* wall clock at connect */
  char *const *subs;
  int nsubs;
};
char *msg_clients(const struct msg_client *clients, int n, const cJSON *ref,
                  size_t *len);
/* patch with "desc", the description of each op (describe.h), for
 * tools; desc may be NULL (then it is msg_patch). */
char *msg_patch_desc(const char *name, uint64_t version, const cJSON *ops,
                     const char *origin, const cJSON *desc, size_t *len);
/* ack with a list of versions under key: "undone" (undo), "discarded"
 * (reset, revert). */
char *msg_ack_versions(const char *name, const cJSON *ref, uint64_t version,
                       const char *key, const uint64_t *versions, int n,
                       size_t *len);
/* error conflict of an undo, with "conflicts": [{version, path, by}]. */
struct msg_conflict {
  uint64_t version, by;
  const char *path;
};
char *msg_undo_conflict(const char *name, const cJSON *ref, const char *message,
                        const struct msg_conflict *c, int n, size_t *len);
/* synced: status "applied", "unchanged", "invalid" (with the file's error
 * from st) or "missing"; pages (may be NULL) is the object
 * {confirmed, total, errors} to add. */
char *msg_synced(const struct state *st, const cJSON *ref, const char *status,
                 uint64_t version, const cJSON *pages, size_t *len);
/* errors: the page errors listed (borrowed array of objects). */
char *msg_errors(const cJSON *ref, const cJSON *errors, size_t *len);
/* page_error: one page error as relayed (err: its fields, with client and
 * time). */
char *msg_page_error(const cJSON *err, size_t *len);
/* history: the newest limit entries of st's history ring (0: all). */
char *msg_history(const struct state *st, int limit, const cJSON *ref,
                  size_t *len);

/* The bodies of GET /_mirrorstate/healthz and GET /_mirrorstate/api/states. */
char *msg_healthz(const char *session, size_t *len);
char *msg_server_states(const char *session, int clients,
                        const struct store *store, size_t *len);

#endif
