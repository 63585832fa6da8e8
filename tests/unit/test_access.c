/* Host and Origin rules, tailnet names, token, cookie and page URLs: the
 * pure checks of access.c, by table. */
#include "access.h"
#include "check.h"

static struct access *make(const char *const *allow_hosts, int nhosts,
                           const char *const *allow_origins, int norigins) {
  struct config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.hosts[cfg.nhosts++] = "127.0.0.1";
  for (int i = 0; i < nhosts; i++)
    cfg.allow_hosts[cfg.nallow_hosts++] = allow_hosts[i];
  for (int i = 0; i < norigins; i++)
    cfg.allow_origins[cfg.nallow_origins++] = allow_origins[i];
  cfg.token = "s3cret";
  struct access *a;
  return access_new(&cfg, &a) == 0 ? a : NULL;
}

static void expect(int got, int want, const char *what, const char *value) {
  check_count++;
  if (got != want) {
    check_failures++;
    fprintf(stderr, "%s \"%s\": %s, wanted %s\n", what, value,
            got ? "allowed" : "refused", want ? "allowed" : "refused");
  }
}

static void test_authority(void) {
  static const struct {
    const char *in, *host;
    int port;
  } good[] = {
      {"localhost", "localhost", -1},
      {"LocalHost:7420", "localhost", 7420},
      {"localhost.", "localhost", -1},
      {"[::1]", "::1", -1},
      {"[0:0:0:0:0:0:0:1]:80", "::1", 80},
      {"127.0.0.1:65535", "127.0.0.1", 65535},
      {"my_box-1.example", "my_box-1.example", -1},
  };
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    char out[ACCESS_HOST_MAX];
    int port = 0;
    CHECK(access_parse_authority(good[i].in, strlen(good[i].in), out,
                                 sizeof out, &port) == 0);
    CHECK_STR(out, good[i].host);
    CHECK(port == good[i].port);
  }
  static const char *const bad[] = {
      "",
      ":80",
      "localhost:",
      "localhost:0",
      "localhost:65536",
      "localhost:+1",
      "localhost:1:2",
      "local host",
      "user@localhost",
      "localhost..",
      ".localhost",
      "a..b",
      "[::1",
      "[::1]x",
      "[::1]:",
      "[fe80::1%25lo]",
      "::1",
      "localhos%74",
      "localhost/",
      "localhost\\",
      "a,b",
      "\xc3\xa9.test",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char out[ACCESS_HOST_MAX];
    int port;
    expect(access_parse_authority(bad[i], strlen(bad[i]), out, sizeof out,
                                  &port) == 0,
           0, "authority", bad[i]);
  }
  char label[80], out[ACCESS_HOST_MAX];
  int port;
  memset(label, 'a', 64);
  label[64] = '\0';
  expect(access_parse_authority(label, 64, out, sizeof out, &port) == 0, 0,
         "authority", "64-byte label");
  expect(access_parse_authority(label, 63, out, sizeof out, &port) == 0, 1,
         "authority", "63-byte label");
}

static void test_hosts_and_origins(void) {
  static const char *const hosts[] = {"myapp.test"};
  static const char *const origins[] = {"http://app.test:*",
                                        "https://exact.test"};
  struct access *a = make(hosts, 1, origins, 2);
  CHECK(a != NULL);
  if (!a) return;
  static const struct {
    const char *host;
    int ok;
  } h[] = {
      {"localhost", 1},
      {"127.0.0.1:9", 1},
      {"[::1]:9", 1},
      {"app.localhost", 1},
      {"MYAPP.TEST", 1},
      {"myapp.test.", 1},
      {"evil.example", 0},
      {"localhost.evil", 0},
      {"myapp.test.evil", 0},
      {"localhost:abc", 0},
      {"", 0},
      {"vm.tail1.ts.net", 0},
  };
  for (size_t i = 0; i < sizeof h / sizeof *h; i++)
    expect(access_host_ok(a, h[i].host), h[i].ok, "Host", h[i].host);
  expect(access_host_ok(a, NULL), 0, "Host", "(absent)");

  static const struct {
    const char *origin;
    int ok;
  } o[] = {
      {"http://localhost:3000", 1},
      {"HTTPS://LOCALHOST", 1},
      {"http://myapp.test:1", 1},
      {"http://app.test:8080", 1},
      {"http://app.test", 1},
      {"https://exact.test", 1},
      {"https://exact.test:443", 1},
      {"", 0},
      {"null", 0},
      {"http://localhost:3000/", 0},
      {"http://user@localhost", 0},
      {"ws://localhost", 0},
      {"https://app.test:8080", 0},
      {"https://exact.test:8443", 0},
      {"http://exact.test", 0},
      {"http://app.test.evil:1", 0},
      {"http://localhost:3000#x", 0},
      {"http://localhost?x", 0},
  };
  for (size_t i = 0; i < sizeof o / sizeof *o; i++)
    expect(access_origin_ok(a, o[i].origin), o[i].ok, "Origin", o[i].origin);
  expect(access_origin_ok(a, NULL), 1, "Origin", "(absent)");
  access_free(a);
}

static void test_tailnet(void) {
  struct access *a = make(NULL, 0, NULL, 0);
  CHECK(a != NULL);
  if (!a) return;
  expect(access_host_ok(a, "devbox.tail1.ts.net"), 0, "Host",
         "devbox.tail1.ts.net (no tailnet yet)");
  access_set_tailnet_name(a, "devbox.tail1.ts.net.");
  expect(access_host_ok(a, "devbox.tail1.ts.net"), 1, "Host",
         "devbox.tail1.ts.net");
  expect(access_host_ok(a, "devbox"), 1, "Host", "devbox");
  expect(access_host_ok(a, "devbox.tail-attacker.ts.net"), 0, "Host",
         "devbox.tail-attacker.ts.net");
  expect(access_origin_ok(a, "https://devbox.tail1.ts.net"), 1, "Origin",
         "https://devbox.tail1.ts.net");
  access_clear_tailnet(a);
  expect(access_host_ok(a, "devbox.tail1.ts.net"), 0, "Host",
         "devbox.tail1.ts.net (cleared)");
  if (access_hostname(a)[0]) {
    char name[300];
    access_add_tailnet_domain(a, "tail2.ts.net");
    snprintf(name, sizeof name, "%s.tail2.ts.net", access_hostname(a));
    expect(access_host_ok(a, name), 1, "Host", name);
    snprintf(name, sizeof name, "%s.tail3.ts.net", access_hostname(a));
    expect(access_host_ok(a, name), 0, "Host", name);
  }
  access_free(a);
}

static void test_token_cookie_page(void) {
  struct access *a = make(NULL, 0, NULL, 0);
  CHECK(a != NULL);
  if (!a) return;
  CHECK(access_token_ok(a, "s3cret", NULL));
  CHECK(access_token_ok(a, NULL, "Bearer s3cret"));
  CHECK(access_token_ok(a, NULL, "bearer s3cret"));
  CHECK(!access_token_ok(a, "s3cre", NULL));
  CHECK(!access_token_ok(a, "s3crett", NULL));
  CHECK(!access_token_ok(a, NULL, "Basic s3cret"));
  CHECK(!access_token_ok(a, NULL, NULL));
  access_free(a);

  CHECK(access_cookie_ok("a=1; ms_1=k3y", "ms_1", "k3y"));
  CHECK(access_cookie_ok("ms_1=k3y", "ms_1", "k3y"));
  CHECK(!access_cookie_ok("ms_1=k3", "ms_1", "k3y"));
  CHECK(!access_cookie_ok("xms_1=k3y", "ms_1", "k3y"));
  CHECK(!access_cookie_ok("ms_12=k3y", "ms_1", "k3y"));
  CHECK(!access_cookie_ok("", "ms_1", "k3y"));

  static const char *const pages[][2] = {
      {"http://h:1/p?token=x#y", "http://h:1/p"},
      {"http://u:p@h/p#t", "http://h/p"},
      {"http://h/a@b?c", "http://h/a@b"},
      {"about:blank", "about:blank"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
    char *got = access_page_url(pages[i][0]);
    CHECK_STR(got, pages[i][1]);
    free(got);
  }
  CHECK(access_page_url(NULL) == NULL);
}

int main(void) {
  test_authority();
  test_hosts_and_origins();
  test_tailnet();
  test_token_cookie_page();
  return CHECK_DONE();
}
