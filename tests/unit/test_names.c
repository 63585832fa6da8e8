/* State names: which are valid, and how files map to names. */
#include "check.h"
#include "names.h"

static void test_valid(void) {
  static const char *const good[] = {
      "state",    "todo-list", "app/ui", "a/b/c", "v1.2",
      "my state", "user@home", "a+b",    "_x",    "a.json.bak",
  };
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    check_count++;
    if (!name_valid(good[i])) {
      check_failures++;
      fprintf(stderr, "%s:%d: refused valid name '%s'\n", __FILE__, __LINE__,
              good[i]);
    }
  }
}

static void test_invalid(void) {
  static const char *const bad[] = {
      "",
      "/etc/passwd",
      "..",
      "../x",
      "a/../b",
      "a/..",
      "a..b",
      ".hidden",
      "a/.git/x",
      "a//b",
      "a/",
      "/",
      "a\\b",
      "a\nb",
      "a\tb",
      "x?y",
      "x*y",
      "x:y",
      "\xc3\xa9t\xc3\xa9",
      "~/x",
      "$HOME",
      "a%2Fb",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    check_count++;
    if (name_valid(bad[i])) {
      check_failures++;
      fprintf(stderr, "%s:%d: accepted invalid name '%s'\n", __FILE__, __LINE__,
              bad[i]);
    }
  }
  CHECK(!name_valid(NULL));
  char longname[NAME_MAX_LEN + 2];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CHECK(!name_valid(longname));
  longname[NAME_MAX_LEN] = '\0';
  CHECK(name_valid(longname));
}

static void test_relpath(void) {
  char out[NAME_MAX_LEN + 1];
  CHECK(name_from_relpath("state.json", out, sizeof out) == 0);
  CHECK_STR(out, "state");
  CHECK(name_from_relpath("app/ui.json", out, sizeof out) == 0);
  CHECK_STR(out, "app/ui");
  CHECK(name_from_relpath("state.txt", out, sizeof out) != 0);
  CHECK(name_from_relpath(".json", out, sizeof out) != 0);
  CHECK(name_from_relpath(".hidden.json", out, sizeof out) != 0);
  CHECK(name_from_relpath(".git/x.json", out, sizeof out) != 0);
  CHECK(name_from_relpath("node_modules/pkg.json", out, sizeof out) != 0);
  CHECK(name_from_relpath("a/node_modules/pkg.json", out, sizeof out) != 0);
  CHECK(name_from_relpath("../x.json", out, sizeof out) != 0);
  char small[4];
  CHECK(name_from_relpath("longer.json", small, sizeof small) != 0);
}

static void test_file(void) {
  char out[NAME_MAX_LEN + 1];
  CHECK(name_from_file("/home/me/app/state.json", out, sizeof out) == 0);
  CHECK_STR(out, "state");
  CHECK(name_from_file("todo.json", out, sizeof out) == 0);
  CHECK_STR(out, "todo");
  CHECK(name_from_file("dir/settings", out, sizeof out) == 0);
  CHECK_STR(out, "settings");
  CHECK(name_from_file("dir/.hidden.json", out, sizeof out) != 0);
}

int main(void) {
  test_valid();
  test_invalid();
  test_relpath();
  test_file();
  return CHECK_DONE();
}
