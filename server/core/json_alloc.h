/* Where the trees json_parse builds live: chunk arenas behind cJSON's
 * allocation hooks.
 *
 * A parsed tree is thousands of small blocks (a 64-byte node and a few
 * bytes of key and string each) that are usually freed together. malloc
 * gives each its own header and rounding and spends about half of a parse
 * and of the cJSON_Delete that follows. So while json_parse builds a tree,
 * cJSON's allocations are carved one after the other out of 256 KiB chunks
 * (mmap'd, aligned to their size); a chunk keeps a count of its live blocks
 * and goes back to the system (or to a small cache) when the last one is
 * freed. Blocks are freed one by one through cJSON_free as usual: the free
 * hook finds a block's chunk from its address, and hands every other block
 * to free(). Nothing changes for code outside: every tree is still freed
 * with cJSON_Delete, and a node may move from a parsed tree into another
 * (its chunk then simply lives as long as it does).
 *
 * The hooks are global (cJSON has one set): json_alloc_install sets them
 * once, and json_parse calls it. Single-threaded, as the server is. Under
 * AddressSanitizer the arena is off by default (every block is malloc'd, so
 * the leak checker sees each); under valgrind the blocks are announced as
 * heap blocks, so memcheck tracks them one by one. */
#ifndef MS_JSON_ALLOC_H
#define MS_JSON_ALLOC_H

#include <stddef.h>

/* Points cJSON's hooks at the allocator. Idempotent. Blocks cJSON
 * allocated before with malloc are freed correctly afterwards. */
void json_alloc_install(void);

/* Turns the arena on or off (for tests); returns the previous setting.
 * Off, json_parse allocates with malloc as cJSON does. */
int json_alloc_set_arena(int on);

/* Allocations made between begin and end come from the parse arena (when
 * it is on and the hooks are installed). Not nested. */
void json_alloc_begin(void);
void json_alloc_end(void);

/* What the arena holds: chunks mapped (in use or cached), blocks alive. */
struct json_alloc_stats {
  size_t chunks, cached, live_blocks, bytes_mapped;
};
void json_alloc_stats(struct json_alloc_stats *st);

/* Returns the cached chunks to the system. */
void json_alloc_trim(void);

#endif
