/* Finding the server a command talks to (see discover.h). */
#include "discover.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "registry.h"
#include "runtime.h"

#define TOKEN_FILE_MAX 4096

struct candidate {
  cJSON *entry; /* registry entry (borrowed from the list), or NULL */
  cJSON *rt;    /* the runtime file found by the walk (owned), or NULL */
  char rt_path[PATH_MAX + 64];
  int dist; /* directory levels between it and here */
};

static const char *str_item(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Levels from parent down to child (0: the same directory), or -1 when
 * child is not at or below parent. Both absolute. */
static int levels_below(const char *child, const char *parent) {
  if (!strcmp(child, parent)) return 0;
  size_t n = strcmp(parent, "/") ? strlen(parent) : 0;
  if (strncmp(child, parent, n) != 0 || child[n] != '/') return -1;
  int lv = 0;
  for (const char *p = child + n; *p; p++)
    lv += *p == '/';
  return lv;
}

/* The directory part of path; out may be path. */
static void dir_of(const char *path, char *out, size_t outlen) {
  size_t n = strlen(path);
  if (n >= outlen) n = outlen - 1;
  memmove(out, path, n);
  out[n] = '\0';
  char *slash = strrchr(out, '/');
  if (slash == out)
    out[1] = '\0';
  else if (slash)
    *slash = '\0';
}

static void better(int *best, int d) {
  if (d >= 0 && (*best < 0 || d < *best)) *best = d;
}

/* How near the server of entry is to here (see discover.h), or -1. */
static int entry_distance(const cJSON *e, const char *here) {
  char dir[PATH_MAX];
  int best = -1;
  const cJSON *p;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(e, "files")) {
    if (!cJSON_IsString(p)) continue;
    dir_of(p->valuestring, dir, sizeof dir);
    better(&best, levels_below(dir, here));
  }
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(e, "dirs")) {
    if (!cJSON_IsString(p)) continue;
    better(&best, levels_below(p->valuestring, here));
    better(&best, levels_below(here, p->valuestring));
  }
  const char *start = str_item(e, "start_dir");
  if (start && *start) better(&best, levels_below(here, start));
  const char *rt = str_item(e, "runtime");
  if (rt) {
    dir_of(rt, dir, sizeof dir); /* .../.mirrorstate */
    dir_of(dir, dir, sizeof dir);
    better(&best, levels_below(here, dir));
  }
  return best;
}

static int pid_gone(const cJSON *o) {
  const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
  return cJSON_IsNumber(pid) && pid->valuedouble > 0 &&
         kill((pid_t)pid->valuedouble, 0) != 0 && errno == ESRCH;
}

void discover_relative(const char *path, const char *base, char *out,
                       size_t outlen) {
  if (path[0] != '/' || base[0] != '/') {
    snprintf(out, outlen, "%s", path);
    return;
  }
  /* Past the components both share, up the rest of base, down the rest
   * of path. */
  const char *p = path, *b = base;
  for (;;) {
    while (*p == '/')
      p++;
    while (*b == '/')
      b++;
    size_t lp = strcspn(p, "/"), lb = strcspn(b, "/");
    if (!lp || lp != lb || strncmp(p, b, lp) != 0) break;
    p += lp;
    b += lb;
  }
  size_t o = 0;
  out[0] = '\0';
  while (*b && o + 4 < outlen) {
    o += (size_t)snprintf(out + o, outlen - o, "%s..", o ? "/" : "");
    b += strcspn(b, "/");
    while (*b == '/')
      b++;
  }
  if (*p)
    snprintf(out + o, outlen - o, "%s%s", o ? "/" : "", p);
  else if (!o)
    snprintf(out, outlen, ".");
}

/* "pid 12, http://127.0.0.1:7420, mirrors app/state.json" */
static void describe(const struct candidate *c, const char *here, char *out,
                     size_t outlen) {
  const cJSON *o = c->entry ? c->entry : c->rt;
  const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
  const char *url = str_item(o, "url");
  size_t n = (size_t)snprintf(out, outlen, "pid %.0f, %s",
                              cJSON_IsNumber(pid) ? pid->valuedouble : 0,
                              url ? url : "?");
  const cJSON *f;
  int first = 1;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(c->entry, "files")) {
    char rel[PATH_MAX];
    if (!cJSON_IsString(f) || n + 20 > outlen) continue;
    discover_relative(f->valuestring, here, rel, sizeof rel);
    n += (size_t)snprintf(out + n, outlen - n, "%s%s",
                          first ? ", mirrors " : " ", rel);
    first = 0;
  }
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(c->entry, "dirs")) {
    char rel[PATH_MAX];
    if (!cJSON_IsString(f) || n + 20 > outlen) continue;
    discover_relative(f->valuestring, here, rel, sizeof rel);
    n += (size_t)snprintf(out + n, outlen - n, "%s--dir %s",
                          first ? ", mirrors " : " ", rel);
    first = 0;
  }
  if (!c->entry && n + 20 < outlen &&
      (size_t)snprintf(out + n, outlen - n, ", from %s", c->rt_path) >=
          outlen - n)
    out[outlen - 1] = '\0';
}

/* Reads the first line of a token file, if it is a readable regular file
 * of reasonable size. */
static void read_token_file(const char *path, char *out, size_t outlen) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  struct stat sb;
  if (fd < 0) return;
  if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
      sb.st_size < TOKEN_FILE_MAX) {
    char buf[TOKEN_FILE_MAX + 1];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n > 0) {
      buf[n] = '\0';
      buf[strcspn(buf, "\r\n")] = '\0';
      snprintf(out, outlen, "%s", buf);
    }
  }
  close(fd);
}

void discover_entry_token(const cJSON *entry, char *out, size_t outlen) {
  out[0] = '\0';
  const char *rt = str_item(entry, "runtime"),
             *ses = str_item(entry, "session");
  cJSON *r = rt ? runtime_read(rt) : NULL;
  const char *rses = str_item(r, "session"), *tok = str_item(r, "token");
  if (tok && rses && ses && !strcmp(rses, ses))
    snprintf(out, outlen, "%s", tok);
  cJSON_Delete(r);
  const char *tf = str_item(entry, "token_file");
  if (!out[0] && tf) read_token_file(tf, out, outlen);
}

cJSON *discover_entry_by_session(const char *session) {
  if (!session) return NULL;
  cJSON *list = registry_list(), *e, *found = NULL;
  cJSON_ArrayForEach(e, list) {
    const char *s = str_item(e, "session");
    if (s && !strcmp(s, session)) {
      found = cJSON_Duplicate(e, 1);
      break;
    }
  }
  cJSON_Delete(list);
  return found;
}

/* The candidates from here: every running server of the registry that
 * belongs here, and the runtime file of the walk (merged with its
 * server's entry). Returns how many, in cs (at most max). */
static int candidates(const char *here, cJSON *list, struct candidate *cs,
                      int max) {
  int n = 0;
  cJSON *e;
  cJSON_ArrayForEach(e, list) {
    int d = entry_distance(e, here);
    if (d < 0 || n >= max) continue;
    cs[n++] = (struct candidate){.entry = e, .dist = d};
  }
  char path[PATH_MAX + 64], rdir[PATH_MAX];
  if (runtime_find(here, path, sizeof path) != 0) return n;
  cJSON *rt = runtime_read(path);
  if (!rt) return n;
  dir_of(path, rdir, sizeof rdir);
  dir_of(rdir, rdir, sizeof rdir);
  int d = levels_below(here, rdir);
  const char *ses = str_item(rt, "session");
  for (int i = 0; i < n; i++) {
    const char *s = str_item(cs[i].entry, "session");
    if (s && ses && !strcmp(s, ses)) {
      cs[i].rt = rt;
      snprintf(cs[i].rt_path, sizeof cs[i].rt_path, "%s", path);
      if (d < cs[i].dist) cs[i].dist = d;
      return n;
    }
  }
  /* A runtime file no running server owns: its server died without
   * removing it. It still counts when nothing else does. */
  if (n > 0 && pid_gone(rt)) {
    log_debug("skipping %s: its server (pid %.0f) is gone", path,
              cJSON_GetObjectItemCaseSensitive(rt, "pid")->valuedouble);
    cJSON_Delete(rt);
    return n;
  }
  if (n >= max) {
    cJSON_Delete(rt);
    return n;
  }
  cs[n] = (struct candidate){.rt = rt, .dist = d};
  snprintf(cs[n].rt_path, sizeof cs[n].rt_path, "%s", path);
  return n + 1;
}

/* Nearest first; at the same distance the one whose runtime file was
 * found, then the newest. */
static int cmp_candidates(const void *a, const void *b) {
  const struct candidate *x = a, *y = b;
  if (x->dist != y->dist) return x->dist - y->dist;
  if (!x->rt != !y->rt) return x->rt ? -1 : 1;
  const char *sx = str_item(x->entry, "started"),
             *sy = str_item(y->entry, "started");
  return -strcmp(sx ? sx : "", sy ? sy : "");
}

static void say_choice(const struct candidate *cs, int n, const char *here) {
  char line[2048], one[600];
  describe(&cs[0], here, one, sizeof one);
  size_t o = (size_t)snprintf(
      line, sizeof line, "%d servers belong here; using %s; also:", n, one);
  for (int i = 1; i < n && o + 40 < sizeof line; i++) {
    describe(&cs[i], here, one, sizeof one);
    o += (size_t)snprintf(line + o, sizeof line - o, "%s %s", i > 1 ? ";" : "",
                          one);
  }
  log_info("%s. Choose one with --url URL or --state-dir DIR (mirrorstate "
           "status --all lists them)",
           line);
}

static void use_candidate(struct target *t, const struct candidate *c,
                          const char *env_token) {
  const cJSON *o = c->entry ? c->entry : c->rt;
  const char *url = str_item(o, "url");
  snprintf(t->url, sizeof t->url, "%s", url ? url : DISCOVER_DEFAULT_URL);
  if (!url)
    log_warn("%s has no url; trying %s", c->rt_path, DISCOVER_DEFAULT_URL);
  if (c->rt)
    snprintf(t->from, sizeof t->from, "%s", c->rt_path);
  else
    snprintf(t->from, sizeof t->from, "%s", str_item(c->entry, "entry"));
  t->found = 1;
  if (c->entry) t->entry = cJSON_Duplicate(c->entry, 1);
  /* A found server's token goes to that server only, and only when the
   * user gave none. */
  if (t->token[0] || (env_token && *env_token)) return;
  const char *tok = c->rt ? str_item(c->rt, "token") : NULL;
  if (tok)
    snprintf(t->token, sizeof t->token, "%s", tok);
  else if (c->entry)
    discover_entry_token(c->entry, t->token, sizeof t->token);
}

int discover(const struct discover_opts *o, struct target *t) {
  memset(t, 0, sizeof *t);
  const char *env_url = getenv("MIRRORSTATE_URL");
  const char *env_token = getenv("MIRRORSTATE_TOKEN");
  if (o->token)
    snprintf(t->token, sizeof t->token, "%s", o->token);
  else if (env_token && *env_token)
    snprintf(t->token, sizeof t->token, "%s", env_token);
  if (o->url) {
    snprintf(t->url, sizeof t->url, "%s", o->url);
    snprintf(t->from, sizeof t->from, "--url");
    t->found = 1;
    return 0;
  }
  if (env_url && *env_url && !o->state_dir) {
    snprintf(t->url, sizeof t->url, "%s", env_url);
    snprintf(t->from, sizeof t->from, "MIRRORSTATE_URL");
    t->found = 1;
    return 0;
  }
  char here[PATH_MAX];
  if (o->state_dir) {
    struct stat sb;
    if (!realpath(o->state_dir, here) || stat(here, &sb) != 0 ||
        !S_ISDIR(sb.st_mode)) {
      log_error("--state-dir %s is not a directory", o->state_dir);
      return -1;
    }
  } else if (!getcwd(here, sizeof here)) {
    snprintf(here, sizeof here, "/");
  }
  enum { MAX_CANDIDATES = 64 };
  struct candidate cs[MAX_CANDIDATES];
  cJSON *list = registry_list();
  int n = candidates(here, list, cs, MAX_CANDIDATES);
  if (n == 0) {
    snprintf(t->url, sizeof t->url, "%s", DISCOVER_DEFAULT_URL);
    if ((size_t)snprintf(t->from, sizeof t->from,
                         "the default (no server belongs to %s: none of "
                         "yours mirrors files there or was started there or "
                         "above, and no %s/%s is there or above)",
                         here, RUNTIME_DIR, RUNTIME_FILE) >= sizeof t->from)
      snprintf(t->from, sizeof t->from, "the default");
  } else {
    qsort(cs, (size_t)n, sizeof *cs, cmp_candidates);
    if (n > 1 && !o->quiet) say_choice(cs, n, here);
    use_candidate(t, &cs[0], env_token);
  }
  for (int i = 0; i < n; i++)
    cJSON_Delete(cs[i].rt);
  cJSON_Delete(list);
  return 0;
}

void target_free(struct target *t) {
  cJSON_Delete(t->entry);
  t->entry = NULL;
}
