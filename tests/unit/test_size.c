/* Byte sizes with units, as --max-state and friends take them. */
#include <errno.h>

#include "check.h"
#include "size.h"

static void test_parse(void) {
  static const struct {
    const char *in;
    uint64_t want;
  } good[] = {
      {"0", 0},
      {"1048576", 1048576},
      {"64MiB", 64ull << 20},
      {"64mib", 64ull << 20},
      {"64M", 64ull << 20},
      {"10MB", 10000000},
      {"10mb", 10000000},
      {"1k", 1024},
      {"1K", 1024},
      {"1KiB", 1024},
      {"1kB", 1000},
      {"1KB", 1000},
      {"2G", 2ull << 30},
      {"2GB", 2000000000},
      {"1T", 1ull << 40},
      {"1TB", 1000000000000ull},
      {"512B", 512},
      {"512b", 512},
      {"10 MB", 10000000},
      {"1.5KiB", 1536},
      {"1.5k", 1536},
      {"0.5MB", 500000},
      {"1.1KB", 1100},
      {"1.0001K", 1024}, /* 1024.1024 bytes, rounded down */
      {"18446744073709551615", UINT64_MAX},
  };
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    uint64_t v = 12345;
    int rc = size_parse(good[i].in, &v);
    check_count++;
    if (rc != 0 || v != good[i].want) {
      check_failures++;
      fprintf(stderr, "%s:%d: size_parse(\"%s\") = %d, %llu; want %llu\n",
              __FILE__, __LINE__, good[i].in, rc, (unsigned long long)v,
              (unsigned long long)good[i].want);
    }
  }
  static const char *const bad[] = {
      "",     "MB",    "-1",   "+1",    "1.",   ".5",
      "1..5", "1e6",   "1X",   "1MX",   "1 ",   "1  MB",
      " 1",   "1 M B", "0x10", "1MiBs", "1,5M", "10 mb extra",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    uint64_t v = 7;
    int rc = size_parse(bad[i], &v);
    check_count++;
    if (rc != -EINVAL || v != 7) {
      check_failures++;
      fprintf(stderr, "%s:%d: size_parse(\"%s\") = %d; want -EINVAL\n",
              __FILE__, __LINE__, bad[i], rc);
    }
  }
  uint64_t v;
  CHECK(size_parse("18446744073709551616", &v) == -ERANGE);
  CHECK(size_parse("16777216T", &v) == -ERANGE);
  CHECK(size_parse("99999999999999999999999", &v) == -ERANGE);
}

static void test_format(void) {
  char buf[32];
  size_format(32u << 20, buf, sizeof buf);
  CHECK_STR(buf, "32 MiB");
  size_format(1ull << 34, buf, sizeof buf);
  CHECK_STR(buf, "16 GiB");
  size_format(1024, buf, sizeof buf);
  CHECK_STR(buf, "1 KiB");
  size_format(64, buf, sizeof buf);
  CHECK_STR(buf, "64 bytes");
  size_format(1, buf, sizeof buf);
  CHECK_STR(buf, "1 byte");
  size_format(10000000, buf, sizeof buf);
  CHECK_STR(buf, "10000000 bytes");
  /* What it prints parses back to the same number. */
  uint64_t v = 0;
  size_format(3ull << 30, buf, sizeof buf);
  CHECK(size_parse(buf, &v) == 0 && v == 3ull << 30);
}

int main(void) {
  test_parse();
  test_format();
  return CHECK_DONE();
}
