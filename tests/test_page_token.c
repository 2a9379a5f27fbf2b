/* test_page_token.c — the list's nextToken both ways (page_token.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "page_token.h"

#include <stdio.h>
#include <string.h>

#define ID       "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define ID_UPPER "3F0C8A9E-8D1B-4C2A-9F5E-2B7D3C1A4E6F"
#define KEY      "{\"userId\":{\"S\":\"" ID "\"}}"
/* KEY in base64url (Python: base64.urlsafe_b64encode, "=" stripped). */
#define TOKEN "eyJ1c2VySWQiOnsiUyI6IjNmMGM4YTllLThkMWItNGMyYS05ZjVlLTJiN2QzYzFhNGU2ZiJ9fQ"

/* base64url without padding of s, written here independently of page_token.c. */
static void b64url(const char *s, char *out, size_t cap) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; s[i] && o + 2 < cap; i++) {
        acc = (acc << 8) | (unsigned char)s[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = alphabet[(acc >> bits) & 63u];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0)
        out[o++] = alphabet[(acc << (6 - bits)) & 63u];
    out[o] = '\0';
}

static ua_span span_of(const char *s) {
    return (ua_span){s, strlen(s)};
}

/* Whether the token for JSON text json decodes, and to which id. */
static bool decodes(const char *json, char id[UA_UUID_LEN + 1]) {
    char tok[512];
    b64url(json, tok, sizeof tok);
    return page_token_decode(span_of(tok), id);
}

static void test_decode(void **state) {
    (void)state;
    char id[UA_UUID_LEN + 1] = "";
    assert_true(page_token_decode(span_of(TOKEN), id));
    assert_string_equal(id, ID);
    /* Blanks and escapes are JSON like any other. */
    assert_true(decodes(
        " { \"userId\" :\n{ \"S\" : \"\\u0033f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f\" } } ", id));
    assert_string_equal(id, ID);
}

static void test_decode_refuses_other_json(void **state) {
    (void)state;
    static const char *const payloads[] = {
        "{\"userId\":{\"S\":\"" ID_UPPER "\"}}",
        "{\"userId\":{\"S\":\"not-a-uuid\"}}",
        "{\"userId\":{\"S\":\"" ID "\"},\"x\":1}",
        "{\"userId\":{\"S\":\"" ID "\",\"N\":\"1\"}}",
        "{\"userId\":{\"N\":\"1\"}}",
        "{\"userId\":{\"S\":1}}",
        "{\"userId\":\"" ID "\"}",
        "{\"id\":{\"S\":\"" ID "\"}}",
        "{\"userId\":{\"S\":\"" ID "\"},\"userId\":{\"S\":\"" ID "\"}}",
        "{\"userId\":{\"S\":\"" ID "\",\"S\":\"" ID "\"}}",
        "[\"" ID "\"]",
        "\"" ID "\"",
        "{}",
        "not json",
        "",
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        char id[UA_UUID_LEN + 1] = "untouched";
        if (decodes(payloads[i], id))
            fail_msg("token for %s accepted", payloads[i]);
        assert_string_equal(id, "untouched");
    }
}

static void test_decode_is_strict_base64url(void **state) {
    (void)state;
    char id[UA_UUID_LEN + 1], tok[128];
    snprintf(tok, sizeof tok, "%s=", TOKEN); /* padding */
    assert_false(page_token_decode(span_of(tok), id));
    snprintf(tok, sizeof tok, "%s", TOKEN);
    tok[3] = '+'; /* standard base64, not base64url */
    assert_false(page_token_decode(span_of(tok), id));
    /* The same bytes, but with unused low bits set in the last character. */
    snprintf(tok, sizeof tok, "%s", TOKEN);
    assert_true(strlen(tok) % 4 != 0);
    tok[strlen(tok) - 1] = 'R';
    assert_false(page_token_decode(span_of(tok), id));
    static const char *const raw[] = {"", "a", "A", "abc!", "ab c", "%7B%7D"};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        assert_false(page_token_decode(span_of(raw[i]), id));
    assert_false(page_token_decode((ua_span){NULL, 0}, id));
    /* The span's length counts, not a NUL. */
    assert_false(page_token_decode((ua_span){TOKEN, strlen(TOKEN) - 1}, id));
    const char nul[] = TOKEN "\0A";
    assert_false(page_token_decode((ua_span){nul, sizeof nul - 1}, id));
}

/* The key padded with JSON whitespace makes tokens of any length: UA_MAX_NEXT_TOKEN_CHARS is
 * the most accepted. */
static void test_decode_length_limit(void **state) {
    (void)state;
    char padded[UA_MAX_NEXT_TOKEN_CHARS], tok[UA_MAX_NEXT_TOKEN_CHARS + 8], id[UA_UUID_LEN + 1];
    size_t bytes = UA_MAX_NEXT_TOKEN_CHARS / 4 * 3; /* a whole number of groups */
    memset(padded, ' ', sizeof padded);
    memcpy(padded, KEY, strlen(KEY));
    padded[bytes] = '\0';
    b64url(padded, tok, sizeof tok);
    assert_int_equal(strlen(tok), UA_MAX_NEXT_TOKEN_CHARS);
    assert_true(page_token_decode(span_of(tok), id));
    padded[bytes] = ' ';
    padded[bytes + 1] = '\0';
    b64url(padded, tok, sizeof tok);
    assert_int_equal(strlen(tok), UA_MAX_NEXT_TOKEN_CHARS + 2);
    assert_false(page_token_decode(span_of(tok), id));
}

static ua_status encode(const char *last_key_json, buf *out) {
    json_t *key = json_loads(last_key_json, 0, NULL);
    assert_non_null(key);
    ua_status st = page_token_encode(key, out);
    json_decref(key);
    return st;
}

static void test_encode(void **state) {
    (void)state;
    buf out;
    buf_init(&out, UA_MAX_NEXT_TOKEN_CHARS);
    assert_int_equal(encode(KEY, &out), UA_OK);
    assert_string_equal(buf_str(&out), TOKEN);
    /* Rebuilt from the id: DynamoDB's spelling of the key does not change the token, and what
     * else the key holds is DynamoDB's business. */
    buf_reset(&out);
    assert_int_equal(
        encode("{ \"other\": {\"S\":\"x\"}, \"userId\" : {\"N\":\"1\", \"S\":\"" ID "\"}}", &out),
        UA_OK);
    assert_string_equal(buf_str(&out), TOKEN);
    /* And decodes back. */
    char id[UA_UUID_LEN + 1];
    assert_true(page_token_decode((ua_span){buf_str(&out), out.len}, id));
    assert_string_equal(id, ID);
    buf_free(&out);
}

static void test_encode_refuses_keys_not_ours(void **state) {
    (void)state;
    static const char *const keys[] = {
        "{\"userId\":{\"S\":\"" ID_UPPER "\"}}",
        "{\"userId\":{\"S\":\"not-a-uuid\"}}",
        "{\"userId\":{\"N\":\"1\"}}",
        "{\"userId\":\"" ID "\"}",
        "{\"id\":{\"S\":\"" ID "\"}}",
        "{}",
        "[]",
    };
    buf out;
    buf_init(&out, UA_MAX_NEXT_TOKEN_CHARS);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (encode(keys[i], &out) != UA_ERR_INVALID)
            fail_msg("key %s encoded", keys[i]);
        assert_int_equal(out.len, 0);
    }
    buf_free(&out);
    /* The caller's limit holds. */
    buf_init(&out, 10);
    assert_int_equal(encode(KEY, &out), UA_ERR_TOO_BIG);
    buf_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_refuses_other_json),
        cmocka_unit_test(test_decode_is_strict_base64url),
        cmocka_unit_test(test_decode_length_limit),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_refuses_keys_not_ours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
