/* Tests for the JSON printer and parser. Expected texts under
 * tests/fixtures/json/ come from Node (generate.mjs there); the test runs
 * from the repository root. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"

#define FIXTURES "tests/fixtures/json/"

/* Reads a whole file into an exactly sized buffer, with no NUL after it,
 * so a parser that reads past the end is caught by the sanitizers. */
static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static cJSON *parse_str(const char *s, struct json_error *err) {
  size_t len = strlen(s);
  char *copy = malloc(len ? len : 1);
  memcpy(copy, s, len);
  cJSON *v = json_parse(copy, len, err);
  free(copy);
  return v;
}

static void test_number_corpus(void) {
  size_t len;
  char *text = read_file(FIXTURES "numbers.txt", &len);
  CHECK(text != NULL);
  if (!text) return;
  int lines = 0, bad = 0;
  for (char *p = text, *end = text + len; p < end;) {
    char *tab = memchr(p, '\t', (size_t)(end - p));
    char *nl = tab ? memchr(tab, '\n', (size_t)(end - tab)) : NULL;
    if (!nl) break;
    char input[64], want[64], got[32];
    snprintf(input, sizeof input, "%.*s", (int)(tab - p), p);
    snprintf(want, sizeof want, "%.*s", (int)(nl - tab - 1), tab + 1);
    int n = json_format_number(strtod(input, NULL), got);
    if (strcmp(got, want) != 0 || n != (int)strlen(want)) {
      if (bad++ < 10) CHECK_STR(got, want);
    }
    lines++;
    p = nl + 1;
  }
  CHECK(bad == 0);
  CHECK(lines > 4000);
  free(text);
}

static void test_number_specials(void) {
  char out[32];
  CHECK(json_format_number(NAN, out) == 4);
  CHECK_STR(out, "null");
  json_format_number(INFINITY, out);
  CHECK_STR(out, "null");
  json_format_number(-INFINITY, out);
  CHECK_STR(out, "null");
  json_format_number(-0.0, out);
  CHECK_STR(out, "0");
  json_format_number(1e21, out);
  CHECK_STR(out, "1e+21");
  json_format_number(1e-7, out);
  CHECK_STR(out, "1e-7");
  json_format_number(123456789012345680000.0, out);
  CHECK_STR(out, "123456789012345680000");
  json_format_number(-1.7976931348623157e308, out);
  CHECK_STR(out, "-1.7976931348623157e+308");
  json_format_number(-2.2250738585072014e-308, out);
  CHECK_STR(out, "-2.2250738585072014e-308");
  json_format_number(-5e-324, out);
  CHECK_STR(out, "-5e-324");
}

static const char *const value_names[] = {
    "scalars",         "strings",    "empties",
    "mixed",           "deep",       "deep_objects",
    "top_string",      "top_number", "top_empty_object",
    "top_empty_array", "key_order",  "duplicate_keys",
    "whitespace"};

static void check_printed(const char *name, const char *kind, char *got,
                          size_t got_len) {
  char path[256];
  size_t want_len;
  snprintf(path, sizeof path, FIXTURES "values/%s.%s", name, kind);
  char *want = read_file(path, &want_len);
  CHECK(want != NULL && got != NULL);
  if (want && got) {
    /* The compact fixture ends with a newline for readability. */
    if (strcmp(kind, "compact") == 0) want_len--;
    int same = got_len == want_len && memcmp(got, want, want_len) == 0;
    if (!same) fprintf(stderr, "%s.%s differs: got\n%s\n", name, kind, got);
    CHECK(same);
  }
  free(want);
}

static void test_value_corpus(void) {
  for (size_t i = 0; i < sizeof value_names / sizeof *value_names; i++) {
    const char *name = value_names[i];
    char path[256];
    size_t len, out_len = 0;
    snprintf(path, sizeof path, FIXTURES "values/%s.json", name);
    char *text = read_file(path, &len);
    CHECK(text != NULL);
    if (!text) continue;
    struct json_error err;
    cJSON *v = json_parse(text, len, &err);
    if (!v)
      fprintf(stderr, "%s: %d:%d %s\n", name, err.line, err.column,
              err.message);
    CHECK(v != NULL);
    char *pretty = json_print_pretty(v, &out_len);
    check_printed(name, "pretty", pretty, out_len);
    char *compact = json_print_compact(v, &out_len);
    check_printed(name, "compact", compact, out_len);
    /* The printed text parses back to an equal tree. */
    cJSON *again = json_parse(pretty, strlen(pretty), NULL);
    CHECK(json_equal(v, again));
    cJSON_Delete(again);
    free(pretty);
    free(compact);
    cJSON_Delete(v);
    free(text);
  }
}

static void test_print_special_nodes(void) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddItemToObject(root, "raw", cJSON_CreateRaw("{\"pre\":[1,2]}"));
  cJSON_AddItemToObject(root, "nan", cJSON_CreateNumber(NAN));
  cJSON *s = cJSON_CreateString("x");
  cJSON_free(s->valuestring);
  s->valuestring = NULL;
  cJSON_AddItemToObject(root, "nullstr", s);
  size_t len = 0;
  char *out = json_print_compact(root, &len);
  CHECK_STR(out, "{\"raw\":{\"pre\":[1,2]},\"nan\":null,\"nullstr\":\"\"}");
  CHECK(out && len == strlen(out));
  free(out);
  out = json_print_pretty(root, NULL);
  CHECK_STR(out, "{\n  \"raw\": {\"pre\":[1,2]},\n  \"nan\": null,\n"
                 "  \"nullstr\": \"\"\n}\n");
  free(out);
  cJSON_Delete(root);
  out = json_print_pretty(NULL, &len);
  CHECK_STR(out, "null\n");
  free(out);
}

struct parse_case {
  const char *text;
  int line, column;
  const char *message;
};

/* Positions agree with what JSON.parse in Node 20 reports (its 0-based
 * position plus one is the column), except where noted. */
static const struct parse_case parse_errors[] = {
    {"", 1, 1, "unexpected end of input"},
    {"  \n  ", 2, 3, "unexpected end of input"},
    {"{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3, "expected ',' or '}'"},
    {"[1 2]", 1, 4, "expected ',' or ']'"},
    {"[1,2,]", 1, 6, "trailing comma before ']'"},
    {"{\n  \"a\": 1,\n}\n", 3, 1, "trailing comma before '}'"},
    {"{\"a\":\"xx", 1, 9, "unterminated string"},
    {"{\"a\": \"xx,\n \"b\": 2}", 1, 11, "line break inside a string"},
    {"{a:1}", 1, 2, "expected a double-quoted property name"},
    {"{'a':1}", 1, 2, "unexpected character '''"},
    {"{\"a\" 1}", 1, 6, "expected ':'"},
    {"{\"a\":}", 1, 6, "unexpected character '}'"},
    {"{\"a\":1", 1, 7, "unexpected end of input"},
    {"{\n  \"list\": [\n    1,\n    2\n", 5, 1, "unexpected end of input"},
    {"[1]x", 1, 4, "trailing characters after the JSON value"},
    {"{\"a\":1}}", 1, 8, "trailing characters after the JSON value"},
    {"01", 1, 2, "leading zeros"},
    {"-", 1, 2, "unexpected end of input"},
    {"-x", 1, 2, "expected a digit after '-'"},
    {"1.", 1, 3, "unexpected end of input"},
    {"1.e5", 1, 3, "expected a digit after the decimal point"},
    {"1e+", 1, 4, "unexpected end of input"},
    {"+1", 1, 1, "unexpected character '+'"},
    {".5", 1, 1, "unexpected character '.'"},
    {"tru", 1, 4, "unexpected end of input"},
    /* Node reports "truex" after the literal; a misspelt word is shown at
     * its first wrong letter. */
    {"[trux]", 1, 5, "unexpected character 'x'"},
    {"True", 1, 1, "unexpected character 'T'"},
    {"\"a\tb\"", 1, 3, "control character inside a string"},
    {"\"\\x\"", 1, 3, "unexpected character 'x' after a backslash"},
    {"\"\\u12\"", 1, 6, "bad \\u escape"},
    {"\"ab\\", 1, 5, "unterminated string"},
    {"\x01 1", 1, 1, "unexpected byte 0x01"},
    {"{\"a\":\xe2\x80\x9cx\xe2\x80\x9d}", 1, 6,
     "unexpected character '\xe2\x80\x9c'"},
    /* Valid for JSON.parse, but not representable in cJSON's C strings. */
    {"[\"a\\u0000b\"]", 1, 4, "\\u0000 in a string is not supported"},
    {"\"\\ud800\"", 1, 2, "unpaired surrogate"},
    {"\"\\udc00\\ud800\"", 1, 2, "unpaired surrogate"},
    /* Invalid UTF-8 would break the browser's WebSocket text frames. */
    {"\"a\xff\"", 1, 3, "invalid UTF-8"},
    {"\"\xc0\xaf\"", 1, 2, "invalid UTF-8"},
    {"\"\xed\xa0\x80\"", 1, 2, "invalid UTF-8"},
    {"\"\xe2\x82\"", 1, 2, "invalid UTF-8"},
    {"1 \x00", 1, 3, "trailing characters"},
};

static void test_parse_errors(void) {
  for (size_t i = 0; i < sizeof parse_errors / sizeof *parse_errors; i++) {
    const struct parse_case *c = &parse_errors[i];
    struct json_error err = {0};
    size_t len = strlen(c->text);
    if (strcmp(c->text, "1 ") == 0) len = 3; /* keeps the NUL byte */
    char *copy = malloc(len ? len : 1);
    memcpy(copy, c->text, len);
    cJSON *v = json_parse(copy, len, &err);
    free(copy);
    CHECK(v == NULL);
    cJSON_Delete(v);
    if (err.line != c->line || err.column != c->column ||
        !strstr(err.message, c->message)) {
      fprintf(stderr, "case %zu: got %d:%d %s, want %d:%d %s\n", i, err.line,
              err.column, err.message, c->line, c->column, c->message);
      CHECK(0);
    }
    CHECK(err.offset <= strlen(c->text) + 1);
  }
  CHECK(json_parse("[", 1, NULL) == NULL);
}

static void test_parse_accepts(void) {
  struct json_error err;
  cJSON *v =
      parse_str("\xef\xbb\xbf {\"a\":[1,2.5e3,-0,true,false,null]} \n", &err);
  CHECK(v != NULL);
  char *out = json_print_compact(v, NULL);
  CHECK_STR(out, "{\"a\":[1,2500,0,true,false,null]}");
  free(out);
  cJSON_Delete(v);
  /* A short document after a byte order mark. */
  v = parse_str("\xef\xbb\xbf"
                "1",
                &err);
  CHECK(v && v->valuedouble == 1);
  cJSON_Delete(v);
  /* Long numbers and numbers beyond the double range, as JSON.parse. */
  v = parse_str("[3.14159265358979323846264338327950288419716939937510582097"
                "4944592307816406286, 1e400, -1e400, 1e-400]",
                &err);
  CHECK(v != NULL);
  out = json_print_compact(v, NULL);
  CHECK_STR(out, "[3.141592653589793,null,null,0]");
  free(out);
  cJSON_Delete(v);
  /* Escapes are decoded, and an escaped key folds with a plain one. */
  v = parse_str("{\"\\u0061\":1,\"a\":\"\\ud83d\\ude00\\n\"}", &err);
  CHECK(v != NULL);
  out = json_print_compact(v, NULL);
  CHECK_STR(out, "{\"a\":\"\xf0\x9f\x98\x80\\n\"}");
  free(out);
  cJSON_Delete(v);
}

static void test_duplicate_keys_many(void) {
  /* Large objects go through the hash set: 3000 keys, 1000 distinct, the
   * last value of each wins at the place of its first. */
  size_t cap = 100000, len = 0;
  char *text = malloc(cap);
  text[len++] = '{';
  for (int i = 0; i < 3000; i++)
    len += (size_t)snprintf(text + len, cap - len, "%s\"k%d\":%d", i ? "," : "",
                            i % 1000, i);
  text[len++] = '}';
  cJSON *v = json_parse(text, len, NULL);
  CHECK(v != NULL);
  CHECK(cJSON_GetArraySize(v) == 1000);
  CHECK(strcmp(v->child->string, "k0") == 0 && v->child->valuedouble == 2000);
  CHECK(cJSON_GetObjectItemCaseSensitive(v, "k999")->valuedouble == 2999);
  cJSON_Delete(v);
  free(text);
}

static void test_nesting_limit(void) {
  char *text = malloc(2004);
  for (int depth = 1000; depth <= 1001; depth++) {
    memset(text, '[', (size_t)depth);
    memset(text + depth, ']', (size_t)depth);
    struct json_error err;
    cJSON *v = json_parse(text, 2 * (size_t)depth, &err);
    if (depth == 1000) {
      CHECK(v != NULL);
    } else {
      CHECK(v == NULL);
      CHECK(err.column == 1001);
      CHECK(strstr(err.message, "1000") != NULL);
    }
    cJSON_Delete(v);
  }
  free(text);
}

static void test_equal(void) {
  cJSON *a = parse_str("{\"x\":[1,{\"y\":null}],\"z\":\"s\"}", NULL);
  cJSON *b = parse_str("{\"z\":\"s\",\"x\":[1,{\"y\":null}]}", NULL);
  cJSON *c = parse_str("{\"z\":\"s\",\"x\":[{\"y\":null},1]}", NULL);
  cJSON *d = parse_str("{\"z\":\"s\"}", NULL);
  CHECK(json_equal(a, b));
  CHECK(!json_equal(a, c));
  CHECK(!json_equal(a, d) && !json_equal(d, a));
  CHECK(json_equal(NULL, NULL) && !json_equal(a, NULL));
  cJSON_Delete(a);
  cJSON_Delete(b);
  cJSON_Delete(c);
  cJSON_Delete(d);
}

/* Strings the server makes itself may hold invalid UTF-8 (a file path, a
 * client's text cut short): the printer writes U+FFFD for each bad byte and
 * keeps valid sequences, so its output always parses. */
static void test_print_invalid_utf8(void) {
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},           /* valid: kept */
      {"\xe0\xb8", "\"\xef\xbf\xbd\xef\xbf\xbd\""}, /* cut short */
      {"a\xff"
       "b",
       "\"a\xef\xbf\xbd"
       "b\""}, /* stray byte */
      {"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
      {"\xf0\x9f\x98\x80!", "\"\xf0\x9f\x98\x80!\""}, /* emoji */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cJSON *v = cJSON_CreateString(cases[i].in);
    size_t len;
    char *out = json_print_compact(v, &len);
    CHECK_STR(out, cases[i].want);
    cJSON *back = out ? json_parse(out, len, NULL) : NULL;
    CHECK(back != NULL);
    cJSON_Delete(back);
    free(out);
    cJSON_Delete(v);
  }
}

int main(void) {
  test_print_invalid_utf8();
  test_number_corpus();
  test_number_specials();
  test_value_corpus();
  test_print_special_nodes();
  test_parse_errors();
  test_parse_accepts();
  test_duplicate_keys_many();
  test_nesting_limit();
  test_equal();
  return CHECK_DONE();
}
