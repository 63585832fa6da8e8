/* Wire protocol v1: decoding client messages, encoding server messages.
 * Pure, no I/O; see docs/protocol.md. */
#ifndef MS_PROTOCOL_H
#define MS_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

#define PROTOCOL_VERSION 1
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
};

/* A decoded client message. Every pointer borrows from root, which the
 * message owns: free it with msg_free. */
struct msg {
  enum msg_type type;
  cJSON *root;
  const char *name; /* subscribe, unsubscribe, patch, set, history, revert */
  int has_base;
  uint64_t base;    /* patch, set: the version the client last saw */
  cJSON *ops;       /* patch: validated RFC 6902 ops */
  cJSON *value;     /* set: state; subscribe: init (may be NULL) */
  cJSON *ref;       /* any JSON value to echo back, or NULL */
  uint64_t version; /* revert */
  int limit;        /* history: 0 means all */
  const char *role; /* identify: "app", "panel" or "cli" */
  const char *page; /* identify: the page URL, may be NULL */
};

/* Error codes of the error message. */
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

/* Encoders. Each returns a malloc'd compact JSON text (caller frees) with
 * its length in *len, or NULL on allocation failure. Values are borrowed. */
char *msg_snapshot(const char *name, uint64_t version, const cJSON *state,
                   size_t *len);
char *msg_patch(const char *name, uint64_t version, const cJSON *ops,
                const char *origin, size_t *len);
char *msg_ack(const char *name, const cJSON *ref, uint64_t version,
              size_t *len);
/* name and ref may be NULL. */
char *msg_error(const char *code, const char *message, const char *name,
                const cJSON *ref, size_t *len);

/* Adds a reference to value (not a copy) to obj under key. The reference
 * must be freed before value; cJSON_Delete(obj) does not free value. */
void msg_add_ref(cJSON *obj, const char *key, const cJSON *value);

#endif
