/* JSON Pointer (RFC 6901): syntax, lookup and escaping. */
#include "pointer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ptr_valid(const char *ptr) {
  if (!ptr) return 0;
  if (*ptr == '\0') return 1;
  if (*ptr != '/') return 0;
  for (const char *p = ptr; *p; p++)
    if (*p == '~' && p[1] != '0' && p[1] != '1') return 0;
  return 1;
}

int ptr_index(const char *token, size_t *index) {
  size_t v = 0;
  if (token[0] == '\0' || (token[0] == '0' && token[1] != '\0')) return -1;
  for (const char *p = token; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    /* cJSON counts children in int, so nothing larger can be addressed. */
    if (v > (size_t)(INT32_MAX - 9) / 10) return -1;
    v = v * 10 + (size_t)(*p - '0');
  }
  *index = v;
  return 0;
}

const char *ptr_token(const char *p, char *out) {
  while (*p && *p != '/') {
    if (*p == '~') {
      *out++ = p[1] == '0' ? '~' : '/';
      p += 2;
    } else {
      *out++ = *p++;
    }
  }
  *out = '\0';
  return p;
}

cJSON *ptr_child(const cJSON *container, const char *token) {
  if (cJSON_IsObject(container))
    return cJSON_GetObjectItemCaseSensitive(container, token);
  if (!cJSON_IsArray(container)) return NULL;
  size_t i;
  if (ptr_index(token, &i) != 0) return NULL;
  cJSON *c = container->child;
  while (c && i--)
    c = c->next;
  return c;
}

int ptr_parent(const cJSON *doc, const char *ptr, cJSON **parent, char **last) {
  *parent = NULL;
  *last = NULL;
  if (!ptr_valid(ptr) || *ptr == '\0') return PATCH_INVALID;
  char *tok = malloc(strlen(ptr) + 1);
  if (!tok) return PATCH_NOMEM;
  const cJSON *node = doc;
  const char *p = ptr;
  for (;;) {
    p = ptr_token(p + 1, tok);
    if (*p == '\0') break;
    node = ptr_child(node, tok);
    if (!node) break;
  }
  if (!cJSON_IsObject(node) && !cJSON_IsArray(node)) {
    free(tok);
    return PATCH_CONFLICT;
  }
  *parent = (cJSON *)node;
  *last = tok;
  return PATCH_OK;
}

cJSON *ptr_get(const cJSON *doc, const char *ptr) {
  if (!ptr_valid(ptr)) return NULL;
  if (*ptr == '\0') return (cJSON *)doc;
  cJSON *parent;
  char *last;
  if (ptr_parent(doc, ptr, &parent, &last) != PATCH_OK) return NULL;
  cJSON *node = ptr_child(parent, last);
  free(last);
  return node;
}

static int reserve(struct ptr_buf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1)
    cap *= 2;
  char *s = realloc(b->s, cap);
  if (!s) return PATCH_NOMEM;
  b->s = s;
  b->cap = cap;
  return 0;
}

int ptr_push(struct ptr_buf *b, const char *key) {
  size_t extra = 1;
  for (const char *p = key; *p; p++)
    extra += (*p == '~' || *p == '/') ? 2 : 1;
  if (reserve(b, extra)) return PATCH_NOMEM;
  char *o = b->s + b->len;
  *o++ = '/';
  for (const char *p = key; *p; p++) {
    if (*p == '~' || *p == '/') {
      *o++ = '~';
      *o++ = *p == '~' ? '0' : '1';
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  b->len += extra;
  return 0;
}

int ptr_push_index(struct ptr_buf *b, size_t index) {
  char num[24];
  int n = snprintf(num, sizeof num, "/%zu", index);
  if (reserve(b, (size_t)n)) return PATCH_NOMEM;
  memcpy(b->s + b->len, num, (size_t)n + 1);
  b->len += (size_t)n;
  return 0;
}

void ptr_truncate(struct ptr_buf *b, size_t len) {
  b->len = len;
  if (b->s) b->s[len] = '\0';
}
