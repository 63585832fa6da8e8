/* Shared by the JSON module's files (json_parse.c, json_print.c): not for
 * other modules, which use json.h. */
#ifndef MS_JSON_INT_H
#define MS_JSON_INT_H

#include <stddef.h>

/* The length of the well-formed UTF-8 sequence at p (no overlong forms, no
 * surrogates, nothing above U+10FFFF) within avail bytes, or 0. */
int json__utf8_length(const unsigned char *p, size_t avail);

#endif
