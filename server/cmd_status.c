/* status (one server, or --all of the user's), and agent-md (the guide,
 * after a header about the server that belongs here). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assets.h"
#include "commands.h"
#include "commands_int.h"
#include "json.h"
#include "log.h"
#include "registry.h"

#define AGENT_MD_MARKER "# Working on an app mirrored by MirrorState"
#define ALL_TIMEOUT_MS 3000

/* path relative to the current directory, for people and agents. */
static void relative(const char *path, char *out, size_t outlen) {
  char cwd[PATH_MAX];
  if (path && getcwd(cwd, sizeof cwd))
    discover_relative(path, cwd, out, outlen);
  else
    snprintf(out, outlen, "%s", path ? path : "");
}

/* Says which states' files are broken; returns how many. */
static int report_file_errors(const cJSON *states, const char *server) {
  int bad = 0;
  const cJSON *s;
  cJSON_ArrayForEach(s, states) {
    const char *st = cmd_str_item(s, "status"), *name = cmd_str_item(s, "name");
    if (!st || (strcmp(st, "invalid") && strcmp(st, "write_failed"))) continue;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(s, "error");
    const char *m = cmd_str_item(e, "message");
    char rel[PATH_MAX];
    cmd_display_path(cmd_str_item(s, "file"), rel, sizeof rel);
    if (!strcmp(st, "invalid"))
      log_error("%s:%.0f:%.0f: the file of state \"%s\"%s%s is not valid "
                "JSON: %s",
                rel, cmd_num_item(e, "line", 0), cmd_num_item(e, "column", 0),
                name ? name : "?", server ? " at " : "", server ? server : "",
                m ? m : "");
    else
      log_error("%s: the server cannot save state \"%s\": %s", rel,
                name ? name : "?", m ? m : "write failed");
    bad++;
  }
  return bad;
}

/* The registry entry of the server that answered with session. */
static cJSON *entry_for(const struct ctx *c, const char *session) {
  const char *s = cmd_str_item(c->t.entry, "session");
  if (s && session && !strcmp(s, session))
    return cJSON_Duplicate(c->t.entry, 1);
  return discover_entry_by_session(session);
}

int op_status(struct ctx *c, cJSON **out) {
  int status;
  cJSON *j;
  *out = cJSON_CreateObject();
  int rc =
      cmd_api(c, "GET", "/_mirrorstate/api/states", NULL, &status, NULL, &j);
  if (!rc && (status != 200 || !cJSON_IsObject(j))) {
    log_error("%s did not answer like a MirrorState server (HTTP %d)", c->t.url,
              status);
    rc = CMD_UNREACHABLE;
  }
  cJSON_AddBoolToObject(*out, "reachable", rc == CMD_OK);
  cJSON_AddStringToObject(*out, "url", c->t.url);
  cJSON_AddStringToObject(*out, "from", c->t.from);
  if (rc) {
    cJSON_Delete(j);
    return rc;
  }
  cJSON *e = entry_for(c, cmd_str_item(j, "session"));
  static const char *const from_entry[] = {"pid", "start_dir", "log"};
  for (size_t i = 0; i < sizeof from_entry / sizeof *from_entry; i++) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(e, from_entry[i]);
    if (v) cJSON_AddItemToObject(*out, from_entry[i], cJSON_Duplicate(v, 1));
  }
  cJSON_Delete(e);
  cJSON *child;
  while ((child = j->child)) {
    cJSON_DetachItemViaPointer(j, child);
    cJSON_AddItemToObject(*out, child->string, child);
  }
  cJSON_Delete(j);
  if (report_file_errors(cJSON_GetObjectItemCaseSensitive(*out, "states"),
                         NULL))
    rc = CMD_FAILED;
  return rc;
}

static void status_table(const cJSON *j) {
  const char *srv = cmd_str_item(j, "server"),
             *ses = cmd_str_item(j, "session");
  printf("server   %s at %s (session %s)\n", srv ? srv : "?",
         cmd_str_item(j, "url"), ses ? ses : "?");
  if (cmd_str_item(j, "start_dir"))
    printf("started  in %s (pid %.0f)\n", cmd_str_item(j, "start_dir"),
           cmd_num_item(j, "pid", 0));
  if (cmd_str_item(j, "log")) printf("log      %s\n", cmd_str_item(j, "log"));
  printf("clients  %.0f connected\n", cmd_num_item(j, "clients", 0));
  printf("\n%-20s %-8s %-14s %s\n", "STATE", "VERSION", "FILE STATUS", "FILE");
  const cJSON *s;
  cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(j, "states")) {
    const char *n = cmd_str_item(s, "name"), *st = cmd_str_item(s, "status"),
               *f = cmd_str_item(s, "file");
    printf("%-20s %-8.0f %-14s %s\n", n ? n : "?",
           cmd_num_item(s, "version", 0), st ? st : "?", f ? f : "");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(s, "error");
    if (cJSON_IsObject(e)) {
      const char *m = cmd_str_item(e, "message");
      printf("%-20s   %s:%.0f:%.0f: %s\n", "", f ? f : n,
             cmd_num_item(e, "line", 0), cmd_num_item(e, "column", 0),
             m ? m : "");
    }
  }
  fflush(stdout);
}

/* The states of the server of a registry entry, quietly: NULL when it
 * does not answer, or refuses (*refused set). */
static cJSON *states_of(const cJSON *entry, const struct ctx *c, int *refused) {
  struct remote_url u;
  const char *url = cmd_str_item(entry, "url");
  *refused = 0;
  if (!url || remote_url_parse(url, &u) != 0) return NULL;
  char token[1024] = "";
  const char *env = getenv("MIRRORSTATE_TOKEN");
  if (c->o.token)
    snprintf(token, sizeof token, "%s", c->o.token);
  else if (env && *env)
    snprintf(token, sizeof token, "%s", env);
  else
    discover_entry_token(entry, token, sizeof token);
  struct remote_reply r;
  int rc = remote_http(&u, token[0] ? token : NULL, "GET",
                       "/_mirrorstate/api/states", NULL, 0, ALL_TIMEOUT_MS, &r);
  if (rc) {
    *refused = rc == -EACCES;
    return NULL;
  }
  *refused = r.status == 401 || r.status == 403;
  cJSON *j = r.status == 200 ? json_parse(r.body, r.len, NULL) : NULL;
  remote_reply_free(&r);
  cJSON *states = cJSON_DetachItemFromObjectCaseSensitive(j, "states");
  cJSON_Delete(j);
  return states;
}

static void all_table(const cJSON *list) {
  printf("%-8s %-28s %-30s %s\n", "PID", "URL", "STARTED IN", "STATES");
  const cJSON *e;
  cJSON_ArrayForEach(e, list) {
    char states[1024] = "", rel[PATH_MAX];
    size_t o = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(e, "states")) {
      const char *st = cmd_str_item(s, "status");
      if (o + 80 >= sizeof states) break;
      o += (size_t)snprintf(
          states + o, sizeof states - o, "%s%s v%.0f%s%s", o ? ", " : "",
          cmd_str_item(s, "name"), cmd_num_item(s, "version", 0),
          st && strcmp(st, "ok") ? " " : "", st && strcmp(st, "ok") ? st : "");
    }
    relative(cmd_str_item(e, "start_dir"), rel, sizeof rel);
    printf("%-8.0f %-28s %-30s %s\n", cmd_num_item(e, "pid", 0),
           cmd_str_item(e, "url"), rel,
           cmd_str_item(e, "error") ? "(refused: token)"
           : cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "reachable"))
               ? states
               : "(not answering)");
  }
  fflush(stdout);
}

/* Every running server of the user, one JSON line each, with its states. */
static int status_all(struct ctx *c) {
  cJSON *list = registry_list(), *e;
  int rc = CMD_OK;
  if (cJSON_GetArraySize(list) == 0) {
    char dir[PATH_MAX];
    if (registry_dir(dir, sizeof dir, 0) == -ENOENT || dir[0] == '\0')
      snprintf(dir, sizeof dir, "(none yet)");
    log_error("no MirrorState server of yours is running (registry %s)", dir);
    cJSON_Delete(list);
    return CMD_FAILED;
  }
  cJSON_ArrayForEach(e, list) {
    cJSON_DeleteItemFromObjectCaseSensitive(e, "entry");
    int refused;
    cJSON *states = states_of(e, c, &refused);
    cJSON_AddBoolToObject(e, "reachable", states != NULL || refused);
    if (states) cJSON_AddItemToObject(e, "states", states);
    if (refused)
      cJSON_AddStringToObject(e, "error",
                              "refused: wrong or missing token (--token, "
                              "MIRRORSTATE_TOKEN)");
    if (report_file_errors(states, cmd_str_item(e, "url"))) rc = CMD_FAILED;
    if (!c->o.pretty) cmd_print_json(e, 0);
  }
  if (c->o.pretty) all_table(list);
  cJSON_Delete(list);
  return rc;
}

/* status always prints one JSON object, even when the server is down, so a
 * script can read "reachable" instead of parsing stderr. */
int cmd_status(struct ctx *c) {
  if (c->o.all) return status_all(c);
  int rc = cmd_connect(c);
  if (rc) return rc;
  if (c->o.names) {
    cJSON *names, *n;
    rc = cmd_state_names(c, &names);
    if (rc) return rc;
    cJSON_ArrayForEach(n, names) printf("%s\n", n->valuestring);
    fflush(stdout);
    cJSON_Delete(names);
    return CMD_OK;
  }
  cJSON *j;
  rc = op_status(c, &j);
  if (c->o.pretty &&
      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "reachable")))
    status_table(j);
  else if (!c->o.pretty)
    cmd_print_json(j, 0);
  cJSON_Delete(j);
  return rc;
}

/* --- agent-md --------------------------------------------------------------
 */

/* "This project": the states of the server that belongs here, with their
 * files relative to here, so that the guide's examples can be run as is. */
static void print_project(const cJSON *st) {
  const cJSON *states = cJSON_GetObjectItemCaseSensitive(st, "states");
  char rel[PATH_MAX];
  printf("# This project: what MirrorState mirrors here now\n\n");
  printf("`mirrorstate serve` is running at %s", cmd_str_item(st, "url"));
  if (cmd_str_item(st, "start_dir")) {
    relative(cmd_str_item(st, "start_dir"), rel, sizeof rel);
    printf(" (pid %.0f, started in `%s`)", cmd_num_item(st, "pid", 0), rel);
  }
  printf(
      ". The `mirrorstate` commands find it from this directory. Its "
      "states, as of now (`mirrorstate status` tells the current ones):\n\n");
  printf("| state | file | version | the file |\n| --- | --- | --- | --- |\n");
  const cJSON *s;
  const char *first = NULL;
  cJSON_ArrayForEach(s, states) {
    const char *name = cmd_str_item(s, "name"),
               *status = cmd_str_item(s, "status");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(s, "error");
    char what[600];
    if (!first) first = name;
    relative(cmd_str_item(s, "file"), rel, sizeof rel);
    if (status && !strcmp(status, "invalid"))
      snprintf(what, sizeof what, "does not parse: line %.0f, column %.0f: %s",
               cmd_num_item(e, "line", 0), cmd_num_item(e, "column", 0),
               cmd_str_item(e, "message") ? cmd_str_item(e, "message") : "");
    else if (status && !strcmp(status, "ok"))
      snprintf(what, sizeof what, "parses");
    else
      snprintf(what, sizeof what, "%s", status ? status : "?");
    printf("| `%s` | `%s` | %.0f | %s |\n", name ? name : "?", rel,
           cmd_num_item(s, "version", 0), what);
  }
  if (cmd_str_item(st, "log")) {
    relative(cmd_str_item(st, "log"), rel, sizeof rel);
    printf("\nThe event log is `%s` (`tail -n 20 %s`).\n", rel, rel);
  } else {
    printf("\nThere is no event log (`serve --log FILE` keeps one); "
           "`mirrorstate history` has the recent versions.\n");
  }
  if (first)
    printf("\nThe loop, with this project's names: `mirrorstate get %s`; "
           "edit the file or `mirrorstate set %s POINTER VALUE`; "
           "`mirrorstate sync %s --pages` (taken in? shown?); `mirrorstate "
           "errors %s --since VERSION` (did the page throw?); `mirrorstate "
           "watch %s --origin client --once --since VERSION` (what did the "
           "user do?); `mirrorstate undo %s VERSION` (take back a change of "
           "yours, keep the user's).\n",
           first, first, first, first, first, first);
  printf("\n");
}

static void drop_message(enum log_level level, const char *line, void *arg) {
  (void)level, (void)line, (void)arg;
}

/* Prints the part of AGENT.md for apps mirrored by MirrorState, from its
 * marker heading to the end; first the header about this project when a
 * server belongs here and answers. */
int cmd_agent_md(struct ctx *c) {
  const struct asset *a = assets_find("AGENT.md");
  if (!a) {
    log_error("this binary was built without AGENT.md");
    return CMD_FAILED;
  }
  if (cmd_connect(c) == CMD_OK && c->t.found) {
    cJSON *st = NULL;
    /* The guide is printed whatever the server says: the header says
     * what matters, so the messages are dropped. */
    log_set_sink(drop_message, NULL);
    int rc = op_status(c, &st);
    log_set_sink(NULL, NULL);
    if (rc == CMD_OK || rc == CMD_FAILED)
      print_project(st);
    else
      log_info("no server answered at %s (from %s): the guide only", c->t.url,
               c->t.from);
    cJSON_Delete(st);
  }
  const char *text = (const char *)a->data, *end = text + a->size;
  const char *p = text;
  size_t mlen = strlen(AGENT_MD_MARKER);
  while (p < end) {
    if ((size_t)(end - p) >= mlen && !memcmp(p, AGENT_MD_MARKER, mlen)) break;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    p = nl ? nl + 1 : end;
  }
  if (p == end) p = text; /* no marker: the whole page beats nothing */
  fwrite(p, 1, (size_t)(end - p), stdout);
  fflush(stdout);
  return CMD_OK;
}
