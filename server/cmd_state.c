/* get, set, patch, history and revert: one HTTP request each (two for set
 * when the value is new, and for revert, which first reads what it will
 * discard). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "commands_int.h"
#include "log.h"

/* --- operations ------------------------------------------------------------
 */

int op_get(struct ctx *c, const char *name, const char *ptr, cJSON **out) {
  char st[512];
  *out = NULL;
  if (ptr && !cmd_pointer_ok(ptr)) return CMD_USAGE;
  int rc = cmd_resolve_name(c, name, st, sizeof st);
  if (rc) return rc;
  char path[3000], query[2100] = "";
  if (ptr) {
    char enc[2048];
    cmd_url_encode(ptr, enc, sizeof enc);
    snprintf(query, sizeof query, "?pointer=%s", enc);
  }
  cmd_state_path(st, query, path, sizeof path);
  int status;
  long long version;
  cJSON *j;
  if ((rc = cmd_api(c, "GET", path, NULL, &status, &version, &j))) return rc;
  const char *code = cmd_str_item(j, "code");
  if (status == 200 && j) {
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "name", st);
    cJSON_AddNumberToObject(*out, "version", (double)version);
    if (ptr) cJSON_AddStringToObject(*out, "pointer", ptr);
    cJSON_AddItemToObject(*out, "value", j);
    return CMD_OK;
  }
  if (status == 404 && !cmd_str_item(j, "name")) {
    cmd_unknown_state(c, st);
    rc = CMD_FAILED;
  } else if (status == 404 && code && !strcmp(code, "not_found")) {
    log_error("nothing at %s in state \"%s\"", ptr, st);
    rc = CMD_FAILED;
  } else {
    rc = cmd_api_error(status, j);
  }
  cJSON_Delete(j);
  return rc;
}

/* POSTs a change message for name. On success *out is the ack; a 409 with
 * soft set is returned as CMD_FAILED without a message (the caller tries
 * another way). */
static int post_change(struct ctx *c, const char *name, const cJSON *msg,
                       int soft_conflict, int *status_out, cJSON **out) {
  char path[800];
  cmd_state_path(name, "", path, sizeof path);
  int status;
  cJSON *j;
  *out = NULL;
  int rc = cmd_api(c, "POST", path, msg, &status, NULL, &j);
  if (rc) return rc;
  if (status_out) *status_out = status;
  if (status == 200 && cJSON_IsObject(j)) {
    *out = j;
    return CMD_OK;
  }
  if (status == 409 && soft_conflict) {
    rc = CMD_FAILED;
  } else if (status == 404 && !cmd_str_item(j, "name")) {
    /* An unknown name is answered without one; other 404s carry it. */
    cmd_unknown_state(c, name);
    rc = CMD_FAILED;
  } else {
    rc = cmd_api_error(status, j);
    if (!rc) rc = CMD_FAILED;
  }
  cJSON_Delete(j);
  return rc;
}

static int last_token_is_dash(const char *ptr) {
  const char *slash = strrchr(ptr, '/');
  return slash && strcmp(slash, "/-") == 0;
}

static cJSON *one_op(const char *op, const char *ptr, const cJSON *value) {
  cJSON *msg = cJSON_CreateObject();
  cJSON_AddStringToObject(msg, "type", "patch");
  cJSON *ops = cJSON_AddArrayToObject(msg, "ops");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "op", op);
  cJSON_AddStringToObject(o, "path", ptr);
  cJSON_AddItemToObject(o, "value", cJSON_Duplicate(value, 1));
  cJSON_AddItemToArray(ops, o);
  return msg;
}

/* The whole state for "", else "replace" if the value exists and "add" if
 * not (so an array index replaces its element and "-" appends). */
int op_set(struct ctx *c, const char *name, const char *ptr, const cJSON *value,
           cJSON **out) {
  *out = NULL;
  if (!cmd_pointer_ok(ptr)) return CMD_USAGE;
  int rc, status = 0;
  cJSON *msg;
  if (!*ptr) {
    msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "type", "set");
    cJSON_AddItemToObject(msg, "state", cJSON_Duplicate(value, 1));
    rc = post_change(c, name, msg, 0, NULL, out);
  } else {
    int add_only = last_token_is_dash(ptr);
    msg = one_op(add_only ? "add" : "replace", ptr, value);
    rc = post_change(c, name, msg, !add_only, &status, out);
    if (!add_only && status == 409) {
      cJSON_Delete(msg);
      msg = one_op("add", ptr, value);
      rc = post_change(c, name, msg, 0, NULL, out);
    }
  }
  cJSON_Delete(msg);
  return rc;
}

int op_patch(struct ctx *c, const char *name, const cJSON *ops, cJSON **out) {
  *out = NULL;
  if (!cJSON_IsArray(ops)) {
    log_error("OPS must be a JSON array of JSON Patch operations, e.g. "
              "'[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}]'");
    return CMD_USAGE;
  }
  cJSON *msg = cJSON_CreateObject();
  cJSON_AddStringToObject(msg, "type", "patch");
  cJSON_AddItemToObject(msg, "ops", cJSON_Duplicate(ops, 1));
  int rc = post_change(c, name, msg, 0, NULL, out);
  cJSON_Delete(msg);
  return rc;
}

int op_history(struct ctx *c, const char *name, long limit, cJSON **out) {
  char st[512];
  *out = NULL;
  int rc = cmd_resolve_name(c, name, st, sizeof st);
  if (rc) return rc;
  char query[40] = "/history", path[800];
  if (limit > 0) snprintf(query, sizeof query, "/history?limit=%ld", limit);
  cmd_state_path(st, query, path, sizeof path);
  int status;
  cJSON *j;
  if ((rc = cmd_api(c, "GET", path, NULL, &status, NULL, &j))) return rc;
  cJSON *entries = cJSON_GetObjectItemCaseSensitive(j, "entries");
  if (status == 200 && cJSON_IsArray(entries)) {
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "name", st);
    cJSON_AddNumberToObject(*out, "version", cmd_num_item(j, "version", 0));
    cJSON_DetachItemViaPointer(j, entries);
    cJSON_AddItemToObject(*out, "entries", entries);
  } else if (status == 404) {
    cmd_unknown_state(c, st);
    rc = CMD_FAILED;
  } else {
    rc = cmd_api_error(status, j);
  }
  cJSON_Delete(j);
  return rc;
}

/* --- commands --------------------------------------------------------------
 */

/* NAME and POINTER of `get`: NAME may be left out when the server mirrors
 * one state, and a lone argument starting with '/' is a pointer. */
int cmd_get(struct ctx *c) {
  const char *name = NULL, *ptr = NULL;
  if (c->o.npos == 2) {
    name = c->o.pos[0];
    ptr = c->o.pos[1];
  } else if (c->o.npos == 1 && c->o.pos[0][0] == '/') {
    ptr = c->o.pos[0];
  } else if (c->o.npos == 1) {
    name = c->o.pos[0];
  }
  cJSON *out;
  int rc = op_get(c, name, ptr, &out);
  if (!rc)
    cmd_print_json(cJSON_GetObjectItemCaseSensitive(out, "value"), c->o.pretty);
  cJSON_Delete(out);
  return rc;
}

static int print_ack(struct ctx *c, int rc, cJSON *ack) {
  if (!rc) cmd_print_json(ack, c->o.pretty);
  cJSON_Delete(ack);
  return rc;
}

int cmd_set(struct ctx *c) {
  if (!cmd_pointer_ok(c->o.pos[1])) return CMD_USAGE;
  cJSON *value = cmd_parse_arg("JSON_VALUE", c->o.pos[2]), *ack = NULL;
  if (!value) return CMD_USAGE;
  int rc = op_set(c, c->o.pos[0], c->o.pos[1], value, &ack);
  cJSON_Delete(value);
  return print_ack(c, rc, ack);
}

int cmd_patch(struct ctx *c) {
  cJSON *ops = cmd_parse_arg("OPS", c->o.pos[1]), *ack = NULL;
  if (!ops) return CMD_USAGE;
  int rc = op_patch(c, c->o.pos[0], ops, &ack);
  cJSON_Delete(ops);
  return print_ack(c, rc, ack);
}

/* The old whole-state jump. It says what it discarded, as reset does: the
 * versions after VERSION, read from the history just before. */
int cmd_revert(struct ctx *c) {
  long long v = cmd_version_arg(c->o.pos[1]);
  if (v < 0) return CMD_USAGE;
  cJSON *hist = NULL, *ack = NULL;
  int rc = op_history(c, c->o.pos[0], 0, &hist);
  if (rc) return rc;
  cJSON *msg = cJSON_CreateObject();
  cJSON_AddStringToObject(msg, "type", "revert");
  cJSON_AddNumberToObject(msg, "version", (double)v);
  rc = post_change(c, c->o.pos[0], msg, 0, NULL, &ack);
  cJSON_Delete(msg);
  if (!rc) {
    char list[1024] = "";
    size_t o = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(hist, "entries")) {
      double ev = cmd_num_item(e, "version", 0);
      const char *origin = cmd_str_item(e, "origin");
      if (ev <= (double)v || o + 40 >= sizeof list) continue;
      o += (size_t)snprintf(list + o, sizeof list - o, "%s%.0f (%s)",
                            o ? ", " : "", ev, origin ? origin : "?");
    }
    if (o)
      log_warn("revert discarded the changes of versions %s; `mirrorstate "
               "undo NAME VERSION` undoes one change and keeps the later ones",
               list);
  }
  cJSON_Delete(hist);
  return print_ack(c, rc, ack);
}

/* "replace /a, add /items/-" from a list of ops. */
static void ops_summary(const cJSON *ops, char *out, size_t outlen) {
  size_t o = 0;
  int n = 0, total = cJSON_GetArraySize(ops);
  out[0] = '\0';
  const cJSON *op;
  cJSON_ArrayForEach(op, ops) {
    const char *k = cmd_str_item(op, "op"), *p = cmd_str_item(op, "path");
    int w = snprintf(out + o, outlen - o, "%s%s %s", n ? ", " : "", k ? k : "?",
                     p && *p ? p : "(root)");
    if (w < 0 || (size_t)w >= outlen - o || ++n == 4) break;
    o += (size_t)w;
  }
  if (n < total && total > 0 && strlen(out) + 20 < outlen)
    snprintf(out + strlen(out), outlen - strlen(out), " (+%d more)", total - n);
}

static void history_table(const cJSON *entries) {
  printf("%-8s %-24s %-12s %s\n", "VERSION", "TIME", "ORIGIN", "CHANGE");
  const cJSON *e;
  cJSON_ArrayForEach(e, entries) {
    char sum[600];
    /* The server's description names items by id; older servers send
     * none, and then the ops are summed up. */
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(e, "desc");
    if (cJSON_GetArraySize(desc) > 0)
      cmd_join_desc(desc, "; ", sum, sizeof sum);
    else
      ops_summary(cJSON_GetObjectItemCaseSensitive(e, "ops"), sum, sizeof sum);
    const char *t = cmd_str_item(e, "time"), *o = cmd_str_item(e, "origin");
    printf("%-8.0f %-24s %-12s %s\n", cmd_num_item(e, "version", 0), t ? t : "",
           o ? o : "", sum);
  }
  fflush(stdout);
}

int cmd_history(struct ctx *c) {
  if (c->o.npos == 1 && c->o.pos[0][0] == '/') {
    log_error("usage: mirrorstate history [NAME] [-n N] (a NAME, not a "
              "pointer)");
    return CMD_USAGE;
  }
  cJSON *h;
  int rc = op_history(c, c->o.npos ? c->o.pos[0] : NULL, c->o.limit, &h);
  if (rc) return rc;
  const cJSON *entries = cJSON_GetObjectItemCaseSensitive(h, "entries");
  if (c->o.pretty) {
    history_table(entries);
  } else {
    const cJSON *e;
    cJSON_ArrayForEach(e, entries) {
      /* Name first, as in watch lines and the event log. */
      cJSON *line = cJSON_CreateObject();
      cJSON_AddStringToObject(line, "name", cmd_str_item(h, "name"));
      for (const cJSON *f = e->child; f; f = f->next)
        cJSON_AddItemToObject(line, f->string, cJSON_Duplicate(f, 1));
      cmd_print_json(line, 0);
      cJSON_Delete(line);
    }
  }
  cJSON_Delete(h);
  return CMD_OK;
}
