/* The MCP tools (mcp_tools.c), for the JSON-RPC server of mcp.c. Each
 * tool is a row of one table: name, description, the JSON Schemas of its
 * input and output, and a function that runs one of the operations of
 * commands_int.h. */
#ifndef MS_MCP_H
#define MS_MCP_H

#include <cJSON.h>

struct opts;

/* The "tools" array of a tools/list result (caller frees). */
cJSON *mcp_tools_list(void);

/* Runs the tool called name with args (an object, or NULL) against the
 * server that base's --url, --token and --state-dir find, and returns a
 * CallToolResult {"content", "structuredContent"?, "isError"?} (caller
 * frees), or NULL when there is no such tool. */
cJSON *mcp_tools_call(const struct opts *base, const char *name,
                      const cJSON *args);

#endif
