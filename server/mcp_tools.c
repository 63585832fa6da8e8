/* The MCP tools: one table row each (see mcp.h). A tool reads its
 * arguments, runs one operation of commands_int.h, and returns what it
 * produced; the messages the operation logs become the tool's text. A new
 * tool is a row and a small function: the operations find the server,
 * talk to it and explain failures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "commands_int.h"
#include "json.h"
#include "log.h"
#include "mcp.h"

/* --- schemas ---------------------------------------------------------------
 */

#define NAME_PROP                                                              \
  "\"name\":{\"type\":\"string\",\"description\":\"The state's name, as "      \
  "status lists it (a file todo.json is the state todo). May be left out "     \
  "when the server mirrors one state.\"}"
#define NAME_REQUIRED_PROP                                                     \
  "\"name\":{\"type\":\"string\",\"description\":\"The state's name, as "      \
  "status lists it (a file todo.json is the state todo).\"}"
#define ACK_SCHEMA                                                             \
  "{\"type\":\"object\",\"properties\":{\"type\":{\"const\":\"ack\"},"         \
  "\"name\":{\"type\":\"string\"},\"version\":{\"type\":\"integer\","          \
  "\"description\":\"The state's version after the change (unchanged when "    \
  "the change changed nothing).\"}},\"required\":[\"name\",\"version\"]}"

static const char get_in[] =
    "{\"type\":\"object\",\"properties\":{" NAME_PROP
    ",\"pointer\":{\"type\":\"string\",\"description\":\"A JSON Pointer "
    "into the state, e.g. /items/0; left out: the whole state.\"}},"
    "\"additionalProperties\":false}";
static const char get_out[] =
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
    "\"version\":{\"type\":\"integer\"},\"pointer\":{\"type\":\"string\"},"
    "\"value\":{\"description\":\"The value, any JSON.\"}},"
    "\"required\":[\"name\",\"version\",\"value\"]}";

static const char set_in[] =
    "{\"type\":\"object\",\"properties\":{" NAME_REQUIRED_PROP
    ",\"pointer\":{\"type\":\"string\",\"description\":\"Where: a JSON "
    "Pointer; \\\"\\\" is the whole state, /items/- appends to the array "
    "items, a key that does not exist is added.\"},\"value\":{"
    "\"description\":\"The new value, any JSON (a string is a JSON "
    "string).\"}},\"required\":[\"name\",\"pointer\",\"value\"],"
    "\"additionalProperties\":false}";

static const char patch_in[] =
    "{\"type\":\"object\",\"properties\":{" NAME_REQUIRED_PROP
    ",\"ops\":{\"type\":\"array\",\"description\":\"RFC 6902 operations, "
    "applied all or none.\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"op\":{\"enum\":[\"add\",\"remove\",\"replace\",\"move\",\"copy\","
    "\"test\"]},\"path\":{\"type\":\"string\"},\"from\":{\"type\":"
    "\"string\"},\"value\":{}},\"required\":[\"op\",\"path\"]}}},"
    "\"required\":[\"name\",\"ops\"],\"additionalProperties\":false}";

static const char history_in[] =
    "{\"type\":\"object\",\"properties\":{" NAME_PROP
    ",\"limit\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"The "
    "last N versions only.\"}},\"additionalProperties\":false}";
static const char history_out[] =
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
    "\"version\":{\"type\":\"integer\"},\"entries\":{\"type\":\"array\","
    "\"items\":{\"type\":\"object\",\"properties\":{\"version\":{\"type\":"
    "\"integer\"},\"time\":{\"type\":\"string\"},\"origin\":{\"type\":"
    "\"string\"},\"ops\":{\"type\":\"array\"},\"inverse\":{\"type\":"
    "\"array\"},\"desc\":{\"type\":\"array\",\"items\":{\"type\":"
    "\"string\"},\"description\":\"One line per op, naming items by id: "
    "items[id=3].done: false \\u2192 true\"}},\"required\":[\"version\","
    "\"origin\",\"ops\"]}}},"
    "\"required\":[\"name\",\"entries\"]}";

static const char status_in[] =
    "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}";
static const char status_out[] =
    "{\"type\":\"object\",\"properties\":{\"reachable\":{\"type\":"
    "\"boolean\"},\"url\":{\"type\":\"string\"},\"from\":{\"type\":"
    "\"string\"},\"server\":{\"type\":\"string\"},\"session\":{\"type\":"
    "\"string\"},\"pid\":{\"type\":\"integer\"},\"start_dir\":{\"type\":"
    "\"string\"},\"log\":{\"type\":\"string\"},\"clients\":{\"type\":"
    "\"integer\"},\"states\":{\"type\":\"array\",\"items\":{\"type\":"
    "\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"file\":{"
    "\"type\":\"string\"},\"version\":{\"type\":\"integer\"},\"exists\":{"
    "\"type\":\"boolean\"},\"status\":{\"type\":\"string\"},\"error\":{"
    "\"type\":\"object\"}},\"required\":[\"name\",\"version\",\"status\"]}}},"
    "\"required\":[\"reachable\",\"url\",\"states\"]}";

static const char sync_in[] =
    "{\"type\":\"object\",\"properties\":{" NAME_PROP
    ",\"pages\":{\"type\":\"boolean\",\"description\":\"Also wait until "
    "every open page applied the version, and report errors they "
    "raised.\"},\"timeout\":{\"type\":\"number\",\"minimum\":0,"
    "\"description\":\"Seconds to wait at most (default 10).\"}},"
    "\"additionalProperties\":false}";
static const char sync_out[] =
    "{\"type\":\"object\",\"properties\":{\"results\":{\"type\":\"array\","
    "\"items\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":"
    "\"string\"},\"status\":{\"enum\":[\"applied\",\"unchanged\","
    "\"invalid\",\"missing\"]},\"version\":{\"type\":\"integer\"},\"line\":{"
    "\"type\":"
    "\"integer\"},\"column\":{\"type\":\"integer\"},\"text\":{\"type\":"
    "\"string\"},\"pages\":{\"type\":\"object\",\"properties\":{"
    "\"confirmed\":{\"type\":\"integer\"},\"total\":{\"type\":\"integer\"},"
    "\"errors\":{\"type\":\"array\"}}}},\"required\":[\"name\",\"status\","
    "\"version\"]}}},\"required\":[\"results\"]}";

static const char undo_in[] =
    "{\"type\":\"object\",\"properties\":{" NAME_REQUIRED_PROP
    ",\"versions\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":"
    "\"integer\",\"minimum\":1},\"description\":\"The versions whose "
    "changes to undo (history lists them).\"}},\"required\":[\"name\","
    "\"versions\"],\"additionalProperties\":false}";
static const char undo_out[] =
    "{\"type\":\"object\",\"properties\":{\"type\":{\"const\":\"ack\"},"
    "\"name\":{\"type\":\"string\"},\"version\":{\"type\":\"integer\"},"
    "\"undone\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}},"
    "\"required\":[\"name\",\"version\"]}";

static const char errors_in[] =
    "{\"type\":\"object\",\"properties\":{" NAME_PROP
    ",\"since\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"Only "
    "errors raised while a page showed this version of the state or a "
    "later one.\"}},\"additionalProperties\":false}";
static const char errors_out[] =
    "{\"type\":\"object\",\"properties\":{\"errors\":{\"type\":\"array\","
    "\"items\":{\"type\":\"object\",\"properties\":{\"kind\":{\"type\":"
    "\"string\"},\"message\":{\"type\":\"string\"},\"stack\":{\"type\":"
    "\"string\"},\"url\":{\"type\":\"string\"},\"states\":{\"type\":"
    "\"object\"}}}}},\"required\":[\"errors\"]}";

/* --- arguments -------------------------------------------------------------
 */

/* args[key] as a string; NULL when absent (or required and absent, after
 * saying so, with *bad set). */
static const char *str_arg(const cJSON *args, const char *key, int required,
                           int *bad) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, key);
  if (cJSON_IsString(v)) return v->valuestring;
  if (v || required) {
    log_error("argument \"%s\" must be a string%s", key,
              required && !v ? " and is required" : "");
    *bad = 1;
  }
  return NULL;
}

/* args[key] as a whole number >= min; dflt when absent. */
static long long int_arg(const cJSON *args, const char *key, long long min,
                         long long dflt, int *bad) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, key);
  if (!v) return dflt;
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
      v->valuedouble < (double)min || v->valuedouble > 9007199254740992.0) {
    log_error("argument \"%s\" must be a whole number >= %lld", key, min);
    *bad = 1;
    return dflt;
  }
  return (long long)v->valuedouble;
}

/* --- tools ------------------------------------------------------------------
 */

static int t_get(struct ctx *c, const cJSON *a, cJSON **out) {
  int bad = 0;
  const char *name = str_arg(a, "name", 0, &bad),
             *p = str_arg(a, "pointer", 0, &bad);
  return bad ? CMD_USAGE : op_get(c, name, p && *p ? p : NULL, out);
}

static int t_set(struct ctx *c, const cJSON *a, cJSON **out) {
  int bad = 0;
  const char *name = str_arg(a, "name", 1, &bad),
             *p = str_arg(a, "pointer", 1, &bad);
  const cJSON *value = cJSON_GetObjectItemCaseSensitive(a, "value");
  if (!value && !bad) {
    log_error("argument \"value\" is required (any JSON value)");
    bad = 1;
  }
  return bad ? CMD_USAGE : op_set(c, name, p, value, out);
}

static int t_patch(struct ctx *c, const cJSON *a, cJSON **out) {
  int bad = 0;
  const char *name = str_arg(a, "name", 1, &bad);
  const cJSON *ops = cJSON_GetObjectItemCaseSensitive(a, "ops");
  return bad ? CMD_USAGE : op_patch(c, name, ops, out);
}

static int t_history(struct ctx *c, const cJSON *a, cJSON **out) {
  int bad = 0;
  const char *name = str_arg(a, "name", 0, &bad);
  long long limit = int_arg(a, "limit", 1, 0, &bad);
  return bad ? CMD_USAGE : op_history(c, name, (long)limit, out);
}

/* An invalid file is what status reports, not a failure of the tool. */
static int t_status(struct ctx *c, const cJSON *a, cJSON **out) {
  (void)a;
  int rc = op_status(c, out);
  return rc == CMD_FAILED ? CMD_OK : rc;
}

static int t_sync(struct ctx *c, const cJSON *a, cJSON **out) {
  int bad = 0;
  const char *name = str_arg(a, "name", 0, &bad);
  const cJSON *pages = cJSON_GetObjectItemCaseSensitive(a, "pages");
  const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(a, "timeout");
  if (pages && !cJSON_IsBool(pages)) {
    log_error("argument \"pages\" must be true or false");
    bad = 1;
  }
  if (timeout && (!cJSON_IsNumber(timeout) || timeout->valuedouble < 0)) {
    log_error("argument \"timeout\" must be a number of seconds >= 0");
    bad = 1;
  }
  return bad ? CMD_USAGE
             : op_sync(c, name, cJSON_IsTrue(pages),
                       timeout ? timeout->valuedouble : -1, out);
}

static int t_undo(struct ctx *c, const cJSON *a, cJSON **out) {
  int bad = 0, n = 0;
  const char *name = str_arg(a, "name", 1, &bad);
  const cJSON *vs = cJSON_GetObjectItemCaseSensitive(a, "versions"), *v;
  long long versions[MAX_POS];
  if (!cJSON_IsArray(vs) || cJSON_GetArraySize(vs) < 1 ||
      cJSON_GetArraySize(vs) > MAX_POS) {
    log_error("argument \"versions\" must be an array of 1 to %d versions",
              MAX_POS);
    return CMD_USAGE;
  }
  cJSON_ArrayForEach(v, vs) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
        v->valuedouble != floor(v->valuedouble)) {
      log_error("argument \"versions\" holds something that is not a "
                "version number");
      return CMD_USAGE;
    }
    versions[n++] = (long long)v->valuedouble;
  }
  return bad ? CMD_USAGE : op_undo(c, name, versions, n, out);
}

static int t_errors(struct ctx *c, const cJSON *a, cJSON **out) {
  int bad = 0;
  const char *name = str_arg(a, "name", 0, &bad);
  long long since = int_arg(a, "since", 1, -1, &bad);
  return bad ? CMD_USAGE : op_errors(c, name, since, out);
}

struct tool {
  const char *name, *title, *description;
  const char *input, *output; /* JSON Schemas */
  int read_only;
  int (*run)(struct ctx *c, const cJSON *args, cJSON **out);
};

static const struct tool tools[] = {
    {"get_state", "Read the app's state",
     "Read the live state of the app (or one value in it, by JSON Pointer) "
     "with its version. It is what the open pages show and what the "
     "state's JSON file holds.",
     get_in, get_out, 1, t_get},
    {"set_value", "Set a value",
     "Set one value of the live state at a JSON Pointer (\"\" replaces the "
     "whole state, /items/- appends). The pages show it at once and the "
     "file is rewritten; it merges with the user's changes like a file "
     "edit. Returns the new version; a value already there spends none.",
     set_in, ACK_SCHEMA, 0, t_set},
    {"apply_patch", "Apply a JSON Patch",
     "Apply RFC 6902 operations to a state, all or none. Put test "
     "operations first to change it only if it still is what you read "
     "(array indices shift when the user adds or removes items); if any "
     "operation fails nothing is applied and the error says which.",
     patch_in, ACK_SCHEMA, 0, t_patch},
    {"history", "What changed, and who changed it",
     "The recent versions of a state, oldest first, each with its origin "
     "(file: a save of the file; client:ID: the user in a page; api: the "
     "CLI or these tools; panel: the devtools panel), its operations and "
     "their inverse. Use it to see what the user did and which version to "
     "undo.",
     history_in, history_out, 1, t_history},
    {"status", "What is mirrored",
     "The server this project uses: its states, their files, versions, "
     "and whether each file parses (status invalid, with line and column), "
     "the event log, the start directory and the URL.",
     status_in, status_out, 1, t_status},
    {"sync", "Confirm the server took the file",
     "Call after editing a state's file yourself: returns as soon as the "
     "server has taken in the file's current bytes, with status applied "
     "(a new version), unchanged, or invalid (line, column and the line "
     "of the JSON error: fix the file and call sync again). With pages: "
     "true it also waits until every open page applied that version, and "
     "reports errors the pages raised.",
     sync_in, sync_out, 0, t_sync},
    {"undo", "Undo changes, keep the later ones",
     "Undo the changes made at the given versions of a state and keep "
     "every later change, the user's included. If a later change touched "
     "the same value nothing is undone and the conflicting paths are "
     "listed. Prefer it to restoring an old version, which would drop the "
     "user's work.",
     undo_in, undo_out, 0, t_undo},
    {"page_errors", "Errors the pages raised",
     "Errors the app's open pages reported: uncaught exceptions, "
     "unhandled promise rejections and console.error, with the stack, the "
     "page's URL and the state versions it showed. Use after a change to "
     "learn whether the app broke.",
     errors_in, errors_out, 1, t_errors},
};

#define NTOOLS (sizeof tools / sizeof tools[0])

cJSON *mcp_tools_list(void) {
  cJSON *list = cJSON_CreateArray();
  for (size_t i = 0; i < NTOOLS; i++) {
    const struct tool *t = &tools[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", t->name);
    cJSON_AddStringToObject(o, "title", t->title);
    cJSON_AddStringToObject(o, "description", t->description);
    cJSON_AddItemToObject(o, "inputSchema", cJSON_Parse(t->input));
    if (t->output)
      cJSON_AddItemToObject(o, "outputSchema", cJSON_Parse(t->output));
    cJSON *ann = cJSON_AddObjectToObject(o, "annotations");
    cJSON_AddBoolToObject(ann, "readOnlyHint", t->read_only);
    if (!t->read_only) cJSON_AddFalseToObject(ann, "destructiveHint");
    cJSON_AddFalseToObject(ann, "openWorldHint");
    cJSON_AddItemToArray(list, o);
  }
  return list;
}

/* The messages an operation logs, one per line. */
struct notes {
  char *text;
  size_t len;
};

static void take_note(enum log_level level, const char *line, void *arg) {
  struct notes *n = arg;
  static const char *const prefix[] = {"error: ", "warning: ", "", ""};
  size_t add = strlen(prefix[level]) + strlen(line) + 2;
  char *p = realloc(n->text, n->len + add);
  if (!p) return;
  n->text = p;
  n->len += (size_t)snprintf(n->text + n->len, add, "%s%s%s",
                             n->len ? "\n" : "", prefix[level], line);
}

static void add_text(cJSON *content, const char *text) {
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "type", "text");
  cJSON_AddStringToObject(t, "text", text);
  cJSON_AddItemToArray(content, t);
}

cJSON *mcp_tools_call(const struct opts *base, const char *name,
                      const cJSON *args) {
  const struct tool *t = NULL;
  for (size_t i = 0; i < NTOOLS && !t; i++)
    if (!strcmp(tools[i].name, name)) t = &tools[i];
  if (!t) return NULL;
  struct ctx c;
  memset(&c, 0, sizeof c);
  c.o.url = base->url;
  c.o.token = base->token;
  c.o.state_dir = base->state_dir;
  c.o.timeout = -1;
  c.o.since = -1;
  struct notes notes = {0};
  cJSON *out = NULL;
  log_set_sink(take_note, &notes);
  int rc = t->run(&c, args, &out);
  log_set_sink(NULL, NULL);
  target_free(&c.t);

  cJSON *r = cJSON_CreateObject();
  cJSON *content = cJSON_AddArrayToObject(r, "content");
  size_t len;
  char *json = out ? json_print_compact(out, &len) : NULL;
  if (rc == CMD_OK) {
    add_text(content, json ? json : "{}");
    if (notes.text) add_text(content, notes.text);
    if (out && t->output)
      cJSON_AddItemToObject(r, "structuredContent", out);
    else
      cJSON_Delete(out);
  } else {
    /* The error first: it is what the agent must act on. */
    add_text(content, notes.text ? notes.text : "the operation failed");
    if (json) add_text(content, json);
    cJSON_AddTrueToObject(r, "isError");
    cJSON_Delete(out);
  }
  free(json);
  free(notes.text);
  return r;
}
