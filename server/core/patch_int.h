/* Shared by the patch engine's files (patch.c, patch_validate.c): not
 * for other modules, which use patch.h. */
#ifndef MS_PATCH_INT_H
#define MS_PATCH_INT_H

#include <stddef.h>

enum op_kind { OP_ADD, OP_REMOVE, OP_REPLACE, OP_MOVE, OP_COPY, OP_TEST };

/* "add", "remove", ... indexed by enum op_kind. */
extern const char *const patch__op_names[];

/* The op_kind named name, or -1. */
int patch__op_kind(const char *name);

/* Formats a message into err (if not NULL) and returns rc. */
int patch__fail(int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
