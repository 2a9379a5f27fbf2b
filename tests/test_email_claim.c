/* test_email_claim.c — the claims that keep addresses unique (email_claim.h): the entries a
 * transaction puts and deletes, and the owner a returned claim names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "email_claim.h"

#include <stdlib.h>
#include <string.h>

#define CLAIMS "UsersTable-claims"
#define ID     "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
/* The condition both entries carry: nobody holds the address, or this user does. */
#define OWNER_OR_NOBODY                                                                            \
    "\"ConditionExpression\":\"attribute_not_exists(pk) OR userId = :me\","                        \
    "\"ExpressionAttributeValues\":{\":me\":{\"S\":\"" ID "\"}}"

/* Fails unless got (stolen) equals the JSON text want, member order aside. */
static void expect_json(json_t *got, const char *want) {
    json_t *w = json_loads(want, 0, NULL);
    assert_non_null(w);
    assert_non_null(got);
    if (!json_equal(got, w)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("got  %s\nwant %s", g ? g : "?", want);
    }
    json_decref(w);
    json_decref(got);
}

/* The put claims the address, and returns the claim when its condition fails: the caller
 * tells a taken address from its own by the owner in it. */
static void test_put(void **state) {
    (void)state;
    expect_json(email_claim_put(CLAIMS, "ada@example.com", ID),
                "{\"Put\":{\"TableName\":\"" CLAIMS "\","
                "\"Item\":{\"pk\":{\"S\":\"email#ada@example.com\"},\"userId\":{\"S\":\"" ID
                "\"}}," OWNER_OR_NOBODY ",\"ReturnValuesOnConditionCheckFailure\":\"ALL_OLD\"}}");
}

/* The release names the address only, and never releases another user's claim. */
static void test_delete(void **state) {
    (void)state;
    expect_json(email_claim_delete(CLAIMS, "ada@example.com", ID),
                "{\"Delete\":{\"TableName\":\"" CLAIMS "\","
                "\"Key\":{\"pk\":{\"S\":\"email#ada@example.com\"}}," OWNER_OR_NOBODY "}}");
}

/* The longest address fits whole in the key: never cut, which would merge two addresses. */
static void test_longest_address(void **state) {
    (void)state;
    char lower[UA_MAX_EMAIL_OCTETS + 1], want[sizeof EMAIL_CLAIM_PREFIX + UA_MAX_EMAIL_OCTETS];
    memset(lower, 'a', UA_MAX_EMAIL_OCTETS);
    memcpy(lower + UA_MAX_EMAIL_OCTETS - 7, "@ex.com", 7);
    lower[UA_MAX_EMAIL_OCTETS] = '\0';
    strcpy(want, EMAIL_CLAIM_PREFIX);
    strcat(want, lower);
    json_t *put = email_claim_put(CLAIMS, lower, ID);
    json_t *del = email_claim_delete(CLAIMS, lower, ID);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(put, "Put"), "Item"), "pk"), "S")),
        want);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(del, "Delete"), "Key"), "pk"), "S")),
        want);
    json_decref(put);
    json_decref(del);
}

static void test_owner(void **state) {
    (void)state;
    json_t *claim =
        json_loads("{\"pk\":{\"S\":\"email#a@b.co\"},\"userId\":{\"S\":\"" ID "\"}}", 0, NULL);
    assert_string_equal(email_claim_owner(claim), ID);
    json_decref(claim);
    static const char *const not_owned[] = {
        "{\"pk\":{\"S\":\"email#a@b.co\"}}",
        "{\"pk\":{\"S\":\"email#a@b.co\"},\"userId\":{\"N\":\"7\"}}",
        "{\"pk\":{\"S\":\"email#a@b.co\"},\"userId\":\"" ID "\"}",
    };
    for (size_t i = 0; i < sizeof not_owned / sizeof not_owned[0]; i++) {
        claim = json_loads(not_owned[i], 0, NULL);
        assert_non_null(claim);
        assert_null(email_claim_owner(claim));
        json_decref(claim);
    }
    assert_null(email_claim_owner(NULL));
}

/* ---- Memory running out: NULL, nothing leaked (ASan checks) ---- */

static long alloc_budget = -1; /* allocations left before failing; -1: never fail */
static bool alloc_failed;

static void *failing_malloc(size_t n) {
    if (alloc_budget == 0) {
        alloc_failed = true;
        return NULL;
    }
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

static void test_out_of_memory(void **state) {
    (void)state;
    for (int which = 0; which < 2; which++) {
        bool completed = false;
        long budget;
        for (budget = 0; budget < 1000 && !completed; budget++) {
            alloc_failed = false;
            alloc_budget = budget;
            json_set_alloc_funcs(failing_malloc, free);
            json_t *entry = which == 0 ? email_claim_put(CLAIMS, "a@b.co", ID)
                                       : email_claim_delete(CLAIMS, "a@b.co", ID);
            json_set_alloc_funcs(malloc, free);
            alloc_budget = -1;
            completed = !alloc_failed;
            if (completed)
                assert_non_null(entry);
            else
                assert_null(entry);
            json_decref(entry);
        }
        assert_true(completed);
        assert_true(budget > 3);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_longest_address),
        cmocka_unit_test(test_owner),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
