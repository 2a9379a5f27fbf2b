/* test_json_arena.c — jansson's bump arena: aligned blocks, a rewind once every block is freed,
 * malloc when it is full or a block is too big, and what installing it changes.
 *
 * Every test leaves the arena empty, as an invocation does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "json_arena.h"

#include <jansson.h>
#include <stdalign.h>
#include <string.h>

#define BLOCK 1024u /* a multiple of every alignment, so the arena holds a whole number */

/* The builds that must install the arena: Release without a sanitizer, as json_arena.c says. */
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
#define EXPECT_ARENA 1
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#undef EXPECT_ARENA
#endif
#endif
#endif
#ifndef EXPECT_ARENA
#define EXPECT_ARENA 0
#endif

static bool aligned(const void *p) {
    return (uintptr_t)p % alignof(max_align_t) == 0;
}

static void test_blocks_are_aligned_and_distinct(void **state) {
    (void)state;
    static const size_t sizes[] = {1, 3, 8, 15, 16, 17, 100, 4096};
    void *p[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        p[i] = json_arena_malloc(sizes[i]);
        assert_non_null(p[i]);
        assert_true(json_arena_owns(p[i]));
        assert_true(aligned(p[i]));
        memset(p[i], (int)i, sizes[i]); /* writable, and overlapping blocks would show below */
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const unsigned char *b = p[i];
        for (size_t k = 0; k < sizes[i]; k++)
            assert_int_equal(b[k], i);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        json_arena_free(p[i]);
    assert_null(json_arena_malloc(0)); /* as jansson's own allocator */
}

/* The arena rewinds when its last block is freed, and not before. */
static void test_rewinds_when_every_block_is_freed(void **state) {
    (void)state;
    void *a = json_arena_malloc(10);
    void *b = json_arena_malloc(100);
    assert_true(json_arena_owns(a) && json_arena_owns(b));
    json_arena_free(a);
    void *c = json_arena_malloc(10);
    assert_ptr_not_equal(c, a); /* b is still live: no reuse */
    assert_true((uintptr_t)c > (uintptr_t)b);
    json_arena_free(c);
    json_arena_free(b);
    void *d = json_arena_malloc(10);
    assert_ptr_equal(d, a); /* everything freed: back to the start */
    json_arena_free(d);

    /* Freeing in any order rewinds once the count reaches zero. */
    void *blocks[5];
    for (size_t i = 0; i < 5; i++)
        blocks[i] = json_arena_malloc(64);
    json_arena_free(blocks[2]);
    json_arena_free(blocks[4]);
    json_arena_free(blocks[0]);
    json_arena_free(blocks[3]);
    json_arena_free(blocks[1]);
    void *e = json_arena_malloc(64);
    assert_ptr_equal(e, a);
    json_arena_free(e);
}

/* A full arena hands out malloc's blocks; they go back to free, and the arena still rewinds. */
static void test_falls_back_to_malloc_when_full(void **state) {
    (void)state;
    enum { N = JSON_ARENA_BYTES / BLOCK };
    static void *blocks[N];
    for (size_t i = 0; i < N; i++) {
        blocks[i] = json_arena_malloc(BLOCK);
        assert_true(json_arena_owns(blocks[i]));
    }
    void *spill = json_arena_malloc(1);
    assert_non_null(spill);
    assert_false(json_arena_owns(spill));
    assert_true(aligned(spill));
    memset(spill, 0xAB, 1);
    json_arena_free(spill); /* free(), or ASan and valgrind would say so */
    for (size_t i = 0; i < N; i++)
        json_arena_free(blocks[i]);
    void *again = json_arena_malloc(BLOCK);
    assert_ptr_equal(again, blocks[0]);
    json_arena_free(again);
}

/* A block larger than the room left, or than the arena, comes from malloc. */
static void test_too_big_comes_from_malloc(void **state) {
    (void)state;
    void *big = json_arena_malloc(JSON_ARENA_BYTES + 1);
    assert_non_null(big);
    assert_false(json_arena_owns(big));
    memset(big, 0, JSON_ARENA_BYTES + 1);
    json_arena_free(big);

    void *whole = json_arena_malloc(JSON_ARENA_BYTES); /* exactly the arena: fits */
    assert_true(json_arena_owns(whole));
    json_arena_free(whole);

    void *small = json_arena_malloc(16);
    void *rest = json_arena_malloc(JSON_ARENA_BYTES - 16); /* just what is left */
    assert_true(json_arena_owns(rest));
    void *over = json_arena_malloc(JSON_ARENA_BYTES - 16);
    assert_false(json_arena_owns(over));
    json_arena_free(over);
    json_arena_free(rest);
    json_arena_free(small);
    json_arena_free(NULL); /* as free(NULL) */
}

/* Installed (Release builds), jansson's values live in the arena; otherwise in malloc's heap.
 * Last: once installed, the allocator stays. */
static void test_install_switches_jansson(void **state) {
    (void)state;
    bool installed = json_arena_install();
    assert_int_equal(installed, EXPECT_ARENA);
    json_t *doc = json_pack("{s:s, s:[i, i]}", "name", "Ada", "list", 1, 2);
    assert_non_null(doc);
    assert_int_equal(json_arena_owns(doc), installed);
    json_decref(doc);
    if (installed) {
        /* Everything was freed: the next value starts the arena again. */
        json_t *a = json_object();
        json_t *b = json_object();
        json_decref(b);
        json_decref(a);
        json_t *c = json_object();
        assert_ptr_equal(c, a);
        json_decref(c);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_are_aligned_and_distinct),
        cmocka_unit_test(test_rewinds_when_every_block_is_freed),
        cmocka_unit_test(test_falls_back_to_malloc_when_full),
        cmocka_unit_test(test_too_big_comes_from_malloc),
        cmocka_unit_test(test_install_switches_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
