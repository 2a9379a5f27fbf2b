/* test_codec.c — the shared byte codecs (src/codec.c): base64 and base64url against RFC 4648's
 * vectors, the strictness that gives each byte string one encoding, query-string decoding with
 * and without its flags, and inputs longer than the codecs' internal chunk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "codec.h"

#include <stdlib.h>
#include <string.h>

#define ALL_FLAGS (CODEC_QUERY_STRICT_ESCAPES | CODEC_QUERY_REFUSE_NUL)

/* RFC 4648, section 10. */
static const char *const PLAIN[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const BASE64[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                     "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
static const char *const BASE64URL[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};

typedef ua_status (*decoder)(const char *p, size_t n, buf *out);

static ua_status b64_strict(const char *p, size_t n, buf *out) {
    return codec_base64_decode(p, n, 0, out);
}

static ua_status b64_lax(const char *p, size_t n, buf *out) {
    return codec_base64_decode(p, n, CODEC_BASE64_PAD_OPTIONAL, out);
}

/* What decoding text gives: its status, and the bytes in *got (a buf the caller frees). */
static ua_status decode_into(decoder d, const char *text, buf *got) {
    buf_init(got, 1 << 20);
    return d(text, strlen(text), got);
}

static void assert_decodes(decoder d, const char *text, const char *want) {
    buf got;
    ua_status st = decode_into(d, text, &got);
    if (st != UA_OK)
        fail_msg("\"%s\" refused (%d)", text, (int)st);
    assert_int_equal(got.len, strlen(want));
    assert_memory_equal(buf_str(&got), want, got.len);
    buf_free(&got);
}

static void assert_refused(decoder d, const char *text) {
    buf got;
    if (decode_into(d, text, &got) != UA_ERR_INVALID)
        fail_msg("\"%s\" accepted", text);
    buf_free(&got);
}

static void test_rfc4648_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof PLAIN / sizeof PLAIN[0]; i++) {
        buf b;
        buf_init(&b, 64);
        assert_int_equal(codec_base64_encode(PLAIN[i], strlen(PLAIN[i]), &b), UA_OK);
        assert_string_equal(buf_str(&b), BASE64[i]);
        buf_reset(&b);
        assert_int_equal(codec_base64url_encode(PLAIN[i], strlen(PLAIN[i]), &b), UA_OK);
        assert_string_equal(buf_str(&b), BASE64URL[i]);
        buf_free(&b);
        assert_decodes(b64_strict, BASE64[i], PLAIN[i]);
        assert_decodes(b64_lax, BASE64[i], PLAIN[i]);
        assert_decodes(b64_lax, BASE64URL[i], PLAIN[i]); /* the same digits, unpadded */
        assert_decodes(codec_base64url_decode, BASE64URL[i], PLAIN[i]);
    }
}

/* The two alphabets differ in digits 62 and 63 only. */
static void test_alphabets(void **state) {
    (void)state;
    static const unsigned char high[] = {0xFB, 0xFF, 0xBF};
    buf b;
    buf_init(&b, 64);
    assert_int_equal(codec_base64_encode(high, sizeof high, &b), UA_OK);
    assert_string_equal(buf_str(&b), "+/+/");
    buf_reset(&b);
    assert_int_equal(codec_base64url_encode(high, sizeof high, &b), UA_OK);
    assert_string_equal(buf_str(&b), "-_-_");
    buf_free(&b);
    assert_decodes(b64_strict, "+/+/", "\xFB\xFF\xBF");
    assert_decodes(codec_base64url_decode, "-_-_", "\xFB\xFF\xBF");
    assert_refused(b64_strict, "-_-_");
    assert_refused(b64_lax, "-_-_");
    assert_refused(codec_base64url_decode, "+/+/");
}

/* Every byte value, and lengths 0..300 so that every remainder and the chunk boundary of the
 * codecs are crossed, round-trips through both codecs. */
static void test_round_trip(void **state) {
    (void)state;
    unsigned char bytes[3000];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 7 + i / 256);
    for (size_t n = 0; n <= sizeof bytes; n += n < 300 ? 1 : 677) {
        buf enc, dec;
        buf_init(&enc, 8192);
        buf_init(&dec, 8192);
        assert_int_equal(codec_base64_encode(bytes, n, &enc), UA_OK);
        assert_int_equal(enc.len, (n + 2) / 3 * 4);
        assert_int_equal(codec_base64_decode(enc.data, enc.len, 0, &dec), UA_OK);
        assert_int_equal(dec.len, n);
        if (n)
            assert_memory_equal(dec.data, bytes, n);
        buf_reset(&enc);
        buf_reset(&dec);
        assert_int_equal(codec_base64url_encode(bytes, n, &enc), UA_OK);
        assert_int_equal(enc.len, (n * 4 + 2) / 3);
        assert_null(memchr(buf_str(&enc), '=', enc.len));
        assert_int_equal(codec_base64url_decode(enc.data, enc.len, &dec), UA_OK);
        assert_int_equal(dec.len, n);
        if (n)
            assert_memory_equal(dec.data, bytes, n);
        buf_free(&enc);
        buf_free(&dec);
    }
}

static void test_base64_strict(void **state) {
    (void)state;
    static const char *const bad_always[] = {
        "Z",     /* one digit cannot be */
        "Zg=",   /* padded, but not to a multiple of 4 */
        "Zg===", /* three '=' */
        "Z===",      "====",  "Zm9v!",    "Zm 9v",    "Zm9v\n", " Zm9v",
        "Zm9v Zm9v", "Zh==", /* unused bits set: "Zg==" is the encoding of "f" */
        "Zm9=",              /* the same with one '=' ("Zm8=") */
        "=Zg=",      "Zm9=v", "Zg==Zg==", "Zm9vYg=a", "Zm9vY",  "Zm9vY===",
    };
    for (size_t i = 0; i < sizeof bad_always / sizeof bad_always[0]; i++) {
        assert_refused(b64_strict, bad_always[i]);
        assert_refused(b64_lax, bad_always[i]);
    }
    /* Unpadded text only with CODEC_BASE64_PAD_OPTIONAL (what the local gateway accepts from a
     * function); API Gateway's bodies are always padded. */
    static const char *const unpadded[] = {"Zg", "Zm8", "Zm9vYg", "Zm9vYmE"};
    for (size_t i = 0; i < sizeof unpadded / sizeof unpadded[0]; i++) {
        assert_refused(b64_strict, unpadded[i]);
        buf b;
        assert_int_equal(decode_into(b64_lax, unpadded[i], &b), UA_OK);
        buf_free(&b);
    }
    assert_refused(b64_lax, "Zh"); /* unused bits, unpadded */
    assert_refused(b64_lax, "Zm9");
}

static void test_base64url_strict(void **state) {
    (void)state;
    static const char *const bad[] = {
        "Z",     "Zm9vY", /* a length that cannot be */
        "Zg==",  "Zm8=",  /* padding */
        "Zh",    "Zm9",   /* unused bits set */
        "Zm9v!", "Zm 9",  "Zm+v", "Zm/v", "Zm9v\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(codec_base64url_decode, bad[i]);
    /* A NUL inside the view is a character outside the alphabet, not an end. */
    buf b;
    buf_init(&b, 64);
    assert_int_equal(codec_base64url_decode("Zm\0v", 4, &b), UA_ERR_INVALID);
    buf_free(&b);
}

static void test_limits(void **state) {
    (void)state;
    buf b;
    buf_init(&b, 2);
    assert_int_equal(codec_base64_decode("Zm9v", 4, 0, &b), UA_ERR_TOO_BIG);
    buf_free(&b);
    buf_init(&b, 2);
    assert_int_equal(codec_base64url_decode("Zm9v", 4, &b), UA_ERR_TOO_BIG);
    buf_free(&b);
    buf_init(&b, 3);
    assert_int_equal(codec_base64_encode("fo", 2, &b), UA_ERR_TOO_BIG);
    buf_free(&b);
    buf_init(&b, 3);
    assert_int_equal(codec_base64url_encode("fo", 2, &b), UA_OK); /* "Zm8" fits */
    assert_string_equal(buf_str(&b), "Zm8");
    buf_free(&b);
    buf_init(&b, 2);
    assert_int_equal(codec_query_decode("abc", 3, 0, &b), UA_ERR_TOO_BIG);
    buf_free(&b);
    /* Views never read past their length. */
    buf_init(&b, 64);
    assert_int_equal(codec_base64_decode("Zm9vYmFy", 4, 0, &b), UA_OK);
    assert_string_equal(buf_str(&b), "foo");
    buf_reset(&b);
    assert_int_equal(codec_query_decode("a%41", 2, 0, &b), UA_OK);
    assert_string_equal(buf_str(&b), "a%");
    buf_free(&b);
}

/* Decodes a query component with flags; the bytes in got (freed by the caller). */
static ua_status query(const char *s, unsigned flags, buf *got) {
    buf_init(got, 4096);
    return codec_query_decode(s, strlen(s), flags, got);
}

static void assert_query(const char *s, unsigned flags, const char *want, size_t want_len) {
    buf got;
    assert_int_equal(query(s, flags, &got), UA_OK);
    assert_int_equal(got.len, want_len);
    assert_memory_equal(buf_str(&got), want, want_len);
    buf_free(&got);
}

static void test_query_decode(void **state) {
    (void)state;
    for (unsigned flags = 0; flags <= ALL_FLAGS; flags++) {
        assert_query("a+b%20c%2Bd%c3%A9", flags, "a b c+d\xc3\xa9", 9);
        assert_query("", flags, "", 0);
        assert_query("%25%2b%2B", flags, "%++", 3);
        assert_query("%FF%fe", flags, "\xff\xfe", 2); /* any byte: UTF-8 is the caller's check */
    }
    /* A '%' without two hex digits: literal by default, refused when strict. */
    static const char *const loose[] = {"%", "%2", "%g0", "%0g", "100%", "%%41", "a%2"};
    static const char *const loose_as[] = {"%", "%2", "%g0", "%0g", "100%", "%A", "a%2"};
    for (size_t i = 0; i < sizeof loose / sizeof loose[0]; i++) {
        assert_query(loose[i], 0, loose_as[i], strlen(loose_as[i]));
        assert_query(loose[i], CODEC_QUERY_REFUSE_NUL, loose_as[i], strlen(loose_as[i]));
        buf got;
        assert_int_equal(query(loose[i], CODEC_QUERY_STRICT_ESCAPES, &got), UA_ERR_INVALID);
        buf_free(&got);
    }
    /* "%00": a NUL byte, unless refused. */
    assert_query("a%00b", 0, "a\0b", 3);
    assert_query("a%00b", CODEC_QUERY_STRICT_ESCAPES, "a\0b", 3);
    buf got;
    assert_int_equal(query("a%00b", CODEC_QUERY_REFUSE_NUL, &got), UA_ERR_INVALID);
    buf_free(&got);
    /* Longer than the internal chunk. */
    char many[2001];
    memset(many, '+', 2000);
    many[2000] = '\0';
    assert_int_equal(query(many, 0, &got), UA_OK);
    assert_int_equal(got.len, 2000);
    assert_int_equal(strspn(buf_str(&got), " "), 2000);
    buf_free(&got);
}

static void test_query_next(void **state) {
    (void)state;
    static const char raw[] = "a=1&b&=c&&a=2&d=&=&e=x=y&";
    static const char *const want[][2] = {
        {"a", "1"}, {"b", ""}, {"a", "2"}, {"d", ""}, {"e", "x=y"}};
    ua_span rest = {raw, sizeof raw - 1}, name, value;
    size_t n = 0;
    while (codec_query_next(&rest, &name, &value)) {
        assert_true(n < sizeof want / sizeof want[0]);
        assert_int_equal(name.len, strlen(want[n][0]));
        assert_memory_equal(name.ptr, want[n][0], name.len);
        assert_int_equal(value.len, strlen(want[n][1]));
        assert_non_null(value.ptr);
        if (value.len)
            assert_memory_equal(value.ptr, want[n][1], value.len);
        n++;
    }
    assert_int_equal(n, sizeof want / sizeof want[0]);
    rest = (ua_span){NULL, 0};
    assert_false(codec_query_next(&rest, &name, &value));
    rest = ua_span_from_cstr("&&=x&");
    assert_false(codec_query_next(&rest, &name, &value));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),  cmocka_unit_test(test_alphabets),
        cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_base64url_strict), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_query_decode),     cmocka_unit_test(test_query_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
