/* test_utf8.c — the strict UTF-8 decoder (src/utf8.c): the boundaries of Table 3-7, what is
 * refused, the maximal subparts bad input is cut into, and the ASCII fast path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "utf8.h"

#include <stdio.h>
#include <string.h>

#define BAD UTF8_INVALID

/* ---- One sequence ---- */

typedef struct decode_case {
    const char *what;
    const char *s;
    size_t len;
    size_t want_len; /* the sequence's length, or its maximal subpart's when want_cp is BAD */
    uint32_t want_cp;
} decode_case;

static const decode_case decode_cases[] = {
    /* Well-formed, at each boundary of Table 3-7. */
    {"U+0000", "\0", 1, 1, 0x0},
    {"U+007F last 1-byte", "\x7F", 1, 1, 0x7F},
    {"U+0080 first 2-byte", "\xC2\x80", 2, 2, 0x80},
    {"U+07FF last 2-byte", "\xDF\xBF", 2, 2, 0x7FF},
    {"U+0800 first 3-byte", "\xE0\xA0\x80", 3, 3, 0x800},
    {"U+0FFF last with E0", "\xE0\xBF\xBF", 3, 3, 0xFFF},
    {"U+1000 first with E1", "\xE1\x80\x80", 3, 3, 0x1000},
    {"U+D7FF before surrogates", "\xED\x9F\xBF", 3, 3, 0xD7FF},
    {"U+E000 after surrogates", "\xEE\x80\x80", 3, 3, 0xE000},
    {"U+FFFD", "\xEF\xBF\xBD", 3, 3, 0xFFFD},
    {"U+FFFF last 3-byte", "\xEF\xBF\xBF", 3, 3, 0xFFFF},
    {"U+10000 first 4-byte", "\xF0\x90\x80\x80", 4, 4, 0x10000},
    {"U+3FFFF last with F0", "\xF0\xBF\xBF\xBF", 4, 4, 0x3FFFF},
    {"U+40000 first with F1", "\xF1\x80\x80\x80", 4, 4, 0x40000},
    {"U+100000 first with F4", "\xF4\x80\x80\x80", 4, 4, 0x100000},
    {"U+10FFFF last", "\xF4\x8F\xBF\xBF", 4, 4, 0x10FFFF},
    {"only the first sequence is read", "\xC3\xA9z", 3, 2, 0xE9},
    /* Overlong forms: C0 and C1 are never leads; E0 and F0 need A0 and 90 at least. */
    {"overlong NUL C0 80", "\xC0\x80", 2, 1, BAD},
    {"overlong '/' C0 AF", "\xC0\xAF", 2, 1, BAD},
    {"overlong C1 BF", "\xC1\xBF", 2, 1, BAD},
    {"overlong 3-byte NUL", "\xE0\x80\x80", 3, 1, BAD},
    {"overlong 3-byte U+07FF", "\xE0\x9F\xBF", 3, 1, BAD},
    {"overlong 4-byte NUL", "\xF0\x80\x80\x80", 4, 1, BAD},
    {"overlong 4-byte U+FFFF", "\xF0\x8F\xBF\xBF", 4, 1, BAD},
    /* Surrogates: ED takes 80..9F only. */
    {"surrogate U+D800", "\xED\xA0\x80", 3, 1, BAD},
    {"surrogate U+DBFF", "\xED\xAF\xBF", 3, 1, BAD},
    {"surrogate U+DC00", "\xED\xB0\x80", 3, 1, BAD},
    {"surrogate U+DFFF", "\xED\xBF\xBF", 3, 1, BAD},
    /* Past U+10FFFF: F4 takes 80..8F only, F5..FF are never leads. */
    {"U+110000", "\xF4\x90\x80\x80", 4, 1, BAD},
    {"U+13FFFF", "\xF4\xBF\xBF\xBF", 4, 1, BAD},
    {"F5 lead", "\xF5\x80\x80\x80", 4, 1, BAD},
    {"F7 lead", "\xF7\xBF\xBF\xBF", 4, 1, BAD},
    {"five-byte form", "\xF8\x88\x80\x80\x80", 5, 1, BAD},
    {"six-byte form", "\xFC\x84\x80\x80\x80\x80", 6, 1, BAD},
    {"FE", "\xFE", 1, 1, BAD},
    {"FF", "\xFF", 1, 1, BAD},
    /* Continuation bytes where a lead should be. */
    {"lone 80", "\x80", 1, 1, BAD},
    {"lone BF", "\xBF", 1, 1, BAD},
    /* Truncated: the maximal subpart is everything that was there. */
    {"truncated 2-byte", "\xC3", 1, 1, BAD},
    {"truncated 3-byte after 1", "\xE2", 1, 1, BAD},
    {"truncated 3-byte after 2", "\xE2\x82", 2, 2, BAD},
    {"truncated 4-byte after 2", "\xF0\x9F", 2, 2, BAD},
    {"truncated 4-byte after 3", "\xF0\x9F\x98", 3, 3, BAD},
    {"truncated U+10FFFF", "\xF4\x8F\xBF", 3, 3, BAD},
    {"len cuts a sequence", "\xC3\xA9", 1, 1, BAD},
    /* Cut short by a byte that is not a continuation: that byte is not part of the subpart. */
    {"2-byte then ASCII", "\xC2\x41", 2, 1, BAD},
    {"3-byte then ASCII", "\xE2\x82\x41", 3, 2, BAD},
    {"4-byte then ASCII", "\xF0\x90\x80\x41", 4, 3, BAD},
    {"3-byte then a new lead", "\xE2\xC3\xA9", 3, 1, BAD},
    {"E0 then A0 then a lead", "\xE0\xA0\xC0", 3, 2, BAD},
};

static void test_decode_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof decode_cases / sizeof decode_cases[0]; i++) {
        const decode_case *c = &decode_cases[i];
        uint32_t cp = 0;
        size_t n = utf8_decode((const unsigned char *)c->s, c->len, &cp);
        if (n != c->want_len || cp != c->want_cp)
            fail_msg("decode '%s': got %zu bytes, U+%04X; want %zu bytes, U+%04X", c->what, n,
                     (unsigned)cp, c->want_len, (unsigned)c->want_cp);
        if (c->want_cp != BAD && c->want_len < c->len)
            continue; /* whether the rest is UTF-8 is not this case's point */
        if (utf8_valid(c->s, c->len) != (c->want_cp != BAD))
            fail_msg("valid '%s': want %s", c->what, c->want_cp != BAD ? "valid" : "invalid");
    }
}

static void test_decode_empty(void **state) {
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(utf8_decode((const unsigned char *)"", 0, &cp), 0);
    assert_int_equal(cp, BAD);
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid(NULL, 0));
}

/* ---- Every code point, and every short byte string ---- */

static size_t encode(uint32_t cp, unsigned char *u) {
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (unsigned char)(0xF0 | (cp >> 18));
    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Every scalar value decodes to itself from its shortest form; the surrogates' forms do not. */
static void test_every_code_point(void **state) {
    (void)state;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        unsigned char u[4];
        size_t len = encode(cp, u);
        uint32_t got;
        size_t n = utf8_decode(u, len, &got);
        bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        if (surrogate ? (got != BAD || n != 1) : (got != cp || n != len))
            fail_msg("U+%04X: got %zu bytes, U+%04X", (unsigned)cp, n, (unsigned)got);
    }
}

/* The definition by arithmetic, written apart from Table 3-7: decode the bits each lead byte
 * promises, then refuse overlong values, surrogates and values past U+10FFFF. */
static bool reference_valid(const unsigned char *s, size_t len) {
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t need = c < 0x80             ? 1
                      : (c & 0xE0) == 0xC0 ? 2
                      : (c & 0xF0) == 0xE0 ? 3
                      : (c & 0xF8) == 0xF0 ? 4
                                           : 0;
        if (need == 0 || len - i < need)
            return false;
        uint32_t v = need == 1 ? c : c & (0x7Fu >> need);
        for (size_t k = 1; k < need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            v = (v << 6) | (s[i + k] & 0x3Fu);
        }
        if (v < min[need] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return false;
        i += need;
    }
    return true;
}

/* utf8_valid agrees with the arithmetic on every string of one to three bytes, and on every
 * four-byte string with a 4-byte lead, any second and fourth byte and a few third ones. */
static void test_every_short_string(void **state) {
    (void)state;
    unsigned char s[4];
    for (uint32_t x = 0; x < (1u << 24); x++) {
        s[0] = (unsigned char)(x >> 16);
        s[1] = (unsigned char)(x >> 8);
        s[2] = (unsigned char)x;
        for (size_t len = 1; len <= 3; len++) {
            if (len < 3 && (x & ((1u << (8 * (3 - len))) - 1)) != 0)
                continue; /* each shorter string once */
            if (utf8_valid((const char *)s, len) != reference_valid(s, len))
                fail_msg("%zu bytes %02X %02X %02X", len, s[0], s[1], s[2]);
        }
    }
    static const unsigned char third[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0xBF, 0xC0, 0xFF};
    for (unsigned lead = 0xF0; lead <= 0xFF; lead++)
        for (unsigned b1 = 0; b1 < 256; b1++)
            for (size_t k = 0; k < sizeof third; k++)
                for (unsigned b3 = 0; b3 < 256; b3++) {
                    s[0] = (unsigned char)lead;
                    s[1] = (unsigned char)b1;
                    s[2] = third[k];
                    s[3] = (unsigned char)b3;
                    if (utf8_valid((const char *)s, 4) != reference_valid(s, 4))
                        fail_msg("4 bytes %02X %02X %02X %02X", s[0], s[1], s[2], s[3]);
                }
}

/* ---- Whole strings ---- */

/* A bad byte anywhere in a long ASCII run is found, whichever 8-byte word it falls in, and a
 * sequence that straddles two words is read whole. */
static void test_ascii_fast_path(void **state) {
    (void)state;
    char s[41];
    memset(s, 'a', sizeof s);
    assert_true(utf8_valid(s, sizeof s));
    for (size_t at = 0; at < sizeof s; at++) {
        memset(s, 'a', sizeof s);
        s[at] = (char)0x80;
        if (utf8_valid(s, sizeof s))
            fail_msg("stray 80 at %zu not found", at);
        s[at] = (char)0x7F;
        if (!utf8_valid(s, sizeof s))
            fail_msg("DEL at %zu refused", at);
    }
    static const unsigned char smiley[4] = {0xF0, 0x9F, 0x98, 0x80}; /* U+1F600 */
    for (size_t at = 0; at + sizeof smiley <= sizeof s; at++) {
        memset(s, 'a', sizeof s);
        memcpy(s + at, smiley, sizeof smiley);
        if (!utf8_valid(s, sizeof s))
            fail_msg("U+1F600 at %zu refused", at);
        s[at + 3] = 'a';
        if (utf8_valid(s, sizeof s))
            fail_msg("U+1F600 cut at %zu accepted", at);
    }
}

/* Replaces each maximal subpart with U+FFFD, the way log.c writes client bytes. */
static void substitute(const char *s, size_t len, char *out, size_t cap) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        const char *put = cp == BAD ? UTF8_REPLACEMENT : s + i;
        size_t put_len = cp == BAD ? UTF8_REPLACEMENT_LEN : n;
        assert_true(n >= 1 && o + put_len < cap);
        memcpy(out + o, put, put_len);
        o += put_len;
        i += n;
    }
    out[o] = '\0';
}

#define FFFD     UTF8_REPLACEMENT
#define BYTES(s) (s), sizeof(s) - 1

/* The U+FFFD counts are those of the WHATWG decoder (Python's errors="replace" agrees). */
static void test_substitution(void **state) {
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        const char *want;
    } cases[] = {
        {BYTES("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
         "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"},
        {BYTES("a\xC0\x80z"), "a" FFFD FFFD "z"},
        {BYTES("\xE0\x80\x80"), FFFD FFFD FFFD},
        {BYTES("\xF0\x80\x80\x80"), FFFD FFFD FFFD FFFD},
        {BYTES("\xED\xA0\x80"), FFFD FFFD FFFD},
        {BYTES("\xED\xBF\xBF"), FFFD FFFD FFFD},
        {BYTES("\xED\xA0\xBD\xED\xB8\x80"), FFFD FFFD FFFD FFFD FFFD FFFD}, /* CESU-8 U+1F600 */
        {BYTES("\xF4\x90\x80\x80"), FFFD FFFD FFFD FFFD},
        {BYTES("\xF5\x80"), FFFD FFFD},
        {BYTES("\xF8\x88\x80\x80\x80"), FFFD FFFD FFFD FFFD FFFD},
        {BYTES("x\x80y"), "x" FFFD "y"},
        {BYTES("ab\xE2\x82"), "ab" FFFD},
        {BYTES("\xF0\x9F\x98"), FFFD},
        {BYTES("\xE2\x82("), FFFD "("},
        {BYTES("\xF0\x90\x80\x41"), FFFD "A"},
        {BYTES("\xC3\xC3\xA9"), FFFD "\xC3\xA9"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        substitute(cases[i].s, cases[i].len, out, sizeof out);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("case %zu: substitution differs", i);
        assert_true(utf8_valid(out, strlen(out)));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_table),     cmocka_unit_test(test_decode_empty),
        cmocka_unit_test(test_every_code_point), cmocka_unit_test(test_every_short_string),
        cmocka_unit_test(test_ascii_fast_path),  cmocka_unit_test(test_substitution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
