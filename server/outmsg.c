/* Shared, reference-counted encoded messages. */
#include "outmsg.h"

#include <stdlib.h>
#include <string.h>

struct outmsg *outmsg_take(char *text, size_t len) {
  struct outmsg *m = text ? malloc(sizeof *m) : NULL;
  unsigned char *data = m ? malloc(OUTMSG_HEADROOM + len + 1) : NULL;
  if (!data) {
    free(m);
    free(text);
    return NULL;
  }
  memcpy(data + OUTMSG_HEADROOM, text, len);
  data[OUTMSG_HEADROOM + len] = '\0';
  free(text);
  m->refs = 1;
  m->len = len;
  m->data = data;
  return m;
}

void outmsg_ref(struct outmsg *m) {
  m->refs++;
}

void outmsg_unref(struct outmsg *m) {
  if (m && --m->refs == 0) {
    free(m->data);
    free(m);
  }
}
