/* json_arena.c — jansson's bump arena (see json_arena.h). */
#include "json_arena.h"

#include <jansson.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

/* Debug and sanitizer builds keep plain malloc: the arena would hide each block's lifetime. */
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
#define USE_JSON_ARENA 1
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#undef USE_JSON_ARENA
#endif
#endif
#endif

static struct {
    alignas(max_align_t) unsigned char bytes[JSON_ARENA_BYTES];
    size_t used; /* bytes handed out since the last rewind */
    size_t live; /* blocks handed out and not yet freed */
} json_arena;

bool json_arena_owns(const void *p) {
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)json_arena.bytes;
    return a >= lo && a < lo + JSON_ARENA_BYTES;
}

void *json_arena_malloc(size_t n) {
    if (n == 0)
        return NULL; /* as jansson's own jsonp_malloc: it never asks for 0 bytes */
    size_t need = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    if (need < n || need > JSON_ARENA_BYTES - json_arena.used)
        return malloc(n);
    void *p = json_arena.bytes + json_arena.used;
    json_arena.used += need;
    json_arena.live++;
    return p;
}

void json_arena_free(void *p) {
    if (!json_arena_owns(p)) {
        free(p);
        return;
    }
    if (--json_arena.live == 0)
        json_arena.used = 0;
}

bool json_arena_install(void) {
#ifdef USE_JSON_ARENA
    json_set_alloc_funcs(json_arena_malloc, json_arena_free);
    return true;
#else
    return false;
#endif
}
