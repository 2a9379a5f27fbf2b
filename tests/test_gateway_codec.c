/* test_gateway_codec.c — the byte codecs as the local gateway uses them (base64 and query
 * decoding from src/codec.c with the gateway's flags, Latin-1 from src/gateway/gw_codec.c) and
 * the bootstraps' environment (src/gateway/gw_env.c). */
#include "codec.h"
#include "gw_codec.h"
#include "gw_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_base64_round_trip(void **state) {
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        buf b;
        buf_init(&b, 64);
        assert_int_equal(codec_base64_encode(plain[i], strlen(plain[i]), &b), UA_OK);
        assert_string_equal(buf_str(&b), coded[i]);
        buf_reset(&b);
        assert_int_equal(
            codec_base64_decode(coded[i], strlen(coded[i]), CODEC_BASE64_PAD_OPTIONAL, &b), UA_OK);
        assert_string_equal(buf_str(&b), plain[i]);
        buf_free(&b);
    }
    unsigned char all[256];
    for (unsigned i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    buf enc, dec;
    buf_init(&enc, 1024);
    buf_init(&dec, 1024);
    assert_int_equal(codec_base64_encode(all, sizeof all, &enc), UA_OK);
    assert_int_equal(codec_base64_decode(enc.data, enc.len, CODEC_BASE64_PAD_OPTIONAL, &dec),
                     UA_OK);
    assert_int_equal(dec.len, sizeof all);
    assert_memory_equal(dec.data, all, sizeof all);
    buf_free(&enc);
    buf_free(&dec);
}

static void test_base64_strict(void **state) {
    (void)state;
    static const char *const bad[] = {"Z",     "Zg=",  "Zg===", "Z===", "Zm9v!",
                                      "Zm 9v", "Zh==", "=Zg=",  "Zm9=v"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf b;
        buf_init(&b, 64);
        if (codec_base64_decode(bad[i], strlen(bad[i]), CODEC_BASE64_PAD_OPTIONAL, &b) !=
            UA_ERR_INVALID)
            fail_msg("accepted %s", bad[i]);
        buf_free(&b);
    }
    buf b;
    buf_init(&b, 64);
    assert_int_equal(codec_base64_decode("Zm8", 3, CODEC_BASE64_PAD_OPTIONAL, &b),
                     UA_OK); /* padding may be left out */
    assert_string_equal(buf_str(&b), "fo");
    buf_free(&b);
    buf_init(&b, 2);
    assert_int_equal(codec_base64_decode("Zm9v", 4, CODEC_BASE64_PAD_OPTIONAL, &b), UA_ERR_TOO_BIG);
    buf_free(&b);
}

static void test_query_decode(void **state) {
    (void)state;
    buf b;
    buf_init(&b, 64);
    assert_int_equal(codec_query_decode("a+b%20c%2Bd%c3%A9", 17, CODEC_QUERY_STRICT_ESCAPES, &b),
                     UA_OK);
    assert_string_equal(buf_str(&b), "a b c+d\xc3\xa9");
    buf_reset(&b);
    assert_int_equal(codec_query_decode("%2", 2, CODEC_QUERY_STRICT_ESCAPES, &b), UA_ERR_INVALID);
    buf_reset(&b);
    assert_int_equal(codec_query_decode("%g0", 3, CODEC_QUERY_STRICT_ESCAPES, &b), UA_ERR_INVALID);
    buf_reset(&b);
    assert_int_equal(codec_query_decode("%00", 3, CODEC_QUERY_STRICT_ESCAPES, &b), UA_OK);
    assert_int_equal(b.len, 1);
    buf_free(&b);
}

static void test_latin1(void **state) {
    (void)state;
    buf b;
    buf_init(&b, 64);
    assert_int_equal(gw_latin1_to_utf8("A\xe9\xff", 3, &b), UA_OK);
    assert_string_equal(buf_str(&b), "A\xc3\xa9\xc3\xbf");
    buf_free(&b);
}

static void test_env(void **state) {
    (void)state;
    char *base[] = {"PATH=/bin",   "USERS_TABLE=FromParent",
                    "AWS_REGION=", "AWS_LAMBDA_RUNTIME_API=x:1",
                    "NOEQUALS",    "PATH=/dup",
                    NULL};
    const char *sets[] = {"LOG_LEVEL=DEBUG", "PATH=/usr/bin"};
    const char *defaults[] = {"USERS_TABLE=Users", "AWS_REGION=us-east-1", "TZ=:UTC"};
    const char *drop[] = {"AWS_LAMBDA_RUNTIME_API"};
    char **env = gw_env_build(base, sets, 2, defaults, 3, drop, 1);
    assert_non_null(env);
    assert_string_equal(gw_env_get(env, "PATH"), "/usr/bin");          /* a flag wins */
    assert_string_equal(gw_env_get(env, "USERS_TABLE"), "FromParent"); /* inherited wins */
    assert_string_equal(gw_env_get(env, "AWS_REGION"), "us-east-1");   /* empty: default */
    assert_string_equal(gw_env_get(env, "TZ"), ":UTC");
    assert_string_equal(gw_env_get(env, "LOG_LEVEL"), "DEBUG");
    assert_null(gw_env_get(env, "AWS_LAMBDA_RUNTIME_API"));
    assert_null(gw_env_get(env, "NOEQUALS"));
    size_t n = 0, paths = 0;
    for (; env[n]; n++)
        paths += strncmp(env[n], "PATH=", 5) == 0;
    assert_int_equal(paths, 1);
    assert_int_equal(n, 5);
    gw_env_free(env);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_round_trip),
        cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_query_decode),
        cmocka_unit_test(test_latin1),
        cmocka_unit_test(test_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
