/* The driver's results: the table and the JSON file. */
#include "cdriver.h"

/* ---- results ----------------------------------------------------------------
 */

struct row rows[MAX_ROWS];
int nrows;
int nservers;
struct server_def servers[MAX_SERVERS];

static struct row *row_for(const char *scenario, const char *metric,
                           const char *goal, int nvals, int higher_better) {
  for (int i = 0; i < nrows; i++)
    if (!strcmp(rows[i].scenario, scenario) && !strcmp(rows[i].metric, metric))
      return &rows[i];
  if (nrows == MAX_ROWS) return NULL;
  struct row *r = &rows[nrows++];
  memset(r, 0, sizeof *r);
  snprintf(r->scenario, sizeof r->scenario, "%s", scenario);
  snprintf(r->metric, sizeof r->metric, "%s", metric);
  snprintf(r->goal, sizeof r->goal, "%s", goal ? goal : "");
  r->nvals = nvals;
  r->higher_better = higher_better;
  return r;
}

void put(int srv, const char *scenario, const char *metric, const char *goal,
         int higher_better, double a) {
  struct row *r = row_for(scenario, metric, goal, 1, higher_better);
  if (!r) return;
  r->v[srv][0] = a;
  r->has[srv] = 1;
}

void put2(int srv, const char *scenario, const char *metric, const char *goal,
          double a, double b) {
  struct row *r = row_for(scenario, metric, goal, 2, 0);
  if (!r) return;
  r->v[srv][0] = a;
  r->v[srv][1] = b;
  r->has[srv] = 1;
}

static void fmt_num(char *out, size_t n, double v) {
  if (isnan(v))
    snprintf(out, n, "-");
  else if (fabs(v) >= 1000)
    snprintf(out, n, "%.0f", v);
  else if (fabs(v) >= 100)
    snprintf(out, n, "%.0f", v);
  else if (fabs(v) >= 10)
    snprintf(out, n, "%.1f", v);
  else
    snprintf(out, n, "%.3g", v);
}

static void fmt_cell(char *out, size_t n, const struct row *r, int s) {
  if (!r->has[s]) {
    snprintf(out, n, "-");
    return;
  }
  char a[24], b[24];
  fmt_num(a, sizeof a, r->v[s][0]);
  if (r->nvals == 1) {
    snprintf(out, n, "%s", a);
    return;
  }
  fmt_num(b, sizeof b, r->v[s][1]);
  snprintf(out, n, "%s / %s", a, b);
}

void print_table(void) {
  printf("\n| scenario | metric |");
  for (int s = 0; s < nservers; s++)
    printf(" %s |", servers[s].label);
  for (int s = 1; s < nservers; s++)
    printf(" %s / %s |", servers[s].label, servers[0].label);
  printf(" goal (%s) |\n|---|---|", servers[0].label);
  for (int s = 0; s < 2 * nservers; s++)
    printf("---|");
  printf("\n");
  for (int i = 0; i < nrows; i++) {
    struct row *r = &rows[i];
    printf("| %s | %s |", r->scenario, r->metric);
    for (int s = 0; s < nservers; s++) {
      char cell[64];
      fmt_cell(cell, sizeof cell, r, s);
      printf(" %s |", cell);
    }
    /* Ratios: how many times better the first server is. */
    for (int s = 1; s < nservers; s++) {
      if (!r->has[0] || !r->has[s]) {
        printf(" - |");
        continue;
      }
      char a[24] = "-", b[24] = "-";
      for (int k = 0; k < r->nvals; k++) {
        double x = r->v[0][k], y = r->v[s][k];
        double q = r->higher_better ? x / y : y / x;
        if (x > 0 && y > 0 && isfinite(q)) snprintf(k ? b : a, 24, "%.1fx", q);
      }
      if (r->nvals == 2)
        printf(" %s / %s |", a, b);
      else
        printf(" %s |", a);
    }
    printf(" %s |\n", r->goal[0] ? r->goal : "");
  }
  printf("\nRatios: the other server's figure over %s's (for rates, %s's over "
         "the other's): above 1x %s is ahead.\n",
         servers[0].label, servers[0].label, servers[0].label);
}

void write_json(const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    return;
  }
  double la[3] = {0};
  getloadavg(la, 3);
  fprintf(f, "{\"load\":[%.2f,%.2f,%.2f],\"servers\":[", la[0], la[1], la[2]);
  for (int s = 0; s < nservers; s++)
    fprintf(f, "%s\"%s\"", s ? "," : "", servers[s].label);
  fprintf(f, "],\"rows\":[");
  for (int i = 0; i < nrows; i++) {
    struct row *r = &rows[i];
    fprintf(f, "%s\n{\"scenario\":\"%s\",\"metric\":\"%s\",\"values\":[",
            i ? "," : "", r->scenario, r->metric);
    for (int s = 0; s < nservers; s++) {
      if (s) fprintf(f, ",");
      if (!r->has[s])
        fprintf(f, "null");
      else if (r->nvals == 1)
        fprintf(f, "%.6g", r->v[s][0]);
      else
        fprintf(f, "[%.6g,%.6g]", r->v[s][0], r->v[s][1]);
    }
    fprintf(f, "]}");
  }
  fprintf(f, "]}\n");
  fclose(f);
}
