/* The command line's tables, the help printer and the suggestions. The man
 * page and the completion scripts are printed by usage_gen.c. */
#include "usage.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

#define S USAGE_SERVE
#define R USAGE_REMOTE

const struct usage_command usage_commands[] = {
    {"serve", "--file PATH | --dir DIR [options]",
     "mirror JSON files to browsers (WebSocket + HTTP)", S, 0},
    {"get", "[NAME] [POINTER]", "print a state, or the value at a JSON Pointer",
     R, 1},
    {"set", "NAME POINTER JSON_VALUE",
     "set the value at a JSON Pointer (\"\" is the whole state)", R, 1},
    {"patch", "NAME OPS", "apply a JSON Patch (RFC 6902) array", R, 1},
    {"sync", "[NAME] [--pages] [--timeout S]",
     "return as soon as the server took in the file: applied, unchanged or "
     "invalid (with --pages, once every page applied it)",
     R | USAGE_SYNC, 1},
    {"watch", "[NAME] [options]",
     "print one JSON line per change until --timeout; --once: the first "
     "batch only",
     R | USAGE_WATCH, 1},
    {"history", "[NAME] [-n N]", "list recent versions, oldest first",
     R | USAGE_HISTORY, 1},
    {"undo", "NAME VERSION...",
     "undo the changes made at those versions and keep every later change "
     "(nothing is undone if a later change touched the same value)",
     R, 1},
    {"reset", "NAME VERSION",
     "bring the whole state back to VERSION, discarding every later change "
     "(it lists them); prefer undo",
     R, 1},
    {"revert", "NAME VERSION",
     "the old name of reset: the whole state back to VERSION; prefer undo", R,
     1},
    {"errors", "[NAME] [--since V] [--watch]",
     "print the errors the app's pages reported (uncaught errors, "
     "rejections, console.error) as JSON lines",
     R | USAGE_ERRORS, 1},
    {"status", "[--names | --all]",
     "the server, its states, clients, file errors and event log; --all: "
     "every server of yours",
     R | USAGE_STATUS, 0},
    {"agent-md", "",
     "print the guide for coding agents, after what this project mirrors "
     "when a server runs for it",
     R, 0},
    {"mcp", "",
     "serve the Model Context Protocol on stdin and stdout: the same "
     "operations as tools for agents that speak MCP",
     R, 0},
    {"completion", "bash|zsh|fish", "print a shell completion script", 0, 0},
    {"manpage", "", "print this manual page (roff)", 0, 0},
    {"help", "[COMMAND]", "this help, or a command's", 0, 0},
    {"version", "", "print the version", 0, 0},
    {NULL, NULL, NULL, 0, 0},
};

const struct usage_option usage_options[] = {
    /* serve */
    {"file", 0, "PATH", S, OPT_FILE, VAL_FILE, NULL,
     "mirror this file; its state is named by the base name without .json "
     "(repeatable; the file need not exist yet)"},
    {"dir", 0, "DIR", S, OPT_DIR, VAL_DIR, NULL,
     "mirror every *.json below DIR, named by relative path without .json "
     "(repeatable)"},
    {"port", 0, "N", S, OPT_PORT, VAL_WORD, "7420",
     "port to listen on; 0 picks a free one"},
    {"host", 0, "ADDR", S, OPT_HOST, VAL_WORD, "127.0.0.1",
     "address of this machine to bind (repeatable); 'tailscale': loopback "
     "and the tailscale0 addresses, followed as they come and go"},
    {"allow-host", 0, "NAME", S, OPT_ALLOW_HOST, VAL_WORD, NULL,
     "also accept this Host name (repeatable)"},
    {"allow-origin", 0, "URL", S, OPT_ALLOW_ORIGIN, VAL_WORD, NULL,
     "also accept requests from this Origin: http(s)://HOST[:PORT], or "
     "http(s)://HOST:* for any port (repeatable)"},
    {"token", 0, "TOKEN", S, OPT_TOKEN, VAL_WORD, "$MIRRORSTATE_TOKEN",
     "require this token on the WebSocket and the API, sent as ?token= or "
     "Authorization: Bearer"},
    {"token-file", 0, "PATH", S, OPT_TOKEN_FILE, VAL_FILE, NULL,
     "read the token from the first line of PATH, e.g. "
     "%d/token for a systemd credential"},
    {"static", 0, "DIR", S, OPT_STATIC, VAL_DIR, NULL,
     "serve an app's files at / (never dot-paths or mirrored files; the "
     "token applies when set)"},
    {"open", 0, NULL, S, OPT_OPEN, VAL_NONE, NULL,
     "open the panel (the app with --static) in a browser once listening"},
    {"write-delay", 0, "MS", S, OPT_WRITE_DELAY, VAL_WORD, "0",
     "coalesce file writes over MS milliseconds"},
    {"settle", 0, "MS", S, OPT_SETTLE, VAL_WORD, "20",
     "wait this long for an invalid file to become valid before reporting "
     "it, as an editor may be mid-save"},
    {"max-message", 0, "SIZE", S, OPT_MAX_MESSAGE, VAL_WORD, "32MiB",
     "largest WebSocket message"},
    {"max-pending", 0, "SIZE", S, OPT_MAX_PENDING, VAL_WORD, "64MiB",
     "unsent output after which a client that stopped reading is dropped"},
    {"max-state", 0, "SIZE", S, OPT_MAX_STATE, VAL_WORD, "256MiB",
     "largest state, measured as its file is written; held for the file "
     "read, the state in memory and every change"},
    {"max-ops", 0, "N", S, OPT_MAX_OPS, VAL_WORD, "100000",
     "most operations in one patch; more is too_large"},
    {"max-clients", 0, "N", S, OPT_MAX_CLIENTS, VAL_WORD, "4096",
     "most connections at once"},
    {"history", 0, "N", S, OPT_HISTORY, VAL_WORD, "100",
     "versions kept per state for history, undo and reset"},
    {"history-bytes", 0, "SIZE", S, OPT_HISTORY_BYTES, VAL_WORD, "64MiB",
     "memory the history of all states may take; the oldest entries go "
     "first; 0: no byte limit"},
    {"max-states", 0, "N", S, OPT_MAX_STATES, VAL_WORD, "10000",
     "most states at once; further names under --dir are refused"},
    {"follow-symlinks", 0, NULL, S, OPT_FOLLOW_SYMLINKS, VAL_NONE, NULL,
     "follow symbolic links that lead outside a --dir or a --file's "
     "directory (default: refused)"},
    {"log", 0, "FILE", S, OPT_LOG, VAL_FILE, NULL,
     "append one JSON line per change and per file error to FILE"},
    {"verbose", 'v', NULL, S, 'v', VAL_NONE, NULL, "log every change"},
    {"quiet", 'q', NULL, S, 'q', VAL_NONE, NULL,
     "log only warnings and errors"},
    /* the commands that talk to a server */
    {"url", 0, "URL", R, OPT_URL, VAL_WORD, NULL,
     "the server (else $MIRRORSTATE_URL, else the one that mirrors files "
     "here or below, was started here or above, or has its "
     ".mirrorstate/server.json here or above, else http://127.0.0.1:7420)"},
    {"state-dir", 0, "DIR", R, OPT_STATE_DIR, VAL_DIR, NULL,
     "find the server as if started in DIR, e.g. the directory of the "
     "state's file, when several belong here"},
    {"token", 0, "TOKEN", R, OPT_TOKEN, VAL_WORD, "$MIRRORSTATE_TOKEN",
     "the server's token"},
    {"pretty", 'p', NULL, R, OPT_PRETTY, VAL_NONE, NULL,
     "indented JSON and tables instead of JSON lines"},
    {"origin", 0, "ORIGIN", USAGE_WATCH, OPT_ORIGIN, VAL_WORD, NULL,
     "keep changes from this origin only: file, client, panel or api"},
    {"once", 0, NULL, USAGE_WATCH, OPT_ONCE, VAL_NONE, NULL,
     "exit after the first batch of changes: all that --since finds, or the "
     "changes that arrive together"},
    {"since", 0, "VERSION", USAGE_WATCH | USAGE_ERRORS, OPT_SINCE, VAL_WORD,
     NULL,
     "watch: first print the changes after VERSION from the history; "
     "errors: only errors raised while a page showed VERSION or later"},
    {"timeout", 0, "S", USAGE_WATCH | USAGE_SYNC | USAGE_ERRORS, OPT_TIMEOUT,
     VAL_WORD, NULL,
     "stop after S seconds (watch: exit 1 if nothing was printed; sync: "
     "default 10, then exit 1)"},
    {"pages", 0, NULL, USAGE_SYNC, OPT_PAGES, VAL_NONE, NULL,
     "also wait until every connected page applied the version, and say how "
     "many did"},
    {"watch", 0, NULL, USAGE_ERRORS, OPT_FOLLOW, VAL_NONE, NULL,
     "go on printing new page errors as they come, until --timeout"},
    {"limit", 'n', "N", USAGE_HISTORY, OPT_LIMIT, VAL_WORD, NULL,
     "the last N versions only"},
    {"names", 0, NULL, USAGE_STATUS, OPT_NAMES, VAL_NONE, NULL,
     "print the state names only, one per line (for scripts and shell "
     "completion)"},
    {"all", 0, NULL, USAGE_STATUS, OPT_ALL, VAL_NONE, NULL,
     "every running server of yours, one JSON line each, from the registry "
     "in $XDG_RUNTIME_DIR/mirrorstate (or /tmp/mirrorstate-UID)"},
    /* everywhere */
    {"help", 'h', NULL, USAGE_TOP | S | R, OPT_HELP, VAL_NONE, NULL,
     "print help and exit"},
    {"version", 0, NULL, USAGE_TOP, OPT_VERSION, VAL_NONE, NULL,
     "print the version and exit"},
    {NULL, 0, NULL, 0, 0, VAL_NONE, NULL, NULL},
};

#undef S
#undef R

const struct usage_command *usage_find_command(const char *name) {
  for (const struct usage_command *c = usage_commands; c->name; c++)
    if (strcmp(c->name, name) == 0) return c;
  return NULL;
}

const struct usage_option *usage_find_option(const char *arg, unsigned scope) {
  if (arg[0] != '-' || !arg[1]) return NULL;
  for (const struct usage_option *o = usage_options; o->name; o++) {
    if (!(o->scope & scope)) continue;
    if (arg[1] != '-') {
      if (o->short_name && arg[1] == o->short_name && !arg[2]) return o;
      continue;
    }
    size_t n = strlen(o->name);
    if (strncmp(arg + 2, o->name, n) == 0 &&
        (arg[2 + n] == '\0' || (arg[2 + n] == '=' && o->arg)))
      return o;
  }
  return NULL;
}

int usage_distance(const char *a, const char *b) {
  enum { MAX = 64 };
  size_t la = strlen(a), lb = strlen(b);
  if (la >= MAX || lb >= MAX) return 100;
  int d[MAX + 1][MAX + 1];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      int cost = a[i - 1] != b[j - 1];
      int v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  }
  return d[la][lb];
}

/* Close enough to be a typo: at most 2 edits, and about a third of the
 * name at most, so a short word is not matched to anything. */
static int close_enough(const char *name, int dist) {
  int len = (int)strlen(name);
  return dist <= 2 && dist * 3 <= len + 1;
}

void usage_unknown_command(const char *name) {
  const char *best = NULL;
  int best_d = 100;
  for (const struct usage_command *c = usage_commands; c->name; c++) {
    int d = usage_distance(name, c->name);
    /* A command typed as an option ("--status") is one edit or two away
     * but plainly meant. */
    if (strncmp(name, "--", 2) == 0 && strcmp(name + 2, c->name) == 0) d = 0;
    if (d < best_d) best_d = d, best = c->name;
  }
  if (best && close_enough(best, best_d))
    log_error("unknown command '%s'; did you mean '%s'? (see mirrorstate "
              "--help)",
              name, best);
  else
    log_error("unknown command '%s' (see mirrorstate --help)", name);
}

/* The commands that take option o, as "serve" or "watch, sync". */
static const char *owner(const struct usage_option *o) {
  static char buf[200];
  if (o->scope & USAGE_REMOTE) return "get, set, patch, watch, status...";
  size_t n = 0;
  buf[0] = '\0';
  for (const struct usage_command *c = usage_commands; c->name; c++)
    if ((c->scope & o->scope & ~(unsigned)USAGE_REMOTE) && n + 40 < sizeof buf)
      n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? ", " : "",
                            c->name);
  return n ? buf : NULL;
}

void usage_unknown_option(const char *arg, unsigned scope, const char *what) {
  char typed[128], see[64], where[80] = "";
  snprintf(typed, sizeof typed, "%s", arg);
  typed[strcspn(typed, "=")] = '\0';
  snprintf(see, sizeof see, "mirrorstate %s%s", what ? "help " : "--help",
           what ? what : "");
  if (what) snprintf(where, sizeof where, " for %s", what);
  const struct usage_option *other = usage_find_option(typed, ~0u);
  if (what && other && owner(other)) {
    log_error("%s is not an option of %s, but of %s (see %s)", typed, what,
              owner(other), see);
    return;
  }
  const char *best = NULL;
  int best_d = 100;
  const char *bare = typed + (typed[1] == '-' ? 2 : 1);
  for (const struct usage_option *o = usage_options; o->name; o++) {
    if (!(o->scope & scope)) continue;
    int d = usage_distance(bare, o->name);
    if (d < best_d) best_d = d, best = o->name;
  }
  if (best && close_enough(best, best_d))
    log_error("unknown option '%s'%s; did you mean '--%s'? (see %s)", typed,
              where, best, see);
  else
    log_error("unknown option '%s'%s (see %s)", typed, where, see);
}

/* --- help ------------------------------------------------------------------
 */

/* Prints text wrapped at 79 columns, the first line after a column of
 * width indent that the caller has filled up to col. */
static void wrap(FILE *f, const char *text, int col, int indent) {
  const char *p = text;
  if (col > indent - 2) { /* at least two spaces between the columns */
    fputc('\n', f);
    col = 0;
  }
  fprintf(f, "%*s", indent - col, "");
  col = indent;
  while (*p) {
    size_t w = strcspn(p, " ");
    if (col > indent && col + 1 + (int)w > 79) {
      fprintf(f, "\n%*s", indent, "");
      col = indent;
    } else if (col > indent) {
      fputc(' ', f);
      col++;
    }
    fwrite(p, 1, w, f);
    col += (int)w;
    p += w;
    while (*p == ' ')
      p++;
  }
  fputc('\n', f);
}

/* "  --file PATH" or "  -v, --verbose"; returns the column reached. */
static int option_label(FILE *f, const struct usage_option *o) {
  int n;
  if (o->short_name)
    n = fprintf(f, "  -%c, --%s", o->short_name, o->name);
  else
    n = fprintf(f, "  --%s", o->name);
  if (o->arg) n += fprintf(f, " %s", o->arg);
  return n;
}

static void print_options(FILE *f, unsigned scope, unsigned not_scope) {
  for (const struct usage_option *o = usage_options; o->name; o++) {
    if (!(o->scope & scope) || (o->scope & not_scope)) continue;
    char help[600];
    if (o->dflt)
      snprintf(help, sizeof help, "%s (default %s)", o->help, o->dflt);
    else
      snprintf(help, sizeof help, "%s", o->help);
    wrap(f, help, option_label(f, o), 24);
  }
}

void usage_print_help(FILE *f) {
  fputs("Usage: mirrorstate <command> [options]\n"
        "\n"
        "Keeps a running browser app's state and a JSON file identical, "
        "both\nways, in real time.\n\nCommands:\n",
        f);
  for (const struct usage_command *c = usage_commands; c->name; c++) {
    char label[128];
    snprintf(label, sizeof label, "  %s %s", c->name, c->args);
    fputs(label, f);
    wrap(f, c->summary, (int)strlen(label), 26);
  }
  fputs("\nserve options:\n", f);
  print_options(f, USAGE_SERVE, USAGE_TOP);
  fputs("\nOptions of the commands that talk to a running server:\n", f);
  print_options(f, USAGE_REMOTE, USAGE_TOP);
  fputs("\nwatch options:\n", f);
  print_options(f, USAGE_WATCH, 0);
  fputs("\nhistory options:\n", f);
  print_options(f, USAGE_HISTORY, 0);
  fputs("\nstatus options:\n", f);
  print_options(f, USAGE_STATUS, 0);
  fputs("\nsync options:\n", f);
  print_options(f, USAGE_SYNC, 0);
  fputs("\nerrors options:\n", f);
  print_options(f, USAGE_ERRORS, 0);
  fputs("\nGeneral options:\n", f);
  print_options(f, USAGE_TOP, 0);
  fputs("\nOptions may come before or after the command. A SIZE is a number "
        "of bytes\nwith an optional unit: K, M, G (or KiB, MiB, GiB) are "
        "powers of 1024;\nKB, MB, GB are powers of 1000 (64MiB, 10MB, 1k).\n"
        "\nExit status: 0 ok; 1 not found, conflict, timeout, an invalid "
        "file (sync,\nstatus), or serve could not listen (a busy port, a "
        "--host address not\nthis machine's) or found a file mirrored "
        "already; 2 usage or configuration\nerror (serve: one file named "
        "twice, too); 3 no server reachable, it\nrefused us, or it is too "
        "old for the command.\n"
        "\nOn start, serve prints one URL per line, e.g.\n"
        "  http://127.0.0.1:7420/_mirrorstate/\n"
        "More: man mirrorstate, mirrorstate help COMMAND.\n",
        f);
}

void usage_print_command_help(FILE *f, const struct usage_command *c) {
  fprintf(f, "usage: mirrorstate %s%s%s\n\n", c->name, *c->args ? " " : "",
          c->args);
  wrap(f, c->summary, 0, 2);
  if (c->scope) {
    fputs("\noptions:\n", f);
    print_options(f, c->scope, 0);
  }
  if (c->scope & USAGE_REMOTE)
    fputs("\nOptions may come anywhere; -- ends them. (see mirrorstate "
          "--help)\n",
          f);
}
