/* An encoded message on its way to one or many clients: one shared,
 * reference-counted copy, so a change broadcast to a thousand clients is
 * encoded and stored once. The text is kept behind OUTMSG_HEADROOM bytes
 * that the transport may write into (libwebsockets frames a message in
 * front of it). No libwebsockets here: the hub builds messages, the
 * transport sends them. */
#ifndef MS_OUTMSG_H
#define MS_OUTMSG_H

#include <stddef.h>

/* At least libwebsockets' LWS_PRE (checked where it is known). */
#define OUTMSG_HEADROOM 16

struct outmsg {
  int refs;
  size_t len;          /* of the text */
  unsigned char *data; /* OUTMSG_HEADROOM bytes, then the text */
};

/* Makes a message of a malloc'd text and frees the text (it is copied
 * behind the headroom). Returns NULL on allocation failure. The caller
 * holds one reference: it drops it with outmsg_unref once the message is
 * handed to every recipient, who each take their own. */
struct outmsg *outmsg_take(char *text, size_t len);

/* The text (OUTMSG_HEADROOM writable bytes precede it). */
static inline unsigned char *outmsg_text(const struct outmsg *m) {
  return m->data + OUTMSG_HEADROOM;
}

void outmsg_ref(struct outmsg *m);
/* Drops a reference; the last one frees m. NULL is ignored. */
void outmsg_unref(struct outmsg *m);

#endif
