/* JSON text in and out, byte-compatible with JavaScript. */
#include "json.h"

#include <math.h>
#include <string.h>

int json_equal(const cJSON *a, const cJSON *b) {
  if (a == b) return 1;
  if (!a || !b) return 0;
  int ta = a->type & 0xFF, tb = b->type & 0xFF;
  if (ta != tb) return 0;
  switch (ta) {
  case cJSON_False:
  case cJSON_True:
  case cJSON_NULL:
    return 1;
  case cJSON_Number:
    return a->valuedouble == b->valuedouble;
  case cJSON_String:
    return strcmp(a->valuestring, b->valuestring) == 0;
  case cJSON_Array: {
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
      if (!json_equal(x, y)) return 0;
    return !x && !y;
  }
  case cJSON_Object: {
    int na = 0, nb = 0;
    for (const cJSON *x = a->child; x; x = x->next) {
      const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
      if (!y || !json_equal(x, y)) return 0;
      na++;
    }
    for (const cJSON *y = b->child; y; y = y->next) nb++;
    return na == nb;
  }
  default:
    return 0;
  }
}
