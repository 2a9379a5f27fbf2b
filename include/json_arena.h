/* json_arena.h — jansson's allocator in the bootstrap: a bump arena, rewound whenever every
 * block in it has been freed.
 *
 * No JSON outlives an invocation, so the arena empties at the end of each one. An
 * invocation's event, DynamoDB reply and response are several hundred small blocks; serving
 * them from the arena instead of malloc and free cut a fifth of the CPU time of an invocation
 * (BENCHMARKS.md). A block that does not fit comes from malloc, so a large event costs no
 * more memory than before and the arena never grows. One process, one thread: the arena is a
 * static buffer with no locking. */
#ifndef USERS_JSON_ARENA_H
#define USERS_JSON_ARENA_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>

/* The arena's size: static storage, of which only the pages touched count in RSS. */
#define JSON_ARENA_BYTES ((size_t)256 * 1024)

/* Makes jansson allocate from the arena (json_set_alloc_funcs) in builds that use it: Release
 * builds without a sanitizer. Debug and sanitizer builds keep plain malloc, so that ASan and
 * Valgrind still see each JSON block's lifetime. Call once at start, before any JSON exists,
 * and never switch back: a block from the arena must never reach free(). true when the arena
 * is now jansson's allocator. */
bool json_arena_install(void);

/* The allocator itself, what json_arena_install hands jansson (tests call it directly).
 * json_arena_malloc returns n bytes aligned for any type, from the arena while it has room,
 * else from malloc; NULL for n == 0 or when malloc fails. The caller owns the block until it
 * gives it to json_arena_free, which takes blocks from either source; when the last arena
 * block is freed the arena is rewound to empty. */
UA_WARN_UNUSED void *json_arena_malloc(size_t n);
void json_arena_free(void *p);

/* Whether p points into the arena (rather than at a block from malloc). */
bool json_arena_owns(const void *p);

#endif
