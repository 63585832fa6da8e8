/* mirrorstate mcp: a Model Context Protocol server on stdin and stdout
 * (JSON-RPC 2.0, one message per line), so that agents that speak MCP use
 * the same operations as the CLI as tools. It answers initialize, ping,
 * tools/list and tools/call; the tools are in mcp_tools.c. Each tool call
 * finds the server afresh, as a CLI command would, so it may start after
 * the MCP server. Messages for people go to stderr; stdout carries
 * JSON-RPC only. */
#include "mcp.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "commands_int.h"
#include "json.h"
#include "log.h"

#define MCP_MAX_LINE ((size_t)64 << 20)

/* JSON-RPC error codes. */
enum {
  RPC_PARSE_ERROR = -32700,
  RPC_INVALID_REQUEST = -32600,
  RPC_METHOD_NOT_FOUND = -32601,
  RPC_INVALID_PARAMS = -32602,
};

/* Newest first; an initialize asking for another gets the newest. */
static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                       NULL};

static const char instructions[] =
    "MirrorState keeps a running browser app's state and a JSON file "
    "identical, both ways. Read the state with get_state (or the file); "
    "change it with set_value or apply_patch, or by editing the file and "
    "then calling sync, which says at once whether the server took the "
    "file (applied, unchanged, or invalid with line and column). Call "
    "sync with pages=true to know the open pages applied it, and "
    "page_errors to see whether the app threw. history shows what the "
    "user did; undo takes back one change and keeps the later ones. "
    "status lists the states, their files and whether each parses.";

static void send_msg(cJSON *m) {
  size_t len;
  char *text = json_print_compact(m, &len);
  cJSON_Delete(m);
  if (!text) return;
  fwrite(text, 1, len, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  free(text);
}

static cJSON *envelope(const cJSON *id) {
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "jsonrpc", "2.0");
  cJSON_AddItemToObject(m, "id",
                        id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
  return m;
}

static void send_result(const cJSON *id, cJSON *result) {
  cJSON *m = envelope(id);
  cJSON_AddItemToObject(m, "result", result);
  send_msg(m);
}

static void send_error(const cJSON *id, int code, const char *message) {
  cJSON *m = envelope(id);
  cJSON *e = cJSON_AddObjectToObject(m, "error");
  cJSON_AddNumberToObject(e, "code", code);
  cJSON_AddStringToObject(e, "message", message);
  send_msg(m);
}

static cJSON *initialize(const cJSON *params) {
  const char *asked = cmd_str_item(params, "protocolVersion");
  const char *v = versions[0];
  for (int i = 0; asked && versions[i]; i++)
    if (!strcmp(asked, versions[i])) v = versions[i];
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "protocolVersion", v);
  cJSON *caps = cJSON_AddObjectToObject(r, "capabilities");
  cJSON *tools = cJSON_AddObjectToObject(caps, "tools");
  cJSON_AddFalseToObject(tools, "listChanged");
  cJSON *info = cJSON_AddObjectToObject(r, "serverInfo");
  cJSON_AddStringToObject(info, "name", "mirrorstate");
  cJSON_AddStringToObject(info, "title", "MirrorState");
  cJSON_AddStringToObject(info, "version", MS_VERSION);
  cJSON_AddStringToObject(r, "instructions", instructions);
  return r;
}

static void on_request(const struct opts *base, const char *method,
                       const cJSON *id, const cJSON *params) {
  if (!strcmp(method, "initialize")) {
    send_result(id, initialize(params));
  } else if (!strcmp(method, "ping")) {
    send_result(id, cJSON_CreateObject());
  } else if (!strcmp(method, "tools/list")) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "tools", mcp_tools_list());
    send_result(id, r);
  } else if (!strcmp(method, "tools/call")) {
    const char *name = cmd_str_item(params, "name");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
    char why[300];
    if (!name) {
      send_error(id, RPC_INVALID_PARAMS, "tools/call needs params.name");
    } else if (args && !cJSON_IsObject(args) && !cJSON_IsNull(args)) {
      send_error(id, RPC_INVALID_PARAMS, "params.arguments must be an object");
    } else {
      cJSON *r = mcp_tools_call(base, name, cJSON_IsObject(args) ? args : NULL);
      snprintf(why, sizeof why, "Unknown tool: %.200s", name);
      if (r)
        send_result(id, r);
      else
        send_error(id, RPC_INVALID_PARAMS, why);
    }
  } else {
    char why[300];
    snprintf(why, sizeof why, "Method not found: %.200s", method);
    send_error(id, RPC_METHOD_NOT_FOUND, why);
  }
}

static void on_line(const struct opts *base, const char *line, size_t len) {
  struct json_error err;
  cJSON *m = json_parse(line, len, &err);
  if (!m) {
    char why[300];
    snprintf(why, sizeof why, "Parse error: %s at line %d, column %d",
             err.message, err.line, err.column);
    send_error(NULL, RPC_PARSE_ERROR, why);
    return;
  }
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
  const char *method = cmd_str_item(m, "method");
  const char *version = cmd_str_item(m, "jsonrpc");
  int id_ok = cJSON_IsString(id) || cJSON_IsNumber(id);
  if (cJSON_IsArray(m)) {
    send_error(NULL, RPC_INVALID_REQUEST,
               "Invalid Request: batches are not supported (protocol "
               "2025-06-18 and later)");
  } else if (!cJSON_IsObject(m) || !version || strcmp(version, "2.0")) {
    send_error(id_ok ? id : NULL, RPC_INVALID_REQUEST,
               "Invalid Request: not a JSON-RPC 2.0 message");
  } else if (!method) {
    /* A response: this server sends no requests, so there is nothing to
     * match it with. A malformed message with an id gets an error. */
    if (id_ok && !cJSON_GetObjectItemCaseSensitive(m, "result") &&
        !cJSON_GetObjectItemCaseSensitive(m, "error"))
      send_error(id, RPC_INVALID_REQUEST, "Invalid Request: no method");
  } else if (!id) {
    /* Notifications (initialized, cancelled, ...) need no answer; calls
     * run one at a time, so there is nothing to cancel. */
  } else if (!id_ok) {
    send_error(NULL, RPC_INVALID_REQUEST,
               "Invalid Request: id must be a string or a number");
  } else {
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(m, "params");
    if (params && !cJSON_IsObject(params))
      send_error(id, RPC_INVALID_PARAMS, "params must be an object");
    else
      on_request(base, method, id, params);
  }
  cJSON_Delete(m);
}

int cmd_mcp(struct ctx *c) {
  /* A client that goes away ends the server through EOF or a failed
   * write, not through SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  log_info("MCP server on stdin/stdout (protocol %s); the tools find the "
           "server as the CLI does",
           versions[0]);
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  int ch, too_long = 0;
  if (!buf) return CMD_FAILED;
  while ((ch = getchar()) != EOF) {
    if (ch != '\n') {
      if (n + 1 >= cap && !too_long) {
        char *p = cap < MCP_MAX_LINE ? realloc(buf, cap * 2) : NULL;
        if (p) {
          buf = p;
          cap *= 2;
        } else {
          too_long = 1;
        }
      }
      if (!too_long) buf[n++] = (char)ch;
      continue;
    }
    if (too_long) {
      send_error(NULL, RPC_PARSE_ERROR, "Parse error: message too large");
    } else if (n > 0 && !(n == 1 && buf[0] == '\r')) {
      buf[n] = '\0';
      on_line(&c->o, buf, n);
    }
    n = 0;
    too_long = 0;
    if (ferror(stdout)) break;
  }
  free(buf);
  return CMD_OK;
}
