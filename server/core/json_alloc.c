/* Chunk arenas for parsed trees (json_alloc.h). */
#include "json_alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cJSON.h>

#if defined(__SANITIZE_ADDRESS__)
#define MS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MS_ASAN 1
#endif
#endif

#ifdef MS_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
/* Each block gets its size in front (to poison it again when freed) and a
 * gap behind, so an overflow lands in poisoned memory. */
#define BLOCK_HEAD 8
#define BLOCK_GAP 8
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define BLOCK_HEAD 0
#define BLOCK_GAP 0
#endif

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define MS_VALGRIND 1
#endif
#endif
#ifndef MS_VALGRIND
#define VALGRIND_MALLOCLIKE_BLOCK(p, n, rz, z) ((void)0)
#define VALGRIND_FREELIKE_BLOCK(p, rz) ((void)0)
#define VALGRIND_MAKE_MEM_NOACCESS(p, n) ((void)0)
#endif

#define CHUNK_SHIFT 18
#define CHUNK_SIZE ((size_t)1 << CHUNK_SHIFT)
/* Larger blocks (long strings) go to malloc: they would waste a chunk. */
#define MAX_BLOCK (CHUNK_SIZE / 16)
#define MAX_CACHED 2

struct chunk {
  size_t live; /* blocks allocated and not freed */
  char *bump;  /* next free byte */
  char *end;   /* of the chunk */
  struct chunk *next_cached;
  char data[] __attribute__((aligned(16)));
};

static int installed;
#ifdef MS_ASAN
static int arena_on = 0;
#else
static int arena_on = 1;
#endif
static int active;           /* between begin and end */
static struct chunk *cur;    /* where the parse arena allocates */
static struct chunk *cached; /* empty chunks kept for reuse */
static size_t ncached, nchunks, live_total;

/* ---- the registry of chunks, by base address ---------------------------
 *
 * Open addressing with linear probing and backward-shift deletion, so a
 * lookup is a multiply and, almost always, one comparison. */

static uintptr_t *reg;
static size_t reg_mask, reg_count;

static size_t reg_slot(uintptr_t base) {
  return (size_t)(((uint64_t)(base >> CHUNK_SHIFT) * 0x9E3779B97F4A7C15ull) >>
                  32) &
         reg_mask;
}

static struct chunk *reg_find(const void *p) {
  if (!reg_count) return NULL;
  uintptr_t base = (uintptr_t)p & ~(uintptr_t)(CHUNK_SIZE - 1);
  for (size_t i = reg_slot(base); reg[i]; i = (i + 1) & reg_mask)
    if (reg[i] == base) return (struct chunk *)base;
  return NULL;
}

static void reg_put(uintptr_t base) {
  size_t i = reg_slot(base);
  while (reg[i])
    i = (i + 1) & reg_mask;
  reg[i] = base;
  reg_count++;
}

static int reg_grow(void) {
  if (reg && (reg_count + 1) * 2 <= reg_mask + 1) return 0;
  size_t cap = reg ? (reg_mask + 1) * 2 : 64;
  uintptr_t *old = reg, *neu = calloc(cap, sizeof *neu);
  size_t oldcap = reg ? reg_mask + 1 : 0;
  if (!neu) return -1;
  reg = neu;
  reg_mask = cap - 1;
  reg_count = 0;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i]) reg_put(old[i]);
  free(old);
  return 0;
}

static void reg_remove(uintptr_t base) {
  size_t i = reg_slot(base);
  while (reg[i] != base)
    i = (i + 1) & reg_mask;
  reg[i] = 0;
  reg_count--;
  /* Move up the entries that probed past the hole. */
  for (size_t j = (i + 1) & reg_mask; reg[j]; j = (j + 1) & reg_mask) {
    size_t home = reg_slot(reg[j]);
    if (((j - home) & reg_mask) >= ((j - i) & reg_mask)) {
      reg[i] = reg[j];
      reg[j] = 0;
      i = j;
    }
  }
}

/* ---- chunks --------------------------------------------------------- */

static void chunk_reset(struct chunk *c) {
  c->bump = c->data;
  POISON(c->data, (size_t)(c->end - c->data));
  VALGRIND_MAKE_MEM_NOACCESS(c->data, (size_t)(c->end - c->data));
}

static struct chunk *chunk_new(void) {
  struct chunk *c = cached;
  if (c) {
    cached = c->next_cached;
    ncached--;
    c->next_cached = NULL;
    return c;
  }
  if (reg_grow() != 0) return NULL;
  /* Twice the size, then the unaligned ends are given back. */
  char *raw = mmap(NULL, 2 * CHUNK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return NULL;
  uintptr_t base =
      ((uintptr_t)raw + CHUNK_SIZE - 1) & ~(uintptr_t)(CHUNK_SIZE - 1);
  size_t head = base - (uintptr_t)raw;
  if (head) munmap(raw, head);
  munmap((char *)base + CHUNK_SIZE, CHUNK_SIZE - head);
  c = (struct chunk *)base;
  c->live = 0;
  c->end = (char *)base + CHUNK_SIZE;
  c->next_cached = NULL;
  chunk_reset(c);
  reg_put(base);
  nchunks++;
  return c;
}

static void chunk_unmap(struct chunk *c) {
  reg_remove((uintptr_t)c);
  nchunks--;
  UNPOISON(c, CHUNK_SIZE);
  munmap(c, CHUNK_SIZE);
}

/* A chunk whose last block was freed. */
static void chunk_release(struct chunk *c) {
  chunk_reset(c);
  if (c == cur) return; /* the parse arena goes on from its start */
  if (ncached < MAX_CACHED) {
    c->next_cached = cached;
    cached = c;
    ncached++;
    return;
  }
  chunk_unmap(c);
}

/* ---- the hooks ---------------------------------------------------------- */

static void *arena_alloc(size_t n) {
  size_t need = BLOCK_HEAD + n + BLOCK_GAP;
  for (int tries = 0; tries < 2; tries++) {
    if (cur) {
      /* Nodes (multiples of 8 bytes) are aligned; strings are packed. */
      char *p = cur->bump;
      if ((n & 7) == 0 || BLOCK_HEAD)
        p = (char *)(((uintptr_t)p + 7) & ~(uintptr_t)7);
      if (p + need <= cur->end) {
        cur->bump = p + need;
        cur->live++;
        live_total++;
        p += BLOCK_HEAD;
        UNPOISON(p - BLOCK_HEAD, BLOCK_HEAD + n);
#ifdef MS_ASAN
        memcpy(p - BLOCK_HEAD, &n, sizeof n);
#endif
        VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, 0);
        return p;
      }
      /* Full: leave it to its blocks; it goes when the last is freed. */
      struct chunk *full = cur;
      cur = NULL;
      if (full->live == 0) chunk_release(full);
    }
    if (!(cur = chunk_new())) break;
  }
  return malloc(n);
}

static void *hook_malloc(size_t n) {
  if (active && arena_on && n <= MAX_BLOCK) return arena_alloc(n);
  return malloc(n);
}

static void hook_free(void *p) {
  struct chunk *c = reg_find(p);
  if (!c) {
    free(p);
    return;
  }
  VALGRIND_FREELIKE_BLOCK(p, 0);
#ifdef MS_ASAN
  size_t n;
  memcpy(&n, (char *)p - BLOCK_HEAD, sizeof n);
  POISON((char *)p - BLOCK_HEAD, BLOCK_HEAD + n);
#endif
  live_total--;
  if (--c->live == 0) chunk_release(c);
}

void json_alloc_install(void) {
  if (installed) return;
  cJSON_Hooks hooks = {hook_malloc, hook_free};
  cJSON_InitHooks(&hooks);
  installed = 1;
}

int json_alloc_set_arena(int on) {
  int was = arena_on;
  arena_on = on;
  return was;
}

void json_alloc_begin(void) {
  active = installed;
}

void json_alloc_end(void) {
  active = 0;
}

void json_alloc_stats(struct json_alloc_stats *st) {
  st->chunks = nchunks;
  st->cached = ncached;
  st->live_blocks = live_total;
  st->bytes_mapped = nchunks * CHUNK_SIZE;
}

void json_alloc_trim(void) {
  while (cached) {
    struct chunk *c = cached;
    cached = c->next_cached;
    ncached--;
    chunk_unmap(c);
  }
  if (cur && cur->live == 0) {
    chunk_unmap(cur);
    cur = NULL;
  }
  if (!reg_count) {
    free(reg);
    reg = NULL;
    reg_mask = 0;
  }
}
