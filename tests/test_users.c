/* test_users.c — the Users API handler end to end, with a fake DynamoDB, clock and ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_ddb.h"
#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID           "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define ID2          "0b6f3c9e-1d2a-4e5f-8a7b-9c0d1e2f3a4b"
#define ID_UPPER     "3F0C8A9E-8D1B-4C2A-9F5E-2B7D3C1A4E6F"
#define NOW_MS       1795523696789LL
#define NOW_ISO      "2026-11-24T12:34:56.789Z"
#define EARLIER      "2026-01-02T03:04:05.006Z"
#define DEADLINE     1795523699789LL
#define REQ_ID       "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
#define TABLE        "UsersTable"
#define CLAIMS_TABLE "UsersTable-claims"
/* Write tokens the fake id source hands out: a create draws the id first, then its token; an
 * update draws only its token, the first id. */
/* What every update's condition starts with (without the closing quote of the JSON string). */
#define UPDATE_CONDITION                                                                           \
    "\"attribute_exists(userId) AND (attribute_not_exists(#lastWriteToken) OR #lastWriteToken <> " \
    ":token)"
#define CREATE_TOKEN "00000000-0000-4000-8000-000000000002"
#define UPDATE_TOKEN ID

/* A stored item as DynamoDB returns it: id, name, email, age (NULL: none), version. */
#define ITEM_FMT                                                                                   \
    "{\"userId\":{\"S\":\"%s\"},\"name\":{\"S\":\"%s\"},\"email\":{\"S\":\"%s\"},"                 \
    "\"emailLower\":{\"S\":\"%s\"},%s\"createdAt\":{\"S\":\"" EARLIER "\"},"                       \
    "\"updatedAt\":{\"S\":\"" NOW_ISO "\"},\"version\":{\"N\":\"%d\"}}"

typedef struct t {
    fake_ddb ddb;
    fake_ids ids;
    int64_t now;
    users_deps deps;
    api_request req;
    json_t *headers, *query;
    api_response resp;
    bool have_resp;
    users_outcome out;
    json_t *body; /* the answer's body, parsed; NULL when empty */
} t;

static const char *const fixed_ids[] = {ID};

static int setup(void **state) {
    t *x = calloc(1, sizeof *x);
    assert_non_null(x);
    fake_ddb_init(&x->ddb);
    x->ids = (fake_ids){fixed_ids, 1, 0};
    x->now = NOW_MS;
    x->deps = (users_deps){.table = TABLE,
                           .claims_table = CLAIMS_TABLE,
                           .allowed_origins = NULL,
                           .ddb = fake_ddb_port(&x->ddb),
                           .now_ms = fake_clock_now_ms,
                           .clock_ctx = &x->now,
                           .new_id = fake_ids_next,
                           .id_ctx = &x->ids};
    *state = x;
    return 0;
}

static void drop_response(t *x) {
    if (x->have_resp)
        api_response_free(&x->resp);
    x->have_resp = false;
    json_decref(x->body);
    x->body = NULL;
}

static int teardown(void **state) {
    t *x = *state;
    drop_response(x);
    json_decref(x->headers);
    json_decref(x->query);
    fake_ddb_free(&x->ddb);
    free(x);
    return 0;
}

/* ---- Building requests ---- */

static void req(t *x, const char *method, const char *path) {
    json_decref(x->headers);
    json_decref(x->query);
    x->headers = json_object();
    x->query = json_object();
    assert_non_null(x->headers);
    assert_non_null(x->query);
    x->req = (api_request){.method = method,
                           .path = path,
                           .headers = x->headers,
                           .query = x->query,
                           .body = NULL,
                           .body_len = 0,
                           .body_bad_base64 = false,
                           .request_id = REQ_ID};
}

static void add_value(json_t *map, const char *name, const char *value) {
    json_t *vals = json_object_get(map, name);
    if (!vals) {
        vals = json_array();
        assert_int_equal(json_object_set_new(map, name, vals), 0);
    }
    assert_int_equal(json_array_append_new(vals, json_string(value)), 0);
}

static void header(t *x, const char *name, const char *value) {
    add_value(x->headers, name, value);
}

static void query(t *x, const char *name, const char *value) {
    add_value(x->query, name, value);
}

static void body_n(t *x, const char *s, size_t n) {
    x->req.body = s;
    x->req.body_len = n;
}

/* A JSON body with Content-Type: application/json. */
static void json_body(t *x, const char *s) {
    header(x, "content-type", "application/json");
    body_n(x, s, strlen(s));
}

/* ---- Reading answers ---- */

static const char *resp_header(const t *x, const char *name) {
    return json_string_value(json_object_get(x->resp.headers, name));
}

static const char *body_str(const t *x, const char *key) {
    return json_string_value(json_object_get(x->body, key));
}

/* What every answer carries, and the shape of every problem document. */
static void check_envelope(t *x) {
    assert_string_equal(resp_header(x, "Cache-Control"), "no-store");
    assert_string_equal(resp_header(x, "X-Content-Type-Options"), "nosniff");
    assert_non_null(resp_header(x, "Access-Control-Allow-Origin"));
    assert_string_equal(resp_header(x, "Access-Control-Expose-Headers"), "ETag, Location");
    if (x->resp.status == 204) {
        assert_int_equal(x->resp.body.len, 0);
        assert_null(resp_header(x, "Content-Type"));
        assert_null(x->out.code);
        return;
    }
    json_error_t err;
    x->body = json_loadb(buf_str(&x->resp.body), x->resp.body.len, JSON_REJECT_DUPLICATES, &err);
    if (!x->body)
        fail_msg("answer body is not JSON: %s: %s", err.text, buf_str(&x->resp.body));
    if (x->resp.status < 400) {
        assert_string_equal(resp_header(x, "Content-Type"), "application/json; charset=utf-8");
        assert_null(x->out.code);
        return;
    }
    assert_string_equal(resp_header(x, "Content-Type"), "application/problem+json");
    assert_non_null(x->out.code);
    /* Exactly these members, in this order; errors only for VALIDATION_FAILED. */
    char members[256] = "";
    const char *key;
    json_t *v;
    json_object_foreach(x->body, key, v) {
        strncat(members, key, sizeof members - strlen(members) - 2);
        strcat(members, ",");
    }
    assert_string_equal(members, strcmp(x->out.code, "VALIDATION_FAILED") == 0
                                     ? "type,title,status,code,detail,errors,requestId,"
                                     : "type,title,status,code,detail,requestId,");
    assert_string_equal(body_str(x, "type"), "about:blank");
    assert_true(strlen(body_str(x, "title")) > 0);
    assert_int_equal(json_integer_value(json_object_get(x->body, "status")), x->resp.status);
    assert_string_equal(body_str(x, "code"), x->out.code);
    assert_true(strlen(body_str(x, "detail")) > 0);
    assert_string_equal(body_str(x, "requestId"), x->req.request_id);
}

static void run(t *x) {
    drop_response(x);
    assert_int_equal(api_response_init(&x->resp), UA_OK);
    x->have_resp = true;
    memset(&x->out, 0x5a, sizeof x->out); /* the handler must fill every field */
    users_handle(&x->deps, &x->req, DEADLINE, &x->resp, &x->out);
    check_envelope(x);
}

static void expect_problem(t *x, int status, const char *code) {
    if (x->resp.status != status || !x->out.code || strcmp(x->out.code, code) != 0)
        fail_msg("want %d %s, got %d %s: %s", status, code, x->resp.status,
                 x->out.code ? x->out.code : "-", buf_str(&x->resp.body));
}

/* The answer's errors[] equals the JSON array expected (order included). */
static void expect_errors(t *x, const char *expected) {
    expect_problem(x, 400, "VALIDATION_FAILED");
    json_t *want = json_loads(expected, 0, NULL);
    assert_non_null(want);
    if (!json_equal(json_object_get(x->body, "errors"), want))
        fail_msg("errors: got %s, want %s", buf_str(&x->resp.body), expected);
    json_decref(want);
}

static void expect_no_calls(const t *x) {
    if (x->ddb.n_calls != 0)
        fail_msg("%zu DynamoDB calls, want none", x->ddb.n_calls);
}

/* The one DynamoDB call the request made; it must be op with the handler's deadline. */
static const json_t *only_call(const t *x, ddb_op op) {
    assert_int_equal(x->ddb.n_calls, 1);
    const fake_ddb_call *c = fake_ddb_call_at(&x->ddb, 0);
    assert_int_equal(c->op, op);
    assert_int_equal(c->deadline_ms, DEADLINE);
    assert_non_null(c->request);
    assert_string_equal(json_string_value(json_object_get(c->request, "TableName")), TABLE);
    return c->request;
}

static void expect_member(const json_t *obj, const char *key, const char *expected_json) {
    json_t *want = json_loads(expected_json, JSON_DECODE_ANY, NULL);
    assert_non_null(want);
    json_t *got = json_object_get(obj, key);
    if (!json_equal(got, want)) {
        char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        fail_msg("%s: got %s, want %s", key, g ? g : "(absent)", expected_json);
    }
    json_decref(want);
}

static void expect_body(const t *x, const char *exact) {
    assert_string_equal(buf_str(&x->resp.body), exact);
}

static char *item_json(const char *id, const char *name, const char *email, const char *age,
                       int version) {
    char lower[256], agebuf[64] = "";
    size_t n = strlen(email);
    assert_true(n < sizeof lower);
    for (size_t i = 0; i <= n; i++) /* the NUL too */
        lower[i] = (char)(email[i] >= 'A' && email[i] <= 'Z' ? email[i] + 32 : email[i]);
    if (age)
        snprintf(agebuf, sizeof agebuf, "\"age\":{\"N\":\"%s\"},", age);
    char *s = malloc(2048);
    assert_non_null(s);
    snprintf(s, 2048, ITEM_FMT, id, name, email, lower, agebuf, version);
    return s;
}

/* Scripts a reply {"<member>": item}. */
static void push_item_reply(t *x, const char *member, const char *id, const char *age,
                            int version) {
    char *item = item_json(id, "Ada Lovelace", "Ada@Example.com", age, version);
    char doc[2200];
    snprintf(doc, sizeof doc, "{\"%s\":%s}", member, item);
    free(item);
    fake_ddb_push_json(&x->ddb, DDB_OK, doc, NULL);
}

/* The resource the items above turn into. */
static void user_json(char *out, size_t cap, const char *id, const char *age, int version) {
    char agebuf[32] = "";
    if (age)
        snprintf(agebuf, sizeof agebuf, "\"age\":%s,", age);
    snprintf(out, cap,
             "{\"userId\":\"%s\",\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\",%s"
             "\"createdAt\":\"" EARLIER "\",\"updatedAt\":\"" NOW_ISO "\",\"version\":%d}",
             id, agebuf, version);
}

/* base64url without padding, written independently of the handler's. */
static void b64url(const char *in, char *out, size_t cap) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)(unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)(unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        size_t chars = i + 2 < n ? 4 : i + 1 < n ? 3 : 2;
        for (size_t c = 0; c < chars; c++) {
            assert_true(o + 1 < cap);
            out[o++] = A[(v >> (18 - 6 * c)) & 63];
        }
    }
    out[o] = '\0';
}

/* ---- Create ---- */

static void test_create_happy_path(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"  Ada Lovelace\\t\",\"email\":\" Ada@Example.com \",\"age\":36}");
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);

    assert_int_equal(x->resp.status, 201);
    assert_string_equal(resp_header(x, "Location"), "/users/" ID);
    assert_string_equal(resp_header(x, "ETag"), "\"1\"");
    expect_body(x, "{\"userId\":\"" ID "\",\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\","
                   "\"age\":36,\"createdAt\":\"" NOW_ISO "\",\"updatedAt\":\"" NOW_ISO
                   "\",\"version\":1}");
    assert_null(strstr(buf_str(&x->resp.body), "emailLower"));
    assert_string_equal(x->out.route, "/users");
    assert_int_equal(x->out.ddb_attempts, 1);
    assert_string_equal(x->out.ddb_error, "");

    const json_t *r = only_call(x, DDB_PUT_ITEM);
    expect_member(r, "ConditionExpression", "\"attribute_not_exists(userId)\"");
    expect_member(r, "ReturnValuesOnConditionCheckFailure", "\"ALL_OLD\"");
    expect_member(
        r, "Item",
        "{\"userId\":{\"S\":\"" ID "\"},\"name\":{\"S\":\"Ada Lovelace\"},"
        "\"email\":{\"S\":\"Ada@Example.com\"},\"emailLower\":{\"S\":\"ada@example.com\"},"
        "\"lastWriteToken\":{\"S\":\"" CREATE_TOKEN "\"},"
        "\"age\":{\"N\":\"36\"},\"createdAt\":{\"S\":\"" NOW_ISO "\"},"
        "\"updatedAt\":{\"S\":\"" NOW_ISO "\"},\"version\":{\"N\":\"1\"}}");
    assert_int_equal(json_object_size(r), 4);
    assert_null(strstr(buf_str(&x->resp.body), "lastWriteToken"));
}

static void test_create_without_age(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x, "{\"email\":\"ada@example.com\",\"name\":\"Ada\"}");
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    assert_int_equal(x->resp.status, 201);
    expect_body(x, "{\"userId\":\"" ID "\",\"name\":\"Ada\",\"email\":\"ada@example.com\","
                   "\"createdAt\":\"" NOW_ISO "\",\"updatedAt\":\"" NOW_ISO "\",\"version\":1}");
    const json_t *item = json_object_get(only_call(x, DDB_PUT_ITEM), "Item");
    assert_null(json_object_get(item, "age"));
}

/* The ALL_OLD item a retried PutItem meets: stored with write token tok. */
#define OWN_CREATE(tok)                                                                            \
    "{\"Item\":{\"userId\":{\"S\":\"" ID "\"},\"name\":{\"S\":\"Ada\"},"                           \
    "\"email\":{\"S\":\"Ada@x.io\"},\"emailLower\":{\"S\":\"ada@x.io\"},"                          \
    "\"lastWriteToken\":{\"S\":\"" tok "\"},\"createdAt\":{\"S\":\"" NOW_ISO "\"},"                \
    "\"updatedAt\":{\"S\":\"" NOW_ISO "\"},\"version\":{\"N\":\"1\"}}}"

/* A retried PutItem that finds the item it wrote itself is the success it was; the same item
 * without a lost answer before it, or with another token, proves nothing. */
static void test_create_retry_after_own_write(void **state) {
    t *x = *state;
    static const struct {
        const char *item;
        bool lost;
        int status;
    } cases[] = {{OWN_CREATE(CREATE_TOKEN), true, 201},
                 {OWN_CREATE(CREATE_TOKEN), false, 500},
                 {OWN_CREATE("5d1e8f0a-3b2c-4d4e-8f6a-7b8c9d0e1f2a"), true, 500}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_ddb_free(&x->ddb);
        x->ids.counter = 0;
        req(x, "POST", "/users");
        json_body(x, "{\"name\":\"Ada\",\"email\":\"Ada@x.io\"}");
        fake_ddb_push_json(&x->ddb, DDB_CONDITION_FAILED, cases[i].item,
                           "ConditionalCheckFailedException");
        x->ddb.replies[0].maybe_applied = cases[i].lost;
        run(x);
        assert_int_equal(x->resp.status, cases[i].status);
        assert_int_equal(x->ddb.n_calls, 1);
        if (cases[i].status == 201) {
            assert_string_equal(body_str(x, "userId"), ID);
            assert_string_equal(resp_header(x, "Location"), "/users/" ID);
            assert_string_equal(resp_header(x, "ETag"), "\"1\"");
        }
    }
}

/* Someone else's item under our new id cannot be reported as our creation. */
static void test_create_collision_is_internal(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"Ada\",\"email\":\"ada@x.io\"}");
    char *other = item_json(ID, "Bob", "bob@x.io", NULL, 4);
    char doc[2200];
    snprintf(doc, sizeof doc, "{\"Item\":%s}", other);
    free(other);
    fake_ddb_push_json(&x->ddb, DDB_CONDITION_FAILED, doc, "ConditionalCheckFailedException");
    run(x);
    expect_problem(x, 500, "INTERNAL");
    assert_string_equal(x->out.ddb_error, "ConditionalCheckFailedException");
    assert_null(strstr(buf_str(&x->resp.body), "Conditional"));
    assert_null(resp_header(x, "Location"));
}

static void test_create_reports_every_field_error(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"   \",\"email\":\"not-an-email\",\"age\":36.5}");
    run(x);
    expect_errors(x, "[{\"field\":\"name\",\"message\":\"must be 1 to 100 characters\"},"
                     "{\"field\":\"email\",\"message\":\"must be a valid email address\"},"
                     "{\"field\":\"age\",\"message\":\"must be an integer from 0 to 150\"}]");
    assert_string_equal(body_str(x, "detail"), "3 fields are invalid");
    assert_string_equal(body_str(x, "title"), "Bad Request");
    expect_no_calls(x);
}

static void test_create_required_fields(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x, "{}");
    run(x);
    expect_errors(x, "[{\"field\":\"name\",\"message\":\"is required\"},"
                     "{\"field\":\"email\",\"message\":\"is required\"}]");
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"Ada\",\"age\":null}");
    run(x);
    expect_errors(x, "[{\"field\":\"age\",\"message\":\"must be an integer from 0 to 150\"},"
                     "{\"field\":\"email\",\"message\":\"is required\"}]");
    assert_string_equal(body_str(x, "detail"), "2 fields are invalid");
    expect_no_calls(x);
}

static void test_create_unknown_and_server_fields(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x,
              "{\"name\":\"Ada\",\"userId\":\"" ID "\",\"email\":\"a@b.io\",\"nmae\":\"typo\","
              "\"createdAt\":\"x\",\"updatedAt\":\"y\",\"version\":3,\"emailLower\":\"a@b.io\"}");
    run(x);
    expect_errors(x, "[{\"field\":\"userId\",\"message\":\"is set by the server\"},"
                     "{\"field\":\"nmae\",\"message\":\"is not a known field\"},"
                     "{\"field\":\"createdAt\",\"message\":\"is set by the server\"},"
                     "{\"field\":\"updatedAt\",\"message\":\"is set by the server\"},"
                     "{\"field\":\"version\",\"message\":\"is set by the server\"},"
                     "{\"field\":\"emailLower\",\"message\":\"is not a known field\"}]");
    expect_no_calls(x);
}

static void test_create_wrong_types(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x, "{\"name\":42,\"email\":[\"a@b.io\"],\"age\":\"36\"}");
    run(x);
    expect_errors(x, "[{\"field\":\"name\",\"message\":\"must be a string\"},"
                     "{\"field\":\"email\",\"message\":\"must be a string\"},"
                     "{\"field\":\"age\",\"message\":\"must be an integer from 0 to 150\"}]");
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"Ada\\u0007\",\"email\":\"a@b.io\",\"age\":true}");
    run(x);
    expect_errors(x, "[{\"field\":\"name\",\"message\":\"must not contain control characters\"},"
                     "{\"field\":\"age\",\"message\":\"must be an integer from 0 to 150\"}]");
    expect_no_calls(x);
}

/* ---- Media type, size, JSON ---- */

/* Sends body "[]" with content types: 415 when refused, else the JSON check (400) answers. */
static void check_media_type(t *x, const char *method, const char *path, const char *const *types,
                             size_t n_types, int want) {
    req(x, method, path);
    for (size_t i = 0; i < n_types; i++)
        header(x, "content-type", types[i]);
    body_n(x, "[]", 2);
    run(x);
    if (x->resp.status != want)
        fail_msg("%s with Content-Type '%s' (%zu values): got %d, want %d", method,
                 n_types ? types[0] : "(none)", n_types, x->resp.status, want);
    if (want == 415)
        expect_problem(x, 415, "UNSUPPORTED_MEDIA_TYPE");
    else
        expect_problem(x, 400, "INVALID_JSON");
    expect_no_calls(x);
}

static void test_media_types(void **state) {
    t *x = *state;
    static const char *const ok[] = {
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "application/json; charset=\"utf-8\"",
        "application/json ; foo=bar; charset=utf-8",
        "  application/json  ",
    };
    static const char *const bad[] = {
        "text/plain",
        "application/jsonx",
        "application/json-seq",
        "application/xml",
        "application/json; charset=latin1",
        "application/json; charset=utf-16",
        "application/json; charset=\"utf-8",
        "application/json; charset",
        "application/json garbage",
        "application/merge-patch+json", /* only for PATCH */
        "application",
        "",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        check_media_type(x, "POST", "/users", &ok[i], 1, 400);
        check_media_type(x, "PUT", "/users/" ID, &ok[i], 1, 400);
        check_media_type(x, "PATCH", "/users/" ID, &ok[i], 1, 400);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        check_media_type(x, "POST", "/users", &bad[i], 1, 415);
        check_media_type(x, "PUT", "/users/" ID, &bad[i], 1, 415);
    }
    static const char *const merge[] = {"application/merge-patch+json",
                                        "application/merge-patch+json; charset=utf-8"};
    check_media_type(x, "PATCH", "/users/" ID, &merge[0], 1, 400);
    check_media_type(x, "PATCH", "/users/" ID, &merge[1], 1, 400);
    /* Missing and repeated Content-Type. */
    check_media_type(x, "POST", "/users", NULL, 0, 415);
    static const char *const twice[] = {"application/json", "application/json"};
    check_media_type(x, "POST", "/users", twice, 2, 415);
    check_media_type(x, "PATCH", "/users/" ID, twice, 2, 415);
}

/* A valid create body of exactly n bytes, padded with spaces. */
static char *padded_body(size_t n) {
    const char *head = "{\"name\":\"Ada\",\"email\":\"ada@example.com\"";
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, ' ', n);
    memcpy(s, head, strlen(head));
    s[n - 1] = '}';
    s[n] = '\0';
    return s;
}

static void test_body_size_limit(void **state) {
    t *x = *state;
    char *at_limit = padded_body(16384);
    char *over = padded_body(16385);

    req(x, "POST", "/users");
    json_body(x, over);
    run(x);
    expect_problem(x, 413, "PAYLOAD_TOO_LARGE");
    expect_no_calls(x);

    /* The media type is checked before the size. */
    req(x, "POST", "/users");
    header(x, "content-type", "text/plain");
    body_n(x, over, 16385);
    run(x);
    expect_problem(x, 415, "UNSUPPORTED_MEDIA_TYPE");

    /* The size before the JSON: 16385 bytes of garbage are 413, not 400. */
    memset(over, '!', 16385);
    req(x, "POST", "/users");
    json_body(x, over);
    run(x);
    expect_problem(x, 413, "PAYLOAD_TOO_LARGE");
    expect_no_calls(x);

    req(x, "PATCH", "/users/" ID);
    json_body(x, over);
    run(x);
    expect_problem(x, 413, "PAYLOAD_TOO_LARGE");
    expect_no_calls(x);

    req(x, "POST", "/users");
    json_body(x, at_limit);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    assert_int_equal(x->resp.status, 201);
    assert_int_equal(x->ddb.n_calls, 1);
    free(at_limit);
    free(over);
}

static void test_invalid_json(void **state) {
    t *x = *state;
    static const struct {
        const char *what;
        const char *body;
        size_t len;
    } cases[] = {
        {"duplicate keys", "{\"name\":\"a\",\"name\":\"b\",\"email\":\"a@b.io\"}", 0},
        {"NUL byte", "{\"name\":\"a\0\",\"email\":\"a@b.io\"}",
         sizeof "{\"name\":\"a\0\",\"email\":\"a@b.io\"}" - 1},
        {"NUL between members", "{\"name\":\"a\"\0,\"email\":\"a@b.io\"}",
         sizeof "{\"name\":\"a\"\0,\"email\":\"a@b.io\"}" - 1},
        {"NUL after the object", "{\"name\":\"a\",\"email\":\"a@b.io\"}\0",
         sizeof "{\"name\":\"a\",\"email\":\"a@b.io\"}\0" - 1},
        {"array root", "[{\"name\":\"a\",\"email\":\"a@b.io\"}]", 0},
        {"string root", "\"name\"", 0},
        {"number root", "42", 0},
        {"null root", "null", 0},
        {"bad UTF-8", "{\"name\":\"Andr\xE9\",\"email\":\"a@b.io\"}", 0},
        {"surrogate in UTF-8", "{\"name\":\"\xED\xA0\x80\",\"email\":\"a@b.io\"}", 0},
        {"lone surrogate escape", "{\"name\":\"\\ud800\",\"email\":\"a@b.io\"}", 0},
        {"truncated", "{\"name\":\"Ada\",", 0},
        {"trailing garbage", "{\"name\":\"Ada\",\"email\":\"a@b.io\"} x", 0},
        {"two documents", "{}{}", 0},
        {"single quotes", "{'name':'Ada'}", 0},
        {"huge integer", "{\"name\":\"A\",\"email\":\"a@b.io\",\"age\":123456789012345678901234}",
         0},
        {"huge real", "{\"name\":\"A\",\"email\":\"a@b.io\",\"age\":1e999}", 0},
        {"empty", "", 0},
        {"whitespace only", "   \n", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        req(x, "POST", "/users");
        header(x, "content-type", "application/json");
        body_n(x, cases[i].body, cases[i].len ? cases[i].len : strlen(cases[i].body));
        run(x);
        if (x->resp.status != 400 || strcmp(x->out.code, "INVALID_JSON") != 0)
            fail_msg("%s: got %d %s", cases[i].what, x->resp.status, buf_str(&x->resp.body));
    }
    /* An escaped NUL is valid JSON: the field rules refuse it, naming the field. */
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"a\\u0000b\",\"email\":\"a\\u0000@b.io\"}");
    run(x);
    expect_problem(x, 400, "VALIDATION_FAILED");
    assert_non_null(strstr(buf_str(&x->resp.body), "\"field\":\"name\""));
    assert_non_null(strstr(buf_str(&x->resp.body), "\"field\":\"email\""));
    assert_int_equal(x->ddb.n_calls, 0);
    /* Deep nesting. */
    char deep[4001];
    memset(deep, '[', 4000);
    deep[4000] = '\0';
    req(x, "POST", "/users");
    json_body(x, deep);
    run(x);
    expect_problem(x, 400, "INVALID_JSON");
    /* No body at all. */
    req(x, "POST", "/users");
    header(x, "content-type", "application/json");
    run(x);
    expect_problem(x, 400, "INVALID_JSON");
    /* A base64 body that does not decode, whatever body bytes came along. */
    req(x, "PUT", "/users/" ID);
    header(x, "content-type", "application/json");
    x->req.body_bad_base64 = true;
    run(x);
    expect_problem(x, 400, "INVALID_JSON");
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"Ada\",\"email\":\"a@b.io\"}");
    x->req.body_bad_base64 = true;
    run(x);
    expect_problem(x, 400, "INVALID_JSON");
    expect_no_calls(x);
}

/* ---- Routing ---- */

static void test_get_found(void **state) {
    t *x = *state;
    req(x, "GET", "/users/" ID);
    push_item_reply(x, "Item", ID, "36", 7);
    run(x);
    assert_int_equal(x->resp.status, 200);
    assert_string_equal(resp_header(x, "ETag"), "\"7\"");
    char want[512];
    user_json(want, sizeof want, ID, "36", 7);
    expect_body(x, want);
    assert_string_equal(x->out.route, "/users/{userId}");

    const json_t *r = only_call(x, DDB_GET_ITEM);
    expect_member(r, "Key", "{\"userId\":{\"S\":\"" ID "\"}}");
    expect_member(r, "ConsistentRead", "true");
    assert_int_equal(json_object_size(r), 3);
}

static void test_get_missing_and_malformed(void **state) {
    t *x = *state;
    req(x, "GET", "/users/" ID);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
    assert_null(resp_header(x, "ETag"));
    assert_int_equal(x->ddb.n_calls, 1);

    /* An item without the attributes of a user is not served as one. */
    req(x, "GET", "/users/" ID);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{\"Item\":{\"userId\":{\"S\":\"" ID "\"}}}", NULL);
    run(x);
    expect_problem(x, 500, "INTERNAL");
}

static void test_non_canonical_id_is_404_without_ddb(void **state) {
    t *x = *state;
    static const char *const paths[] = {
        "/users/" ID_UPPER,  "/users/3f0c8a9e8d1b4c2a9f5e2b7d3c1a4e6f",
        "/users/{" ID "}",   "/users/" ID "x",
        "/users/not-a-uuid", "/users/3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6g",
    };
    static const char *const methods[] = {"GET", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        for (size_t m = 0; m < 4; m++) {
            req(x, methods[m], paths[i]);
            json_body(x, "{\"name\":\"Ada\"}");
            run(x);
            expect_problem(x, 404, "NOT_FOUND");
        }
    }
    expect_no_calls(x);
}

static void test_unknown_path_and_method(void **state) {
    t *x = *state;
    req(x, "GET", "/nope");
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
    assert_null(resp_header(x, "Allow"));
    assert_null(x->out.route);

    req(x, "HEAD", "/users");
    run(x);
    expect_problem(x, 405, "METHOD_NOT_ALLOWED");
    assert_string_equal(resp_header(x, "Allow"), "GET, POST, OPTIONS");

    req(x, "DELETE", "/users");
    run(x);
    expect_problem(x, 405, "METHOD_NOT_ALLOWED");

    /* The method is checked before the id: a bad id with a wrong method is 405. */
    req(x, "POST", "/users/not-a-uuid");
    run(x);
    expect_problem(x, 405, "METHOD_NOT_ALLOWED");
    assert_string_equal(resp_header(x, "Allow"), "GET, PUT, PATCH, DELETE, OPTIONS");
    assert_string_equal(body_str(x, "title"), "Method Not Allowed");

    req(x, "", "/users");
    run(x);
    expect_problem(x, 405, "METHOD_NOT_ALLOWED");
    expect_no_calls(x);
}

static void test_preflight(void **state) {
    t *x = *state;
    req(x, "OPTIONS", "/users");
    header(x, "origin", "https://app.example");
    header(x, "access-control-request-method", "POST");
    run(x);
    assert_int_equal(x->resp.status, 204);
    assert_string_equal(resp_header(x, "Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
    assert_string_equal(resp_header(x, "Access-Control-Allow-Headers"),
                        "Content-Type, Authorization, X-Api-Key, X-Amz-Date, "
                        "X-Amz-Security-Token, If-Match, Idempotency-Key");
    assert_string_equal(resp_header(x, "Access-Control-Max-Age"), "600");
    assert_string_equal(resp_header(x, "Access-Control-Allow-Origin"), "*");

    req(x, "OPTIONS", "/users/" ID);
    run(x);
    assert_int_equal(x->resp.status, 204);
    assert_string_equal(resp_header(x, "Access-Control-Allow-Methods"),
                        "GET, PUT, PATCH, DELETE, OPTIONS");

    /* No lookup happens, so an id that is not canonical does not matter. */
    req(x, "OPTIONS", "/users/NOT-CANONICAL");
    run(x);
    assert_int_equal(x->resp.status, 204);

    req(x, "OPTIONS", "/other");
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
    expect_no_calls(x);
}

/* ---- List ---- */

static void test_list_pages_round_trip(void **state) {
    t *x = *state;
    char *a = item_json(ID, "Ada Lovelace", "Ada@Example.com", "36", 1);
    char *b = item_json(ID2, "Ada Lovelace", "Ada@Example.com", NULL, 2);
    char reply[6000];
    snprintf(reply, sizeof reply,
             "{\"Items\":[%s,{\"userId\":{\"S\":\"junk\"}},%s],\"Count\":3,\"ScannedCount\":3,"
             "\"LastEvaluatedKey\":{\"userId\":{\"S\":\"" ID2 "\"}}}",
             a, b);
    free(a);
    free(b);

    req(x, "GET", "/users");
    fake_ddb_push_json(&x->ddb, DDB_OK, reply, NULL);
    run(x);
    assert_int_equal(x->resp.status, 200);
    const json_t *r = only_call(x, DDB_SCAN);
    expect_member(r, "Limit", "20");
    expect_member(r, "ConsistentRead", "true");
    assert_null(json_object_get(r, "ExclusiveStartKey"));

    char token[128], u1[512], u2[512], want[2048];
    b64url("{\"userId\":{\"S\":\"" ID2 "\"}}", token, sizeof token);
    user_json(u1, sizeof u1, ID, "36", 1);
    user_json(u2, sizeof u2, ID2, NULL, 2);
    snprintf(want, sizeof want, "{\"users\":[%s,%s],\"count\":2,\"nextToken\":\"%s\"}", u1, u2,
             token);
    expect_body(x, want);
    assert_null(strstr(buf_str(&x->resp.body), "emailLower"));

    /* Following the token asks DynamoDB to start after the key it carries. */
    char got_token[128];
    snprintf(got_token, sizeof got_token, "%s", body_str(x, "nextToken"));
    fake_ddb_free(&x->ddb);
    req(x, "GET", "/users");
    query(x, "nextToken", got_token);
    query(x, "limit", "2");
    fake_ddb_push_json(&x->ddb, DDB_OK, "{\"Items\":[],\"Count\":0,\"ScannedCount\":0}", NULL);
    run(x);
    assert_int_equal(x->resp.status, 200);
    r = only_call(x, DDB_SCAN);
    expect_member(r, "ExclusiveStartKey", "{\"userId\":{\"S\":\"" ID2 "\"}}");
    expect_member(r, "Limit", "2");
    expect_body(x, "{\"users\":[],\"count\":0}");
}

static void check_list_param(t *x, const char *name, const char *const *values, size_t n, bool ok) {
    fake_ddb_free(&x->ddb);
    req(x, "GET", "/users");
    for (size_t i = 0; i < n; i++)
        query(x, name, values[i]);
    if (ok)
        fake_ddb_push_json(&x->ddb, DDB_OK, "{\"Items\":[]}", NULL);
    run(x);
    if (ok) {
        if (x->resp.status != 200)
            fail_msg("%s=%s refused: %s", name, values[0], buf_str(&x->resp.body));
        assert_int_equal(x->ddb.n_calls, 1);
        return;
    }
    if (x->resp.status != 400)
        fail_msg("%s='%s' (%zu values) accepted", name, n ? values[0] : "", n);
    expect_problem(x, 400, "VALIDATION_FAILED");
    const json_t *errors = json_object_get(x->body, "errors");
    assert_int_equal(json_array_size(errors), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "field")),
                        name);
    expect_no_calls(x);
}

static void test_list_limit(void **state) {
    t *x = *state;
    static const char *const ok[] = {"1", "20", "100", "007"};
    static const char *const bad[] = {"0",   "101", "-1",   "+5",
                                      " 5",  "5 ",  "abc",  "",
                                      "1.5", "1e2", "0x10", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        check_list_param(x, "limit", &ok[i], 1, true);
        char want[8];
        snprintf(want, sizeof want, "%d", atoi(ok[i]));
        expect_member(fake_ddb_call_at(&x->ddb, 0)->request, "Limit", want);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_list_param(x, "limit", &bad[i], 1, false);
    static const char *const twice[] = {"10", "10"};
    check_list_param(x, "limit", twice, 2, false);
    expect_errors(x, "[{\"field\":\"limit\",\"message\":\"must be given once\"}]");
}

static void test_list_bad_tokens(void **state) {
    t *x = *state;
    char good[128];
    b64url("{\"userId\":{\"S\":\"" ID "\"}}", good, sizeof good);
    check_list_param(x, "nextToken", (const char *const[]){good}, 1, true);

    static const char *const payloads[] = {
        "{\"userId\":{\"S\":\"" ID_UPPER "\"}}",
        "{\"userId\":{\"S\":\"not-a-uuid\"}}",
        "{\"userId\":{\"S\":\"" ID "\"},\"x\":1}",
        "{\"userId\":{\"S\":\"" ID "\",\"N\":\"1\"}}",
        "{\"userId\":{\"N\":\"1\"}}",
        "{\"userId\":\"" ID "\"}",
        "{\"id\":{\"S\":\"" ID "\"}}",
        "{\"userId\":{\"S\":\"" ID "\"},\"userId\":{\"S\":\"" ID "\"}}",
        "[\"" ID "\"]",
        "\"" ID "\"",
        "{}",
        "not json",
        "",
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        char tok[256];
        b64url(payloads[i], tok, sizeof tok);
        check_list_param(x, "nextToken", (const char *const[]){tok}, 1, false);
    }

    char padded[132], plus[128], bits[128], long_tok[300];
    snprintf(padded, sizeof padded, "%s=", good);
    check_list_param(x, "nextToken", (const char *const[]){padded}, 1, false);
    snprintf(plus, sizeof plus, "%s", good);
    plus[3] = '+'; /* standard base64, not base64url */
    check_list_param(x, "nextToken", (const char *const[]){plus}, 1, false);
    /* The same bytes, but with unused low bits set in the last character. */
    snprintf(bits, sizeof bits, "%s", good);
    size_t last = strlen(bits) - 1;
    assert_true(strlen(bits) % 4 != 0);
    bits[last] = bits[last] == 'A' ? 'B' : (char)(bits[last] + 1);
    check_list_param(x, "nextToken", (const char *const[]){bits}, 1, false);
    memset(long_tok, 'A', 257);
    long_tok[257] = '\0';
    check_list_param(x, "nextToken", (const char *const[]){long_tok}, 1, false);
    static const char *const raw[] = {"a", "abc!", "ab c", "%7B%7D", "A"};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        check_list_param(x, "nextToken", &raw[i], 1, false);
    const char *twice[] = {good, good};
    check_list_param(x, "nextToken", twice, 2, false);
    expect_errors(x, "[{\"field\":\"nextToken\",\"message\":\"must be given once\"}]");

    /* Length: the key padded with JSON whitespace to 192 bytes makes a 256-character token,
     * the most accepted; 193 bytes make 258 characters, refused before decoding. */
    char padded_key[200], tok256[300], tok258[300];
    const char *key = "{\"userId\":{\"S\":\"" ID "\"}}";
    memset(padded_key, ' ', sizeof padded_key);
    memcpy(padded_key, key, strlen(key));
    padded_key[192] = '\0';
    b64url(padded_key, tok256, sizeof tok256);
    assert_int_equal(strlen(tok256), 256);
    check_list_param(x, "nextToken", (const char *const[]){tok256}, 1, true);
    expect_member(fake_ddb_call_at(&x->ddb, 0)->request, "ExclusiveStartKey",
                  "{\"userId\":{\"S\":\"" ID "\"}}");
    padded_key[192] = ' ';
    padded_key[193] = '\0';
    b64url(padded_key, tok258, sizeof tok258);
    assert_int_equal(strlen(tok258), 258);
    check_list_param(x, "nextToken", (const char *const[]){tok258}, 1, false);

    /* Both parameters wrong: both reported. */
    req(x, "GET", "/users");
    query(x, "limit", "0");
    query(x, "nextToken", "!");
    run(x);
    expect_errors(x, "[{\"field\":\"limit\",\"message\":\"must be an integer from 1 to 100\"},"
                     "{\"field\":\"nextToken\",\"message\":\"is not a token this API issued\"}]");
}

/* ---- Update ---- */

static void test_update_partial(void **state) {
    t *x = *state;
    req(x, "PATCH", "/users/" ID);
    header(x, "content-type", "application/merge-patch+json");
    body_n(x, "{\"name\":\" Ada Lovelace \"}", 25);
    push_item_reply(x, "Attributes", ID, "36", 8);
    run(x);
    assert_int_equal(x->resp.status, 200);
    assert_string_equal(resp_header(x, "ETag"), "\"8\"");
    char want[512];
    user_json(want, sizeof want, ID, "36", 8);
    expect_body(x, want);

    const json_t *r = only_call(x, DDB_UPDATE_ITEM);
    expect_member(r, "Key", "{\"userId\":{\"S\":\"" ID "\"}}");
    expect_member(r, "UpdateExpression",
                  "\"SET #name = :name, #updatedAt = :now, #lastWriteToken = :token, "
                  "#version = #version + :one\"");
    expect_member(r, "ConditionExpression", UPDATE_CONDITION "\"");
    expect_member(r, "ExpressionAttributeNames",
                  "{\"#name\":\"name\",\"#updatedAt\":\"updatedAt\","
                  "\"#lastWriteToken\":\"lastWriteToken\",\"#version\":\"version\"}");
    expect_member(r, "ExpressionAttributeValues",
                  "{\":name\":{\"S\":\"Ada Lovelace\"},\":now\":{\"S\":\"" NOW_ISO "\"},"
                  "\":token\":{\"S\":\"" UPDATE_TOKEN "\"},\":one\":{\"N\":\"1\"}}");
    expect_member(r, "ReturnValues", "\"ALL_NEW\"");
    expect_member(r, "ReturnValuesOnConditionCheckFailure", "\"ALL_OLD\"");
    assert_int_equal(json_object_size(r), 8);
}

static void test_update_every_field(void **state) {
    t *x = *state;
    req(x, "PUT", "/users/" ID);
    json_body(x, "{\"age\":150,\"email\":\"Ada@Example.COM\",\"name\":\"Ada\"}");
    push_item_reply(x, "Attributes", ID, "150", 2);
    run(x);
    assert_int_equal(x->resp.status, 200);
    const json_t *r = only_call(x, DDB_UPDATE_ITEM);
    expect_member(r, "UpdateExpression",
                  "\"SET #name = :name, #email = :email, #emailLower = :emailLower, #age = :age, "
                  "#updatedAt = :now, #lastWriteToken = :token, #version = #version + :one\"");
    expect_member(r, "ExpressionAttributeValues",
                  "{\":name\":{\"S\":\"Ada\"},\":email\":{\"S\":\"Ada@Example.COM\"},"
                  "\":emailLower\":{\"S\":\"ada@example.com\"},\":age\":{\"N\":\"150\"},"
                  "\":now\":{\"S\":\"" NOW_ISO "\"},\":token\":{\"S\":\"" UPDATE_TOKEN "\"},"
                  "\":one\":{\"N\":\"1\"}}");
    expect_member(r, "ExpressionAttributeNames",
                  "{\"#name\":\"name\",\"#email\":\"email\",\"#emailLower\":\"emailLower\","
                  "\"#age\":\"age\",\"#updatedAt\":\"updatedAt\","
                  "\"#lastWriteToken\":\"lastWriteToken\",\"#version\":\"version\"}");
}

static void test_update_age_null_removes(void **state) {
    t *x = *state;
    req(x, "PATCH", "/users/" ID);
    json_body(x, "{\"age\":null}");
    push_item_reply(x, "Attributes", ID, NULL, 3);
    run(x);
    assert_int_equal(x->resp.status, 200);
    assert_null(json_object_get(x->body, "age"));
    const json_t *r = only_call(x, DDB_UPDATE_ITEM);
    expect_member(r, "UpdateExpression",
                  "\"SET #updatedAt = :now, #lastWriteToken = :token, #version = #version + :one "
                  "REMOVE #age\"");
    expect_member(r, "ExpressionAttributeNames",
                  "{\"#updatedAt\":\"updatedAt\",\"#lastWriteToken\":\"lastWriteToken\","
                  "\"#version\":\"version\",\"#age\":\"age\"}");
    expect_member(r, "ExpressionAttributeValues",
                  "{\":now\":{\"S\":\"" NOW_ISO "\"},\":token\":{\"S\":\"" UPDATE_TOKEN "\"},"
                  "\":one\":{\"N\":\"1\"}}");
}

static void test_update_needs_a_known_field(void **state) {
    t *x = *state;
    req(x, "PUT", "/users/" ID);
    json_body(x, "{}");
    run(x);
    expect_errors(x, "[{\"field\":\"body\",\"message\":"
                     "\"must contain at least one of name, email, age\"}]");
    req(x, "PATCH", "/users/" ID);
    json_body(x, "{\"nick\":\"a\",\"version\":2}");
    run(x);
    expect_errors(x, "[{\"field\":\"nick\",\"message\":\"is not a known field\"},"
                     "{\"field\":\"version\",\"message\":\"is set by the server\"},"
                     "{\"field\":\"body\",\"message\":"
                     "\"must contain at least one of name, email, age\"}]");
    req(x, "PATCH", "/users/" ID);
    json_body(x, "{\"email\":\"bad@\",\"age\":-1}");
    run(x);
    expect_errors(x, "[{\"field\":\"email\",\"message\":\"must be a valid email address\"},"
                     "{\"field\":\"age\",\"message\":\"must be an integer from 0 to 150\"}]");
    expect_no_calls(x);
}

/* Prepares an update of the name with If-Match: values (n field lines), no calls yet. */
static void update_with_if_match(t *x, const char *const *values, size_t n) {
    fake_ddb_free(&x->ddb);
    req(x, "PATCH", "/users/" ID);
    for (size_t i = 0; i < n; i++)
        header(x, "if-match", values[i]);
    json_body(x, "{\"name\":\"Ada\"}");
}

static void test_update_if_match(void **state) {
    t *x = *state;
    const char *one[] = {"\"3\""};
    update_with_if_match(x, one, 1);
    push_item_reply(x, "Attributes", ID, NULL, 4);
    run(x);
    assert_int_equal(x->resp.status, 200);
    assert_string_equal(resp_header(x, "ETag"), "\"4\"");
    const json_t *r = only_call(x, DDB_UPDATE_ITEM);
    expect_member(r, "ConditionExpression", UPDATE_CONDITION " AND #version IN (:v0)\"");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(r, "ExpressionAttributeValues"), ":v0"), "N")),
        "3");

    /* Another version: the ALL_OLD item says the user exists, so 412. */
    update_with_if_match(x, one, 1);
    push_item_reply(x, "Item", ID, NULL, 5);
    x->ddb.replies[0].status = DDB_CONDITION_FAILED;
    snprintf(x->ddb.replies[0].error_type, sizeof x->ddb.replies[0].error_type,
             "ConditionalCheckFailedException");
    run(x);
    expect_problem(x, 412, "PRECONDITION_FAILED");
    assert_string_equal(body_str(x, "title"), "Precondition Failed");
    assert_string_equal(x->out.ddb_error, "ConditionalCheckFailedException");
    assert_int_equal(x->ddb.n_calls, 1);

    /* No item came back: the user does not exist, whatever If-Match said. */
    update_with_if_match(x, one, 1);
    fake_ddb_push_json(&x->ddb, DDB_CONDITION_FAILED, "{\"__type\":\"x\"}",
                       "ConditionalCheckFailedException");
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
    assert_int_equal(x->ddb.n_calls, 1);

    /* The same without If-Match. */
    update_with_if_match(x, NULL, 0);
    fake_ddb_push_json(&x->ddb, DDB_CONDITION_FAILED, NULL, "ConditionalCheckFailedException");
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
    expect_member(only_call(x, DDB_UPDATE_ITEM), "ConditionExpression", UPDATE_CONDITION "\"");
}

#define SEVENTEEN_TAGS                                                                             \
    "\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\","    \
    "\"15\",\"16\","                                                                               \
    "\"17\""

static void test_if_match_forms(void **state) {
    t *x = *state;
    /* "*": existence only. */
    const char *star[] = {"*"};
    update_with_if_match(x, star, 1);
    push_item_reply(x, "Attributes", ID, NULL, 2);
    run(x);
    assert_int_equal(x->resp.status, 200);
    expect_member(only_call(x, DDB_UPDATE_ITEM), "ConditionExpression", UPDATE_CONDITION "\"");

    /* A list: weak tags and tags that are not versions are dropped; repeats are one list. */
    const char *list[] = {"\"1\", W/\"2\" ,\"x\",, \"01\"", "\"3\",\"1\""};
    update_with_if_match(x, list, 2);
    push_item_reply(x, "Attributes", ID, NULL, 2);
    run(x);
    assert_int_equal(x->resp.status, 200);
    const json_t *r = only_call(x, DDB_UPDATE_ITEM);
    expect_member(r, "ConditionExpression", UPDATE_CONDITION " AND #version IN (:v0, :v1)\"");
    const json_t *vals = json_object_get(r, "ExpressionAttributeValues");
    expect_member(vals, ":v0", "{\"N\":\"1\"}");
    expect_member(vals, ":v1", "{\"N\":\"3\"}");

    /* Only weak tags: nothing can match, yet one call still tells 404 from 412. */
    const char *weak[] = {"W/\"2\""};
    update_with_if_match(x, weak, 1);
    push_item_reply(x, "Item", ID, NULL, 2);
    x->ddb.replies[0].status = DDB_CONDITION_FAILED;
    run(x);
    expect_problem(x, 412, "PRECONDITION_FAILED");
    r = only_call(x, DDB_UPDATE_ITEM);
    expect_member(r, "ConditionExpression", UPDATE_CONDITION " AND #version IN (:v0)\"");
    expect_member(json_object_get(r, "ExpressionAttributeValues"), ":v0", "{\"N\":\"0\"}");

    /* Malformed. */
    static const char *const bad[] = {
        "3", "\"3", "W/3", "w/\"3\"", "*, \"1\"",     "\"1\" \"2\"",
        "",  " , ", "**",  "\"a b\"", SEVENTEEN_TAGS,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        update_with_if_match(x, &bad[i], 1);
        run(x);
        if (x->resp.status != 400)
            fail_msg("If-Match '%s' accepted", bad[i]);
        expect_errors(x, "[{\"field\":\"If-Match\",\"message\":"
                         "\"must be \\\"*\\\" or a list of entity tags like \\\"3\\\"\"}]");
        expect_no_calls(x);
    }
    const char *star_twice[] = {"*", "\"1\""};
    update_with_if_match(x, star_twice, 2);
    run(x);
    expect_problem(x, 400, "VALIDATION_FAILED");

    /* Sixteen tags are fine. */
    const char *sixteen[] = {"\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\","
                             "\"11\",\"12\",\"13\",\"14\",\"15\",\"16\""};
    update_with_if_match(x, sixteen, 1);
    push_item_reply(x, "Attributes", ID, NULL, 2);
    run(x);
    assert_int_equal(x->resp.status, 200);

    /* Field errors and If-Match errors are reported together. */
    const char *bad_tag[] = {"nope"};
    update_with_if_match(x, bad_tag, 1);
    x->req.body = "{\"age\":\"x\"}";
    x->req.body_len = strlen(x->req.body);
    run(x);
    expect_errors(x, "[{\"field\":\"age\",\"message\":\"must be an integer from 0 to 150\"},"
                     "{\"field\":\"If-Match\",\"message\":"
                     "\"must be \\\"*\\\" or a list of entity tags like \\\"3\\\"\"}]");
}

/* ---- Delete ---- */

static void test_delete(void **state) {
    t *x = *state;
    req(x, "DELETE", "/users/" ID);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    assert_int_equal(x->resp.status, 200);
    expect_body(x, "{\"message\":\"User deleted\",\"userId\":\"" ID "\"}");
    const json_t *r = only_call(x, DDB_DELETE_ITEM);
    expect_member(r, "Key", "{\"userId\":{\"S\":\"" ID "\"}}");
    expect_member(r, "ConditionExpression", "\"attribute_exists(userId)\"");
    expect_member(r, "ReturnValuesOnConditionCheckFailure", "\"ALL_OLD\"");
    assert_null(json_object_get(r, "ExpressionAttributeNames"));
    assert_null(json_object_get(r, "ExpressionAttributeValues"));

    fake_ddb_free(&x->ddb);
    req(x, "DELETE", "/users/" ID);
    fake_ddb_push_json(&x->ddb, DDB_CONDITION_FAILED, NULL, "ConditionalCheckFailedException");
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
}

static void test_delete_if_match(void **state) {
    t *x = *state;
    req(x, "DELETE", "/users/" ID);
    header(x, "if-match", "\"2\"");
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    assert_int_equal(x->resp.status, 200);
    const json_t *r = only_call(x, DDB_DELETE_ITEM);
    expect_member(r, "ConditionExpression", "\"attribute_exists(userId) AND #version IN (:v0)\"");
    expect_member(r, "ExpressionAttributeNames", "{\"#version\":\"version\"}");
    expect_member(r, "ExpressionAttributeValues", "{\":v0\":{\"N\":\"2\"}}");

    /* Existing user, other version: 412; missing user: 404. */
    fake_ddb_free(&x->ddb);
    req(x, "DELETE", "/users/" ID);
    header(x, "if-match", "\"2\"");
    push_item_reply(x, "Item", ID, NULL, 3);
    x->ddb.replies[0].status = DDB_CONDITION_FAILED;
    run(x);
    expect_problem(x, 412, "PRECONDITION_FAILED");

    fake_ddb_free(&x->ddb);
    req(x, "DELETE", "/users/" ID);
    header(x, "if-match", "\"2\"");
    fake_ddb_push_json(&x->ddb, DDB_CONDITION_FAILED, "{}", "ConditionalCheckFailedException");
    run(x);
    expect_problem(x, 404, "NOT_FOUND");

    fake_ddb_free(&x->ddb);
    req(x, "DELETE", "/users/" ID);
    header(x, "if-match", "2");
    run(x);
    expect_errors(x, "[{\"field\":\"If-Match\",\"message\":"
                     "\"must be \\\"*\\\" or a list of entity tags like \\\"3\\\"\"}]");
    expect_no_calls(x);
}

/* ---- Writes whose answer was lost (decisions.md, "A write whose answer is lost") ---- */

/* Scripts a failed condition whose ALL_OLD item (NULL: none) carries write token tok, after an
 * earlier attempt's answer was lost when lost is set. */
static void push_condition_failed(t *x, const char *tok, int version, bool lost) {
    char doc[2400] = "{}";
    if (tok) {
        char *item = item_json(ID, "Ada Lovelace", "Ada@Example.com", NULL, version);
        size_t n = strlen(item);
        /* The token goes in as the item's first attribute. */
        snprintf(doc, sizeof doc, "{\"Item\":{\"lastWriteToken\":{\"S\":\"%s\"},%s}", tok,
                 item + 1);
        assert_true(n > 2);
        free(item);
    }
    fake_ddb_push_json(&x->ddb, DDB_CONDITION_FAILED, doc, "ConditionalCheckFailedException");
    x->ddb.replies[x->ddb.n_replies - 1].maybe_applied = lost;
}

static void expect_unknown_outcome(t *x) {
    expect_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_non_null(resp_header(x, "Retry-After"));
    assert_non_null(strstr(x->out.ddb_error, "outcome unknown"));
}

#define FOREIGN_TOKEN "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

static void test_update_after_lost_answer(void **state) {
    t *x = *state;
    const char *tag[] = {"\"3\""};
    for (size_t with_tag = 0; with_tag < 2; with_tag++) {
        /* Its own token: applied by the lost attempt; the answer is what that attempt wrote. */
        x->ids.counter = 0;
        update_with_if_match(x, tag, with_tag);
        push_condition_failed(x, UPDATE_TOKEN, 4, true);
        run(x);
        assert_int_equal(x->resp.status, 200);
        assert_string_equal(resp_header(x, "ETag"), "\"4\"");
        char want[512];
        user_json(want, sizeof want, ID, NULL, 4);
        expect_body(x, want);
        assert_int_equal(x->ddb.n_calls, 1);

        /* Somebody else's token, or no item: it cannot be told whether this request wrote. */
        x->ids.counter = 0;
        update_with_if_match(x, tag, with_tag);
        push_condition_failed(x, FOREIGN_TOKEN, 5, true);
        run(x);
        expect_unknown_outcome(x);
        x->ids.counter = 0;
        update_with_if_match(x, tag, with_tag);
        push_condition_failed(x, NULL, 0, true);
        run(x);
        expect_unknown_outcome(x);

        /* Without a lost answer, a failed condition is what it says, whatever the token. */
        x->ids.counter = 0;
        update_with_if_match(x, tag, with_tag);
        push_condition_failed(x, UPDATE_TOKEN, 5, false);
        run(x);
        expect_problem(x, 412, "PRECONDITION_FAILED");
        x->ids.counter = 0;
        update_with_if_match(x, tag, with_tag);
        push_condition_failed(x, NULL, 0, false);
        run(x);
        expect_problem(x, 404, "NOT_FOUND");
    }
}

static void delete_with_if_match(t *x, const char *tag) {
    fake_ddb_free(&x->ddb);
    req(x, "DELETE", "/users/" ID);
    if (tag)
        header(x, "if-match", tag);
}

static void test_delete_after_lost_answer(void **state) {
    t *x = *state;
    /* No item: deleted by the lost attempt, or by someone else, or never there. */
    delete_with_if_match(x, NULL);
    push_condition_failed(x, NULL, 0, true);
    run(x);
    expect_unknown_outcome(x);
    delete_with_if_match(x, "\"3\"");
    push_condition_failed(x, NULL, 0, true);
    run(x);
    expect_unknown_outcome(x);

    /* The user still exists: this request did not delete it (ids are never reused). */
    delete_with_if_match(x, "\"3\"");
    push_condition_failed(x, FOREIGN_TOKEN, 4, true);
    run(x);
    expect_problem(x, 412, "PRECONDITION_FAILED");

    /* Nothing lost: a missing user is a 404 as ever. */
    delete_with_if_match(x, NULL);
    push_condition_failed(x, NULL, 0, false);
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
}

/* ---- DynamoDB failures ---- */

static void test_unavailable_is_503(void **state) {
    t *x = *state;
    static const char *const methods[] = {"GET", "DELETE", "PATCH", "POST", "GET"};
    static const char *const paths[] = {"/users/" ID, "/users/" ID, "/users/" ID, "/users",
                                        "/users"};
    for (size_t i = 0; i < 5; i++) {
        fake_ddb_free(&x->ddb);
        req(x, methods[i], paths[i]);
        if (strcmp(methods[i], "PATCH") == 0 || strcmp(methods[i], "POST") == 0)
            json_body(x, "{\"name\":\"Ada\",\"email\":\"a@b.io\"}");
        fake_ddb_push(&x->ddb, DDB_UNAVAILABLE, NULL, "ThrottlingException", 8);
        run(x);
        expect_problem(x, 503, "SERVICE_UNAVAILABLE");
        assert_string_equal(resp_header(x, "Retry-After"), "1");
        assert_string_equal(body_str(x, "title"), "Service Unavailable");
        assert_int_equal(x->out.ddb_attempts, 8);
        assert_string_equal(x->out.ddb_error, "ThrottlingException");
        assert_null(strstr(buf_str(&x->resp.body), "Throttling"));
        assert_int_equal(x->ddb.n_calls, 1);
    }
}

static void test_failed_is_500_without_leak(void **state) {
    t *x = *state;
    req(x, "GET", "/users/" ID);
    fake_ddb_push_json(&x->ddb, DDB_FAILED,
                       "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
                       "\"message\":\"Requested resource not found: Table: UsersTable\"}",
                       "ResourceNotFoundException");
    run(x);
    expect_problem(x, 500, "INTERNAL");
    assert_string_equal(body_str(x, "title"), "Internal Server Error");
    assert_string_equal(x->out.ddb_error, "ResourceNotFoundException");
    assert_null(strstr(buf_str(&x->resp.body), "ResourceNotFound"));
    assert_null(strstr(buf_str(&x->resp.body), TABLE));
    assert_null(resp_header(x, "Retry-After"));
}

/* ---- CORS ---- */

static void cors_request(t *x, const char *const *origins, size_t n) {
    fake_ddb_free(&x->ddb);
    req(x, "GET", "/users/" ID);
    for (size_t i = 0; i < n; i++)
        header(x, "origin", origins[i]);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL); /* a 404: errors carry CORS too */
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
}

static void test_cors_origin_list(void **state) {
    t *x = *state;
    x->deps.allowed_origins = " https://a.example , https://b.example,https://c.example:8443 ";
    const char *b[] = {"https://b.example"};
    cors_request(x, b, 1);
    assert_string_equal(resp_header(x, "Access-Control-Allow-Origin"), "https://b.example");
    assert_string_equal(resp_header(x, "Vary"), "Origin");

    const char *c[] = {"https://c.example:8443"};
    cors_request(x, c, 1);
    assert_string_equal(resp_header(x, "Access-Control-Allow-Origin"), "https://c.example:8443");

    static const char *const strangers[] = {"https://evil.example",
                                            "https://a.example.evil",
                                            "https://A.example",
                                            "https://a.example/",
                                            "https://b.exam",
                                            "https://c.example",
                                            "http://a.example",
                                            "null",
                                            ""};
    for (size_t i = 0; i < sizeof strangers / sizeof strangers[0]; i++) {
        cors_request(x, &strangers[i], 1);
        assert_string_equal(resp_header(x, "Access-Control-Allow-Origin"), "https://a.example");
        assert_string_equal(resp_header(x, "Vary"), "Origin");
    }
    cors_request(x, NULL, 0);
    assert_string_equal(resp_header(x, "Access-Control-Allow-Origin"), "https://a.example");
    const char *twice[] = {"https://b.example", "https://b.example"};
    cors_request(x, twice, 2);
    assert_string_equal(resp_header(x, "Access-Control-Allow-Origin"), "https://a.example");

    /* Preflight answers carry the same origin decision. */
    req(x, "OPTIONS", "/users");
    header(x, "origin", "https://b.example");
    run(x);
    assert_string_equal(resp_header(x, "Access-Control-Allow-Origin"), "https://b.example");
    assert_string_equal(resp_header(x, "Vary"), "Origin");
}

static void test_cors_any_origin(void **state) {
    t *x = *state;
    static const char *const anys[] = {"*", " * ", "", ",", NULL};
    const char *origin[] = {"https://b.example"};
    for (size_t i = 0; i < sizeof anys / sizeof anys[0]; i++) {
        x->deps.allowed_origins = anys[i];
        cors_request(x, origin, 1);
        assert_string_equal(resp_header(x, "Access-Control-Allow-Origin"), "*");
        assert_null(resp_header(x, "Vary"));
    }
}

/* ---- Collaborators and robustness ---- */

/* The request id is echoed in problems as given (a Lambda id when API Gateway had none). */
static void test_request_id_in_problems(void **state) {
    t *x = *state;
    req(x, "GET", "/nope");
    x->req.request_id = "lambda-req-42";
    run(x);
    assert_string_equal(body_str(x, "requestId"), "lambda-req-42");
}

/* Allocation failures inside the handler: every run answers 500 or succeeds, never crashes
 * or leaks (ASan checks the leaks). */
static long alloc_budget = -1; /* allocations left before failing; -1: never fail */
static long alloc_failed;

static void *failing_malloc(size_t n) {
    if (alloc_budget == 0) {
        alloc_failed++;
        return NULL;
    }
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

static void oom_scenario(t *x, int scenario) {
    fake_ddb_free(&x->ddb);
    x->ids.counter = 0;
    switch (scenario) {
        case 0:
            req(x, "POST", "/users");
            json_body(x, "{\"name\":\"Ada\",\"email\":\"Ada@b.io\",\"age\":3,\"x\":1}");
            break;
        case 1:
            req(x, "POST", "/users");
            json_body(x, "{\"name\":\"Ada\",\"email\":\"Ada@b.io\",\"age\":3}");
            fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
            break;
        case 2: {
            char tok[128];
            b64url("{\"userId\":{\"S\":\"" ID "\"}}", tok, sizeof tok);
            req(x, "GET", "/users");
            query(x, "nextToken", tok);
            char *a = item_json(ID, "Ada", "a@b.io", "3", 1);
            char reply[3000];
            snprintf(reply, sizeof reply,
                     "{\"Items\":[%s],\"LastEvaluatedKey\":{\"userId\":{\"S\":\"" ID "\"}}}", a);
            free(a);
            fake_ddb_push_json(&x->ddb, DDB_OK, reply, NULL);
            break;
        }
        default:
            req(x, "PATCH", "/users/" ID);
            header(x, "if-match", "\"1\", \"2\"");
            json_body(x, "{\"name\":\"Ada\",\"email\":\"a@b.io\",\"age\":null}");
            push_item_reply(x, "Attributes", ID, NULL, 2);
            break;
    }
}

static void test_out_of_memory_is_500(void **state) {
    t *x = *state;
    static const int want[] = {400, 201, 200, 200};
    for (int scenario = 0; scenario < 4; scenario++) {
        bool completed = false;
        long budget;
        for (budget = 0; budget < 10000 && !completed; budget++) {
            oom_scenario(x, scenario);
            drop_response(x);
            assert_int_equal(api_response_init(&x->resp), UA_OK);
            x->have_resp = true;
            alloc_failed = 0;
            alloc_budget = budget;
            json_set_alloc_funcs(failing_malloc, free);
            users_handle(&x->deps, &x->req, DEADLINE, &x->resp, &x->out);
            json_set_alloc_funcs(malloc, free);
            alloc_budget = -1;
            if (alloc_failed == 0) {
                assert_int_equal(x->resp.status, want[scenario]);
                completed = true;
            } else if (x->resp.status != 500 && x->resp.status != want[scenario]) {
                fail_msg("scenario %d, budget %ld: status %d", scenario, budget, x->resp.status);
            } else if (x->resp.status == 500) {
                assert_string_equal(x->out.code, "INTERNAL");
            }
        }
        assert_true(completed);
        assert_true(budget > 10); /* the allocations really were made to fail */
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_happy_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_without_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_retry_after_own_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_collision_is_internal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_reports_every_field_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_required_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_unknown_and_server_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_media_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_missing_and_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_canonical_id_is_404_without_ddb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_path_and_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preflight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pages_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_bad_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_every_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_age_null_removes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_needs_a_known_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_if_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_if_match_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_if_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_after_lost_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_after_lost_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unavailable_is_503, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_is_500_without_leak, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cors_origin_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cors_any_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_id_in_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory_is_500, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
