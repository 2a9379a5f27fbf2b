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
    /* Exactly these members, in this order; errors only for VALIDATION_FAILED and EMAIL_TAKEN
     * (which names the field email). */
    char members[256] = "";
    const char *key;
    json_t *v;
    json_object_foreach(x->body, key, v) {
        strncat(members, key, sizeof members - strlen(members) - 2);
        strcat(members, ",");
    }
    bool with_errors =
        strcmp(x->out.code, "VALIDATION_FAILED") == 0 || strcmp(x->out.code, "EMAIL_TAKEN") == 0;
    assert_string_equal(members, with_errors ? "type,title,status,code,detail,errors,requestId,"
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

/* ---- DynamoDB's transactions (ddb_txn.h, email_claim.h, idempotency.h) ---- */

/* The reasons of a TransactionCanceledException, one per item, as DynamoDB words them. */
#define R_NONE "{\"Code\":\"None\"}"
#define R_FAILED                                                                                   \
    "{\"Code\":\"ConditionalCheckFailed\",\"Message\":\"The conditional request failed\"}"
#define R_FAILED_WITH(item)                                                                        \
    "{\"Code\":\"ConditionalCheckFailed\",\"Message\":\"The conditional request failed\","         \
    "\"Item\":" item "}"

/* An email claim as stored: address lower held by owner. */
#define CLAIM(lower, owner) "{\"pk\":{\"S\":\"email#" lower "\"},\"userId\":{\"S\":\"" owner "\"}}"
#define OWNER_OR_NOBODY     "\"ConditionExpression\":\"attribute_not_exists(pk) OR userId = :me\""
#define ME(owner)           "\"ExpressionAttributeValues\":{\":me\":{\"S\":\"" owner "\"}}"
#define ALL_OLD             "\"ReturnValuesOnConditionCheckFailure\":\"ALL_OLD\""
/* The TransactItems entries that claim and release an address for owner. */
#define CLAIM_PUT(lower, owner)                                                                    \
    "{\"TableName\":\"" CLAIMS_TABLE                                                               \
    "\",\"Item\":" CLAIM(lower, owner) "," OWNER_OR_NOBODY "," ME(owner) "," ALL_OLD "}"
#define CLAIM_DELETE(lower, owner)                                                                 \
    "{\"TableName\":\"" CLAIMS_TABLE "\",\"Key\":{\"pk\":{\"S\":\"email#" lower                    \
    "\"}}," OWNER_OR_NOBODY "," ME(owner) "}"

/* Scripts the TransactionCanceledException DynamoDB answers to a cancelled transaction;
 * reasons (stolen) holds one reason per item, in TransactItems order. */
static void push_cancelled_doc(t *x, json_t *reasons) {
    assert_non_null(reasons);
    json_t *doc =
        json_pack("{s:s, s:s, s:o}", "__type",
                  "com.amazonaws.dynamodb.v20120810#TransactionCanceledException", "Message",
                  "Transaction cancelled, please refer cancellation reasons for "
                  "specific reasons",
                  "CancellationReasons", reasons);
    assert_non_null(doc);
    fake_ddb_push(&x->ddb, DDB_CONDITION_FAILED, doc, "TransactionCanceledException", 1);
}

/* The same with the reasons as JSON text. */
static void push_cancelled(t *x, const char *reasons) {
    push_cancelled_doc(x, json_loads(reasons, 0, NULL));
}

/* Call i: a TransactWriteItems with the handler's deadline, client_token as its
 * ClientRequestToken and n items; returns its TransactItems. */
static const json_t *transaction_at(const t *x, size_t i, const char *client_token, size_t n) {
    const fake_ddb_call *c = fake_ddb_call_at(&x->ddb, i);
    assert_int_equal(c->op, DDB_TRANSACT_WRITE_ITEMS);
    assert_int_equal(c->deadline_ms, DEADLINE);
    assert_non_null(c->request);
    assert_int_equal(json_object_size(c->request), 2);
    assert_string_equal(json_string_value(json_object_get(c->request, "ClientRequestToken")),
                        client_token);
    const json_t *items = json_object_get(c->request, "TransactItems");
    assert_int_equal(json_array_size(items), n);
    return items;
}

/* Entry i of items, {action: op}: returns op, which must be on table. */
static const json_t *txn_entry(const json_t *items, size_t i, const char *action,
                               const char *table) {
    const json_t *entry = json_array_get(items, i);
    const json_t *op = json_object_get(entry, action);
    if (json_object_size(entry) != 1 || !op)
        fail_msg("TransactItems[%zu] is not a %s", i, action);
    assert_string_equal(json_string_value(json_object_get(op, "TableName")), table);
    return op;
}

/* ---- Create ---- */

#define CREATE_ITEM                                                                                \
    "{\"userId\":{\"S\":\"" ID "\"},\"name\":{\"S\":\"Ada Lovelace\"},"                            \
    "\"email\":{\"S\":\"Ada@Example.com\"},\"emailLower\":{\"S\":\"ada@example.com\"},"            \
    "\"lastWriteToken\":{\"S\":\"" CREATE_TOKEN "\"},"                                             \
    "\"age\":{\"N\":\"36\"},\"createdAt\":{\"S\":\"" NOW_ISO "\"},"                                \
    "\"updatedAt\":{\"S\":\"" NOW_ISO "\"},\"version\":{\"N\":\"1\"}}"
#define CREATED_BODY                                                                               \
    "{\"userId\":\"" ID "\",\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\","              \
    "\"age\":36,\"createdAt\":\"" NOW_ISO "\",\"updatedAt\":\"" NOW_ISO "\",\"version\":1}"

/* One transaction: the user, and the claim on its address in the same commit. */
static void test_create_happy_path(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"  Ada Lovelace\\t\",\"email\":\" Ada@Example.com \",\"age\":36}");
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);

    assert_int_equal(x->resp.status, 201);
    assert_string_equal(resp_header(x, "Location"), "/users/" ID);
    assert_string_equal(resp_header(x, "ETag"), "\"1\"");
    expect_body(x, CREATED_BODY);
    assert_null(strstr(buf_str(&x->resp.body), "emailLower"));
    assert_null(strstr(buf_str(&x->resp.body), "lastWriteToken"));
    assert_string_equal(x->out.route, "/users");
    assert_int_equal(x->out.ddb_attempts, 1);
    assert_string_equal(x->out.ddb_error, "");

    /* The write token doubles as the client token: a retry of an applied transaction is
     * answered with success. */
    assert_int_equal(x->ddb.n_calls, 1);
    const json_t *items = transaction_at(x, 0, CREATE_TOKEN, 2);
    expect_member(json_array_get(items, 0), "Put",
                  "{\"TableName\":\"" TABLE "\",\"Item\":" CREATE_ITEM ","
                  "\"ConditionExpression\":\"attribute_not_exists(userId)\"," ALL_OLD "}");
    expect_member(json_array_get(items, 1), "Put", CLAIM_PUT("ada@example.com", ID));
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
    const json_t *put = txn_entry(transaction_at(x, 0, CREATE_TOKEN, 2), 0, "Put", TABLE);
    assert_null(json_object_get(json_object_get(put, "Item"), "age"));
}

/* An address held by another user cancels the transaction on the claim: 409, nothing written,
 * and none of the answer built before the write leaks into it. */
static void test_create_email_taken(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"Ada\",\"email\":\"ADA@example.com\"}");
    push_cancelled(x, "[" R_NONE "," R_FAILED_WITH(CLAIM("ada@example.com", ID2)) "]");
    run(x);
    expect_problem(x, 409, "EMAIL_TAKEN");
    assert_string_equal(body_str(x, "title"), "Conflict");
    expect_member(x->body, "errors",
                  "[{\"field\":\"email\",\"message\":\"is already taken by another user\"}]");
    assert_null(resp_header(x, "Location"));
    assert_null(resp_header(x, "ETag"));
    assert_string_equal(x->out.ddb_error, "TransactionCanceledException");
    assert_null(strstr(buf_str(&x->resp.body), ID2)); /* who holds it is not told */
    (void)transaction_at(x, 0, CREATE_TOKEN, 2);

    /* The claim's index moves when a key adds the record in front. */
    fake_ddb_free(&x->ddb);
    x->ids.counter = 0;
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"Ada\",\"email\":\"ada@example.com\"}");
    header(x, "idempotency-key", "k-409");
    push_cancelled(x, "[" R_NONE "," R_NONE "," R_FAILED_WITH(CLAIM("ada@example.com", ID2)) "]");
    run(x);
    expect_problem(x, 409, "EMAIL_TAKEN");
    (void)transaction_at(x, 0, CREATE_TOKEN, 3);
}

/* After a lost answer DynamoDB answers a retry of the applied transaction with success: the
 * client token makes the retry harmless. A retry that is cancelled instead was not applied, so
 * what it says holds: here, an address held by another user. */
static void test_create_after_lost_answer(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"Ada\",\"email\":\"Ada@x.io\"}");
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    x->ddb.replies[0].maybe_applied = true;
    run(x);
    assert_int_equal(x->resp.status, 201);
    assert_string_equal(body_str(x, "userId"), ID);
    assert_string_equal(resp_header(x, "Location"), "/users/" ID);
    assert_string_equal(resp_header(x, "ETag"), "\"1\"");

    fake_ddb_free(&x->ddb);
    x->ids.counter = 0;
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"Ada\",\"email\":\"Ada@x.io\"}");
    push_cancelled(x, "[" R_NONE "," R_FAILED_WITH(CLAIM("ada@x.io", ID2)) "]");
    x->ddb.replies[0].maybe_applied = true;
    run(x);
    expect_problem(x, 409, "EMAIL_TAKEN");
    assert_null(resp_header(x, "Location"));
    assert_int_equal(x->ddb.n_calls, 1);
}

/* Should DynamoDB have forgotten the client token, the retry of an applied create meets its
 * own user: the write token in the ALL_OLD item proves it, and the create answers 201. The same
 * item without a lost answer, or with another token, proves nothing: 500. */
static void test_create_meets_its_own_user(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"  Ada Lovelace\\t\",\"email\":\" Ada@Example.com \",\"age\":36}");
    push_cancelled(x, "[" R_FAILED_WITH(CREATE_ITEM) "," R_NONE "]");
    x->ddb.replies[0].maybe_applied = true;
    run(x);
    assert_int_equal(x->resp.status, 201);
    expect_body(x, CREATED_BODY);
    assert_string_equal(resp_header(x, "Location"), "/users/" ID);
    assert_string_equal(resp_header(x, "ETag"), "\"1\"");

    for (int lost = 0; lost < 2; lost++) {
        fake_ddb_free(&x->ddb);
        x->ids.counter = 0;
        req(x, "POST", "/users");
        json_body(x, "{\"name\":\"  Ada Lovelace\\t\",\"email\":\" Ada@Example.com \",\"age\":36}");
        /* lost: the item holds another request's token; not lost: nothing was applied */
        push_cancelled(x, lost ? "[" R_FAILED_WITH(CLAIM("x", ID2)) "," R_NONE "]"
                               : "[" R_FAILED_WITH(CREATE_ITEM) "," R_NONE "]");
        x->ddb.replies[0].maybe_applied = lost;
        run(x);
        expect_problem(x, 500, "INTERNAL");
        assert_null(resp_header(x, "Location"));
    }
}

/* Someone else's item under our new id cannot be reported as our creation. */
static void test_create_collision_is_internal(void **state) {
    t *x = *state;
    req(x, "POST", "/users");
    json_body(x, "{\"name\":\"Ada\",\"email\":\"ada@x.io\"}");
    push_cancelled(x, "[" R_FAILED "," R_NONE "]");
    run(x);
    expect_problem(x, 500, "INTERNAL");
    assert_string_equal(x->out.ddb_error, "TransactionCanceledException");
    assert_null(strstr(buf_str(&x->resp.body), "Cancel"));
    assert_null(resp_header(x, "Location"));
    assert_null(resp_header(x, "ETag"));
}

/* ---- Create with an Idempotency-Key ---- */

#define KEY      "7b2e4f1c-2d3a-4b5c-9e8f-0a1b2c3d4e5f"
#define NOW_S    1795523696LL /* NOW_MS in seconds */
#define DAY_S    86400LL
#define DAY_MS   (DAY_S * 1000)
#define ADA_BODY "{\"name\":\"  Ada Lovelace\\t\",\"email\":\" Ada@Example.com \",\"age\":36}"
/* The request hash of ADA_BODY (SHA-256 of "Ada Lovelace", NUL, "Ada@Example.com", NUL,
 * "36", as test_idempotency checks), and one of no request. */
#define ADA_HASH     "70f2c50282beb7e5f27ba4e2e5b391635192ab9ab1d0734e509ba1f3ea466214"
#define FOREIGN_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* A create of body with Idempotency-Key key, DynamoDB answering reply (NULL: a scripted
 * cancellation follows), at the clock's time. */
static void create_with_key(t *x, const char *body, const char *key, const char *reply) {
    fake_ddb_free(&x->ddb);
    x->ids.counter = 0;
    req(x, "POST", "/users");
    json_body(x, body);
    header(x, "idempotency-key", key);
    if (reply)
        fake_ddb_push_json(&x->ddb, DDB_OK, reply, NULL);
}

/* The record entry of the create's transaction (call 0), first of three items. */
static const json_t *record_put(const t *x) {
    return txn_entry(transaction_at(x, 0, CREATE_TOKEN, 3), 0, "Put", CLAIMS_TABLE);
}

static const char *record_s(const t *x, const char *attr) {
    const char *s = json_string_value(
        json_object_get(json_object_get(json_object_get(record_put(x), "Item"), attr), "S"));
    assert_non_null(s);
    return s;
}

static long long record_n(const json_t *av) {
    const char *s = json_string_value(json_object_get(av, "N"));
    assert_non_null(s);
    return atoll(s);
}

/* The record goes into the create's own transaction: the key, the request's hash, the new
 * user, the first answer byte for byte, and when it expires. */
static void test_create_with_key_records_the_answer(void **state) {
    t *x = *state;
    create_with_key(x, ADA_BODY, KEY, "{}");
    run(x);
    assert_int_equal(x->resp.status, 201);
    expect_body(x, CREATED_BODY);
    assert_int_equal(x->ddb.n_calls, 1);

    const json_t *items = transaction_at(x, 0, CREATE_TOKEN, 3);
    const json_t *put = record_put(x);
    const json_t *item = json_object_get(put, "Item");
    expect_member(item, "pk", "{\"S\":\"idem#" KEY "\"}");
    expect_member(item, "userId", "{\"S\":\"" ID "\"}");
    expect_member(item, "createdAt", "{\"S\":\"" NOW_ISO "\"}");
    assert_int_equal(record_n(json_object_get(item, "expiresAt")), NOW_S + DAY_S);
    assert_string_equal(record_s(x, "response"), buf_str(&x->resp.body));
    assert_string_equal(record_s(x, "requestHash"), ADA_HASH);
    assert_int_equal(json_object_size(item), 6);
    expect_member(put, "ConditionExpression", "\"attribute_not_exists(pk) OR #expiresAt <= :now\"");
    expect_member(put, "ExpressionAttributeNames", "{\"#expiresAt\":\"expiresAt\"}");
    assert_int_equal(
        record_n(json_object_get(json_object_get(put, "ExpressionAttributeValues"), ":now")),
        NOW_S);
    expect_member(put, "ReturnValuesOnConditionCheckFailure", "\"ALL_OLD\"");
    /* The user and its claim follow, as without a key. */
    expect_member(json_array_get(items, 1), "Put",
                  "{\"TableName\":\"" TABLE "\",\"Item\":" CREATE_ITEM ","
                  "\"ConditionExpression\":\"attribute_not_exists(userId)\"," ALL_OLD "}");
    expect_member(json_array_get(items, 2), "Put", CLAIM_PUT("ada@example.com", ID));
}

/* The hash of the request a create with body sends in its record. */
static void hash_of(t *x, const char *body, char out[65]) {
    create_with_key(x, body, KEY, "{}");
    run(x);
    assert_int_equal(x->resp.status, 201);
    snprintf(out, 65, "%s", record_s(x, "requestHash"));
}

/* "The same request" is the same fields after trimming: not the same bytes. */
static void test_idempotency_hash_is_of_the_fields(void **state) {
    t *x = *state;
    char first[65], other[65];
    hash_of(x, ADA_BODY, first);
    static const char *const same[] = {
        "{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\",\"age\":36}",
        "{ \"age\" : 36 , \"email\" : \"Ada@Example.com\" , \"name\" : \"Ada Lovelace\" }",
        "{\"name\":\"\\u0041da Lovelace\",\"email\":\"Ada\\u0040Example.com\",\"age\":36}",
        "{\"name\":\"\\r\\nAda Lovelace  \",\"email\":\"Ada@Example.com\\n\",\"age\":36}",
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        hash_of(x, same[i], other);
        if (strcmp(first, other) != 0)
            fail_msg("%s hashes otherwise than %s", same[i], ADA_BODY);
    }
    static const char *const differ[] = {
        "{\"name\":\"Ada  Lovelace\",\"email\":\"Ada@Example.com\",\"age\":36}",
        "{\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\",\"age\":36}",
        "{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\",\"age\":37}",
        "{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\"}",
        "{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.co\",\"age\":36}",
    };
    for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
        hash_of(x, differ[i], other);
        if (strcmp(first, other) == 0)
            fail_msg("%s hashes as %s", differ[i], ADA_BODY);
    }
}

/* A record as the cancelled transaction returns it (ALL_OLD). */
static json_t *record_item(const char *hash, const char *user_id, const char *response) {
    json_t *item =
        json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", "idem#" KEY,
                  "requestHash", "S", hash, "userId", "S", user_id, "response", "S", response,
                  "createdAt", "S", EARLIER, "expiresAt", "N", "1795610096");
    assert_non_null(item);
    return item;
}

/* The cancellation a repeat meets: the record's condition failed (returning it), and the
 * address is held by the first request's user. */
static void push_repeat_cancelled(t *x, json_t *record) {
    json_t *reasons =
        json_pack("[{s:s, s:s, s:o}, {s:s}, o]", "Code", "ConditionalCheckFailed", "Message",
                  "The conditional request failed", "Item", record, "Code", "None",
                  json_loads(R_FAILED_WITH(CLAIM("ada@example.com", ID2)), 0, NULL));
    push_cancelled_doc(x, reasons);
}

/* The first answer, recorded when the user was created (another id, another time). */
#define FIRST_ANSWER                                                                               \
    "{\"userId\":\"" ID2 "\",\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\","             \
    "\"age\":36,\"createdAt\":\"" EARLIER "\",\"updatedAt\":\"" EARLIER "\",\"version\":1}"

/* A repeat of the same request answers the recorded 201 byte for byte, with its Location and
 * ETag "1", whatever this attempt had built (another id) and however its body was spelt. */
static void test_create_repeat_replays_the_first_answer(void **state) {
    t *x = *state;
    char hash[65];
    hash_of(x, ADA_BODY, hash);
    static const char *const repeats[] = {
        ADA_BODY, "{\"age\":36,\"email\":\"Ada@Example.com\",\"name\":\"Ada Lovelace\"}"};
    for (size_t i = 0; i < 2; i++) {
        create_with_key(x, repeats[i], KEY, NULL);
        push_repeat_cancelled(x, record_item(hash, ID2, FIRST_ANSWER));
        run(x);
        assert_int_equal(x->resp.status, 201);
        expect_body(x, FIRST_ANSWER);
        assert_string_equal(resp_header(x, "Location"), "/users/" ID2);
        assert_string_equal(resp_header(x, "ETag"), "\"1\"");
        assert_null(x->out.code);
        assert_int_equal(x->ddb.n_calls, 1);
        assert_string_equal(record_s(x, "requestHash"), hash);
    }
    /* The record outweighs the claim: a repeat is never a 409, even after a lost answer. */
    create_with_key(x, ADA_BODY, KEY, NULL);
    push_repeat_cancelled(x, record_item(hash, ID2, FIRST_ANSWER));
    x->ddb.replies[0].maybe_applied = true;
    run(x);
    assert_int_equal(x->resp.status, 201);
    expect_body(x, FIRST_ANSWER);
}

/* The same key with another request within the 24 hours: 422, and nothing of the record. */
static void test_create_key_reused_is_422(void **state) {
    t *x = *state;
    char hash[65];
    hash_of(x, ADA_BODY, hash);
    create_with_key(x, "{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\",\"age\":37}", KEY,
                    NULL);
    push_repeat_cancelled(x, record_item(hash, ID2, FIRST_ANSWER));
    run(x);
    expect_problem(x, 422, "IDEMPOTENCY_KEY_REUSED");
    assert_string_equal(body_str(x, "title"), "Unprocessable Content");
    assert_null(resp_header(x, "Location"));
    assert_null(resp_header(x, "ETag"));
    assert_null(strstr(buf_str(&x->resp.body), ID2));
    assert_null(strstr(buf_str(&x->resp.body), ID));

    /* A record that cannot be read is not replayed, nor taken for another request. */
    create_with_key(x, ADA_BODY, KEY, NULL);
    json_t *broken = record_item(hash, ID2, FIRST_ANSWER);
    assert_int_equal(json_object_del(broken, "response"), 0);
    push_repeat_cancelled(x, broken);
    run(x);
    expect_problem(x, 500, "INTERNAL");
    assert_null(resp_header(x, "Location"));
}

/* A record expires 24 hours after its request: the condition itself lets a request at or past
 * expiresAt replace it, whether or not DynamoDB's TTL has deleted it yet. */
static void test_idempotency_record_expiry(void **state) {
    t *x = *state;
    static const struct {
        int64_t at_ms;
        bool replaces; /* expiresAt <= :now */
    } cases[] = {
        {NOW_MS + DAY_MS - 1000, false}, {NOW_MS + DAY_MS, true}, {NOW_MS + 2 * DAY_MS, true}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        x->now = cases[i].at_ms;
        create_with_key(x, ADA_BODY, KEY, "{}");
        run(x);
        assert_int_equal(x->resp.status, 201);
        const json_t *put = record_put(x);
        long long now_s =
            record_n(json_object_get(json_object_get(put, "ExpressionAttributeValues"), ":now"));
        assert_int_equal(now_s, cases[i].at_ms / 1000);
        assert_int_equal(record_n(json_object_get(json_object_get(put, "Item"), "expiresAt")),
                         now_s + DAY_S);
        /* The record written at NOW_MS expires at NOW_S + DAY_S. */
        assert_int_equal(NOW_S + DAY_S <= now_s, cases[i].replaces);
    }
}

/* Idempotency-Key: one line of 1..128 characters 0x20..0x7E, checked with the body's fields
 * (all reported at once) and before any DynamoDB request. */
static void test_idempotency_key_rules(void **state) {
    t *x = *state;
    char k128[129], k129[130];
    memset(k128, 'k', 128);
    k128[128] = '\0';
    memset(k129, 'k', 129);
    k129[129] = '\0';
    static const char *const fine[] = {"a", " ", "~", "key with spaces",
                                       "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        create_with_key(x, ADA_BODY, fine[i], "{}");
        run(x);
        if (x->resp.status != 201)
            fail_msg("Idempotency-Key '%s' refused: %s", fine[i], buf_str(&x->resp.body));
        char pk[160];
        snprintf(pk, sizeof pk, "idem#%s", fine[i]);
        assert_string_equal(record_s(x, "pk"), pk);
    }
    create_with_key(x, ADA_BODY, k128, "{}");
    run(x);
    assert_int_equal(x->resp.status, 201);

    const char *bad[] = {"", k129, "tab\there", "new\nline", "del\x7f", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        create_with_key(x, ADA_BODY, bad[i], NULL);
        run(x);
        if (x->resp.status != 400)
            fail_msg("Idempotency-Key '%s' accepted", bad[i]);
        expect_errors(x, "[{\"field\":\"Idempotency-Key\",\"message\":"
                         "\"must be 1 to 128 printable ASCII characters, given once\"}]");
        expect_no_calls(x);
    }
    /* A NUL inside the value (an escaped one in the event). */
    create_with_key(x, ADA_BODY, "x", NULL);
    assert_int_equal(
        json_object_set_new(x->headers, "idempotency-key", json_pack("[s#]", "a\0b", (size_t)3)),
        0);
    run(x);
    expect_problem(x, 400, "VALIDATION_FAILED");
    expect_no_calls(x);
    /* Two lines of it, even the same twice. */
    create_with_key(x, ADA_BODY, "k", NULL);
    header(x, "idempotency-key", "k");
    run(x);
    expect_problem(x, 400, "VALIDATION_FAILED");
    expect_no_calls(x);
    /* With field errors: all of them, the header last. */
    create_with_key(x, "{\"name\":\"\",\"email\":\"ada@example.com\"}", "", NULL);
    run(x);
    expect_errors(x, "[{\"field\":\"name\",\"message\":\"must be 1 to 100 characters\"},"
                     "{\"field\":\"Idempotency-Key\",\"message\":"
                     "\"must be 1 to 128 printable ASCII characters, given once\"}]");
    expect_no_calls(x);
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

/* ---- Lookup by email (phase 2) ---- */

/* GET /users?email=: one Query of the email index for the trimmed address, lowercased, not
 * consistent (an index cannot be); answered in the list envelope, never with a nextToken. */
static void test_lookup_by_email(void **state) {
    t *x = *state;
    char *item = item_json(ID, "Ada Lovelace", "Ada@Example.com", "36", 2);
    char reply[2600], want[600], user[512];
    snprintf(reply, sizeof reply,
             "{\"Items\":[%s],\"Count\":1,\"ScannedCount\":1,\"LastEvaluatedKey\":"
             "{\"userId\":{\"S\":\"" ID "\"},\"emailLower\":{\"S\":\"ada@example.com\"}}}",
             item);
    free(item);
    req(x, "GET", "/users");
    query(x, "email", " \tAda@EXAMPLE.com ");
    fake_ddb_push_json(&x->ddb, DDB_OK, reply, NULL);
    run(x);
    assert_int_equal(x->resp.status, 200);
    user_json(user, sizeof user, ID, "36", 2);
    snprintf(want, sizeof want, "{\"users\":[%s],\"count\":1}", user);
    expect_body(x, want);
    assert_null(resp_header(x, "ETag"));
    assert_string_equal(x->out.route, "/users");

    const json_t *r = only_call(x, DDB_QUERY);
    expect_member(r, "IndexName", "\"emailLower-index\"");
    expect_member(r, "KeyConditionExpression", "\"#emailLower = :emailLower\"");
    expect_member(r, "ExpressionAttributeNames", "{\"#emailLower\":\"emailLower\"}");
    expect_member(r, "ExpressionAttributeValues", "{\":emailLower\":{\"S\":\"ada@example.com\"}}");
    expect_member(r, "Limit", "20");
    assert_null(json_object_get(r, "ConsistentRead"));
    assert_null(json_object_get(r, "ExclusiveStartKey"));
    assert_int_equal(json_object_size(r), 6);

    /* Nobody has it: an empty page. */
    fake_ddb_free(&x->ddb);
    req(x, "GET", "/users");
    query(x, "email", "nobody@example.com");
    query(x, "limit", "5");
    fake_ddb_push_json(&x->ddb, DDB_OK, "{\"Items\":[],\"Count\":0,\"ScannedCount\":0}", NULL);
    run(x);
    assert_int_equal(x->resp.status, 200);
    expect_body(x, "{\"users\":[],\"count\":0}");
    r = only_call(x, DDB_QUERY);
    expect_member(r, "Limit", "5");
    expect_member(r, "ExpressionAttributeValues",
                  "{\":emailLower\":{\"S\":\"nobody@example.com\"}}");

    /* Two users sharing an address from before the back-fill: both are answered. */
    char *a = item_json(ID, "Ada Lovelace", "Ada@Example.com", NULL, 1);
    char *b = item_json(ID2, "Ada Lovelace", "ada@example.com", NULL, 1);
    snprintf(reply, sizeof reply, "{\"Items\":[%s,%s],\"Count\":2}", a, b);
    free(a);
    free(b);
    fake_ddb_free(&x->ddb);
    req(x, "GET", "/users");
    query(x, "email", "ada@example.com");
    fake_ddb_push_json(&x->ddb, DDB_OK, reply, NULL);
    run(x);
    assert_int_equal(x->resp.status, 200);
    assert_int_equal(json_integer_value(json_object_get(x->body, "count")), 2);
    assert_int_equal(json_array_size(json_object_get(x->body, "users")), 2);
}

/* The address by the create's rules (400 naming email); a lookup has one page, so a nextToken
 * with it is 400 naming nextToken. Neither costs a request. */
static void test_lookup_bad_queries(void **state) {
    t *x = *state;
    static const char *const bad[] = {"",          " ",         "not-an-email", "a@b",
                                      "a@b.c@d.e", "a b@c.de",  "ada@-x.io",    "ada@x..io",
                                      ".a@x.io",   "a\"b@x.io", "a@x.io,b@x.io"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_list_param(x, "email", &bad[i], 1, false);
    static const char *const twice[] = {"a@x.io", "a@x.io"};
    check_list_param(x, "email", twice, 2, false);
    expect_errors(x, "[{\"field\":\"email\",\"message\":\"must be given once\"}]");

    char token[128];
    b64url("{\"userId\":{\"S\":\"" ID "\"}}", token, sizeof token);
    req(x, "GET", "/users");
    query(x, "email", "ada@example.com");
    query(x, "nextToken", token);
    run(x);
    expect_errors(x, "[{\"field\":\"nextToken\",\"message\":\"cannot be combined with email\"}]");
    expect_no_calls(x);

    /* Every wrong parameter at once. */
    req(x, "GET", "/users");
    query(x, "limit", "0");
    query(x, "email", "nope");
    run(x);
    expect_errors(x, "[{\"field\":\"limit\",\"message\":\"must be an integer from 1 to 100\"},"
                     "{\"field\":\"email\",\"message\":\"must be a valid email address\"}]");
    expect_no_calls(x);

    /* The Query failing answers as every read does. */
    fake_ddb_free(&x->ddb);
    req(x, "GET", "/users");
    query(x, "email", "ada@example.com");
    fake_ddb_push(&x->ddb, DDB_UNAVAILABLE, NULL, "ThrottlingException", 8);
    run(x);
    expect_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_int_equal(only_call(x, DDB_QUERY) != NULL, 1);
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

/* ---- Update: the address (phase 2) ---- */

/* The client tokens of an address change's transactions: the update draws its write token
 * (UPDATE_TOKEN) first, then one per transaction. */
#define CHANGE_TOKEN_1 "00000000-0000-4000-8000-000000000002"
#define CHANGE_TOKEN_2 "00000000-0000-4000-8000-000000000003"
#define GRACE_BODY     "{\"email\":\" Grace@Example.com \"}"
/* The condition a first try with an email adds. */
#define SAME_EMAIL " AND #emailLower = :emailLower"

/* Prepares a PATCH of the route's user with body (If-Match tag unless NULL), no calls yet. */
static void patch(t *x, const char *body, const char *tag) {
    fake_ddb_free(&x->ddb);
    x->ids.counter = 0;
    req(x, "PATCH", "/users/" ID);
    json_body(x, body);
    if (tag)
        header(x, "if-match", tag);
}

/* Scripts the UpdateItem's failed condition returning the stored user (ALL_OLD) at version with
 * address email (no item when email is NULL), after a lost answer when lost. */
static void push_stored_old(t *x, const char *email, int version, bool lost) {
    char doc[2400] = "{}";
    if (email) {
        char *item = item_json(ID, "Ada Lovelace", email, NULL, version);
        snprintf(doc, sizeof doc, "{\"Item\":%s}", item);
        free(item);
    }
    fake_ddb_push_json(&x->ddb, DDB_CONDITION_FAILED, doc, "ConditionalCheckFailedException");
    x->ddb.replies[x->ddb.n_replies - 1].maybe_applied = lost;
}

/* The transaction of an address change from Ada@Example.com at version to Grace@Example.com:
 * the update at exactly that version, the new claim and, when release, the old claim's
 * release. */
static void expect_change_transaction(const t *x, size_t i, const char *client_token, int version,
                                      bool release) {
    const json_t *items = transaction_at(x, i, client_token, release ? 3 : 2);
    char want[1400];
    snprintf(want, sizeof want,
             "{\"TableName\":\"" TABLE "\",\"Key\":{\"userId\":{\"S\":\"" ID "\"}},"
             "\"UpdateExpression\":\"SET #email = :email, #emailLower = :emailLower, "
             "#updatedAt = :now, #lastWriteToken = :token, #version = #version + :one\","
             "\"ConditionExpression\":\"attribute_exists(userId) AND #version IN (:v0)\","
             "\"ExpressionAttributeNames\":{\"#email\":\"email\",\"#emailLower\":\"emailLower\","
             "\"#updatedAt\":\"updatedAt\",\"#lastWriteToken\":\"lastWriteToken\","
             "\"#version\":\"version\"},"
             "\"ExpressionAttributeValues\":{\":email\":{\"S\":\"Grace@Example.com\"},"
             "\":emailLower\":{\"S\":\"grace@example.com\"},\":now\":{\"S\":\"" NOW_ISO "\"},"
             "\":token\":{\"S\":\"" UPDATE_TOKEN "\"},\":one\":{\"N\":\"1\"},"
             "\":v0\":{\"N\":\"%d\"}},"
             "\"ReturnValuesOnConditionCheckFailure\":\"ALL_OLD\"}",
             version);
    expect_member(json_array_get(items, 0), "Update", want);
    expect_member(json_array_get(items, 1), "Put", CLAIM_PUT("grace@example.com", ID));
    if (release)
        expect_member(json_array_get(items, 2), "Delete", CLAIM_DELETE("ada@example.com", ID));
}

/* The answer to the change from Ada@Example.com at version - 1, computed from the stored item. */
static void expect_changed(t *x, int version) {
    char want[512], etag[16];
    snprintf(want, sizeof want,
             "{\"userId\":\"" ID "\",\"name\":\"Ada Lovelace\",\"email\":\"Grace@Example.com\","
             "\"createdAt\":\"" EARLIER "\",\"updatedAt\":\"" NOW_ISO "\",\"version\":%d}",
             version);
    snprintf(etag, sizeof etag, "\"%d\"", version);
    assert_int_equal(x->resp.status, 200);
    expect_body(x, want);
    assert_string_equal(resp_header(x, "ETag"), etag);
}

/* The same address in any case keeps the claim: one UpdateItem, whose condition also asks for
 * that address, and the stored email takes the new spelling. */
static void test_update_same_address_is_one_update(void **state) {
    t *x = *state;
    static const char *const tags[] = {NULL, "\"3\""};
    static const char *const conditions[] = {UPDATE_CONDITION SAME_EMAIL "\"", UPDATE_CONDITION
                                             " AND #version IN (:v0)" SAME_EMAIL "\""};
    for (size_t i = 0; i < 2; i++) {
        patch(x, "{\"email\":\"ADA@example.COM\"}", tags[i]);
        push_item_reply(x, "Attributes", ID, NULL, 4);
        run(x);
        assert_int_equal(x->resp.status, 200);
        const json_t *r = only_call(x, DDB_UPDATE_ITEM);
        expect_member(r, "ConditionExpression", conditions[i]);
        const json_t *values = json_object_get(r, "ExpressionAttributeValues");
        expect_member(values, ":email", "{\"S\":\"ADA@example.COM\"}");
        expect_member(values, ":emailLower", "{\"S\":\"ada@example.com\"}");
        expect_member(r, "ReturnValues", "\"ALL_NEW\"");
    }
    /* Without an email the condition is phase 1's. */
    patch(x, "{\"age\":3}", NULL);
    push_item_reply(x, "Attributes", ID, "3", 4);
    run(x);
    expect_member(only_call(x, DDB_UPDATE_ITEM), "ConditionExpression", UPDATE_CONDITION "\"");
}

/* Another address: the UpdateItem's condition fails and returns the stored user, and one
 * transaction moves the user and its claim. The answer is computed, not read back. */
static void test_update_address_change_is_a_transaction(void **state) {
    t *x = *state;
    static const char *const tags[] = {NULL, "\"4\"", "*"};
    for (size_t i = 0; i < 3; i++) {
        patch(x, GRACE_BODY, tags[i]);
        push_stored_old(x, "Ada@Example.com", 4, false);
        fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
        run(x);
        expect_changed(x, 5);
        assert_int_equal(x->ddb.n_calls, 2);
        assert_int_equal(x->out.ddb_attempts, 2);
        const fake_ddb_call *first = fake_ddb_call_at(&x->ddb, 0);
        assert_int_equal(first->op, DDB_UPDATE_ITEM);
        assert_non_null(strstr(
            json_string_value(json_object_get(first->request, "ConditionExpression")), SAME_EMAIL));
        expect_member(json_object_get(first->request, "ExpressionAttributeValues"), ":emailLower",
                      "{\"S\":\"grace@example.com\"}");
        expect_change_transaction(x, 1, CHANGE_TOKEN_1, 4, true);
    }
}

/* The new address held by another user: 409, after the one transaction. */
static void test_update_new_address_taken_is_409(void **state) {
    t *x = *state;
    patch(x, GRACE_BODY, NULL);
    push_stored_old(x, "Ada@Example.com", 4, false);
    push_cancelled(x, "[" R_NONE "," R_FAILED_WITH(CLAIM("grace@example.com", ID2)) "," R_NONE "]");
    run(x);
    expect_problem(x, 409, "EMAIL_TAKEN");
    expect_member(x->body, "errors",
                  "[{\"field\":\"email\",\"message\":\"is already taken by another user\"}]");
    assert_null(resp_header(x, "ETag"));
    assert_int_equal(x->ddb.n_calls, 2);
    expect_change_transaction(x, 1, CHANGE_TOKEN_1, 4, true);
}

/* If-Match is judged on the stored version before any transaction: 412, one request; and a
 * missing user is 404 whatever the body asks. */
static void test_update_address_change_preconditions(void **state) {
    t *x = *state;
    patch(x, GRACE_BODY, "\"3\"");
    push_stored_old(x, "Ada@Example.com", 4, false);
    run(x);
    expect_problem(x, 412, "PRECONDITION_FAILED");
    expect_member(only_call(x, DDB_UPDATE_ITEM), "ConditionExpression",
                  UPDATE_CONDITION " AND #version IN (:v0)" SAME_EMAIL "\"");

    patch(x, GRACE_BODY, "\"3\"");
    push_stored_old(x, NULL, 0, false);
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
    assert_int_equal(x->ddb.n_calls, 1);

    /* After a lost answer the stored item may be this request's own half: not a change to
     * make on it. */
    patch(x, GRACE_BODY, NULL);
    push_stored_old(x, "Ada@Example.com", 4, true);
    run(x);
    expect_unknown_outcome(x);
    assert_int_equal(x->ddb.n_calls, 1);

    /* The transaction's own failures answer as every write's do. */
    patch(x, GRACE_BODY, NULL);
    push_stored_old(x, "Ada@Example.com", 4, false);
    fake_ddb_push(&x->ddb, DDB_UNAVAILABLE, NULL, "ThrottlingException", 8);
    run(x);
    expect_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_string_equal(resp_header(x, "Retry-After"), "1");
    assert_int_equal(x->out.ddb_attempts, 9);
}

/* The user moved between the UpdateItem and the transaction: start over from the UpdateItem,
 * and after UA_WRITE_ROUNDS rounds give up with 503. */
static void test_update_address_change_starts_over(void **state) {
    t *x = *state;
    patch(x, GRACE_BODY, NULL);
    push_stored_old(x, "Ada@Example.com", 4, false);
    push_cancelled(x, "[" R_FAILED "," R_NONE "," R_NONE "]");
    push_stored_old(x, "Ada@Example.com", 5, false);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    expect_changed(x, 6);
    assert_int_equal(x->ddb.n_calls, 4);
    assert_int_equal(fake_ddb_call_at(&x->ddb, 2)->op, DDB_UPDATE_ITEM);
    expect_change_transaction(x, 3, CHANGE_TOKEN_2, 5, true);

    patch(x, GRACE_BODY, NULL);
    for (unsigned i = 0; i < UA_WRITE_ROUNDS; i++) {
        push_stored_old(x, "Ada@Example.com", 4 + (int)i, false);
        push_cancelled(x, "[" R_FAILED "," R_NONE "," R_NONE "]");
    }
    run(x);
    expect_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_string_equal(resp_header(x, "Retry-After"), "1");
    assert_string_equal(x->out.ddb_error, "the user kept changing under an address change");
    assert_int_equal(x->ddb.n_calls, 2 * UA_WRITE_ROUNDS);
}

/* An old address claimed by another user (two users sharing it from before the back-fill):
 * the change goes through without releasing that claim. */
static void test_update_old_claim_of_another_user_is_kept(void **state) {
    t *x = *state;
    patch(x, GRACE_BODY, NULL);
    push_stored_old(x, "Ada@Example.com", 4, false);
    push_cancelled(x, "[" R_NONE "," R_NONE "," R_FAILED_WITH(CLAIM("ada@example.com", ID2)) "]");
    push_stored_old(x, "Ada@Example.com", 4, false);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    expect_changed(x, 5);
    assert_int_equal(x->ddb.n_calls, 4);
    expect_change_transaction(x, 1, CHANGE_TOKEN_1, 4, true);
    expect_change_transaction(x, 3, CHANGE_TOKEN_2, 4, false);
}

/* ---- Delete ---- */

/* The client tokens of a delete's transactions, one per round. */
#define DELETE_TOKEN_1 ID
#define DELETE_TOKEN_2 "00000000-0000-4000-8000-000000000002"

static void delete_with_if_match(t *x, const char *tag) {
    fake_ddb_free(&x->ddb);
    x->ids.counter = 0;
    req(x, "DELETE", "/users/" ID);
    if (tag)
        header(x, "if-match", tag);
}

/* Call i of a delete: the consistent GetItem of the route's user. */
static void expect_read(const t *x, size_t i) {
    const fake_ddb_call *c = fake_ddb_call_at(&x->ddb, i);
    assert_int_equal(c->op, DDB_GET_ITEM);
    assert_int_equal(c->deadline_ms, DEADLINE);
    expect_member(c->request, "TableName", "\"" TABLE "\"");
    expect_member(c->request, "Key", "{\"userId\":{\"S\":\"" ID "\"}}");
    expect_member(c->request, "ConsistentRead", "true");
    assert_int_equal(json_object_size(c->request), 3);
}

/* Call i of a delete: the transaction that deletes the user at exactly version and, when
 * release, releases its claim on ada@example.com. */
static void expect_delete_transaction(const t *x, size_t i, const char *client_token, int version,
                                      bool release) {
    const json_t *items = transaction_at(x, i, client_token, release ? 2 : 1);
    char want[512];
    snprintf(want, sizeof want,
             "{\"TableName\":\"" TABLE "\",\"Key\":{\"userId\":{\"S\":\"" ID "\"}},"
             "\"ConditionExpression\":\"#version = :version\","
             "\"ExpressionAttributeNames\":{\"#version\":\"version\"},"
             "\"ExpressionAttributeValues\":{\":version\":{\"N\":\"%d\"}}}",
             version);
    expect_member(json_array_get(items, 0), "Delete", want);
    if (release)
        expect_member(json_array_get(items, 1), "Delete", CLAIM_DELETE("ada@example.com", ID));
}

static void expect_deleted(t *x) {
    assert_int_equal(x->resp.status, 200);
    expect_body(x, "{\"message\":\"User deleted\",\"userId\":\"" ID "\"}");
    assert_null(resp_header(x, "ETag"));
}

/* A consistent read names the version and the address; one transaction deletes the user at
 * that version and releases the address. */
static void test_delete(void **state) {
    t *x = *state;
    delete_with_if_match(x, NULL);
    push_item_reply(x, "Item", ID, NULL, 3);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    expect_deleted(x);
    assert_string_equal(x->out.route, "/users/{userId}");
    assert_int_equal(x->ddb.n_calls, 2);
    assert_int_equal(x->out.ddb_attempts, 2);
    expect_read(x, 0);
    expect_delete_transaction(x, 1, DELETE_TOKEN_1, 3, true);

    /* Nothing stored: 404 from the read alone. */
    delete_with_if_match(x, NULL);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
    assert_int_equal(x->ddb.n_calls, 1);
    expect_read(x, 0);
}

static void test_delete_if_match(void **state) {
    t *x = *state;
    /* A matching tag: the transaction is at the version read, which is the tag's. */
    static const char *const passing[] = {"\"3\"", "\"1\", \"3\"", "*", "W/\"2\", \"3\""};
    for (size_t i = 0; i < sizeof passing / sizeof passing[0]; i++) {
        delete_with_if_match(x, passing[i]);
        push_item_reply(x, "Item", ID, NULL, 3);
        fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
        run(x);
        expect_deleted(x);
        expect_delete_transaction(x, 1, DELETE_TOKEN_1, 3, true);
    }

    /* Existing user, other version: 412; missing user: 404; both from the read alone. */
    delete_with_if_match(x, "\"2\"");
    push_item_reply(x, "Item", ID, NULL, 3);
    run(x);
    expect_problem(x, 412, "PRECONDITION_FAILED");
    assert_int_equal(x->ddb.n_calls, 1);

    delete_with_if_match(x, "\"2\"");
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
    assert_int_equal(x->ddb.n_calls, 1);

    delete_with_if_match(x, "2");
    run(x);
    expect_errors(x, "[{\"field\":\"If-Match\",\"message\":"
                     "\"must be \\\"*\\\" or a list of entity tags like \\\"3\\\"\"}]");
    expect_no_calls(x);
}

/* The user moved between the read and the transaction: read again, and answer from what is
 * stored then; after UA_WRITE_ROUNDS rounds, 503. */
static void test_delete_starts_over_when_the_user_moved(void **state) {
    t *x = *state;
    delete_with_if_match(x, NULL);
    push_item_reply(x, "Item", ID, NULL, 3);
    push_cancelled(x, "[" R_FAILED "," R_NONE "]");
    push_item_reply(x, "Item", ID, NULL, 4);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    expect_deleted(x);
    assert_int_equal(x->ddb.n_calls, 4);
    expect_read(x, 2);
    expect_delete_transaction(x, 3, DELETE_TOKEN_2, 4, true);

    /* Deleted by someone else meanwhile: 404. */
    delete_with_if_match(x, NULL);
    push_item_reply(x, "Item", ID, NULL, 3);
    push_cancelled(x, "[" R_FAILED "," R_NONE "]");
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
    assert_int_equal(x->ddb.n_calls, 3);

    /* Updated meanwhile, past the If-Match: 412. */
    delete_with_if_match(x, "\"3\"");
    push_item_reply(x, "Item", ID, NULL, 3);
    push_cancelled(x, "[" R_FAILED "," R_NONE "]");
    push_item_reply(x, "Item", ID, NULL, 4);
    run(x);
    expect_problem(x, 412, "PRECONDITION_FAILED");
    assert_int_equal(x->ddb.n_calls, 3);

    delete_with_if_match(x, NULL);
    for (unsigned i = 0; i < UA_WRITE_ROUNDS; i++) {
        push_item_reply(x, "Item", ID, NULL, 3 + (int)i);
        push_cancelled(x, "[" R_FAILED "," R_NONE "]");
    }
    run(x);
    expect_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_string_equal(resp_header(x, "Retry-After"), "1");
    assert_string_equal(x->out.ddb_error, "the user kept changing under a delete");
    assert_int_equal(x->ddb.n_calls, 2 * UA_WRITE_ROUNDS);
}

/* An address claimed by another user (from before the back-fill) is not the deleted user's to
 * release: the user is deleted, the claim stays. */
static void test_delete_keeps_a_claim_of_another_user(void **state) {
    t *x = *state;
    delete_with_if_match(x, NULL);
    push_item_reply(x, "Item", ID, NULL, 3);
    push_cancelled(x, "[" R_NONE "," R_FAILED_WITH(CLAIM("ada@example.com", ID2)) "]");
    push_item_reply(x, "Item", ID, NULL, 3);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    expect_deleted(x);
    assert_int_equal(x->ddb.n_calls, 4);
    expect_delete_transaction(x, 1, DELETE_TOKEN_1, 3, true);
    expect_delete_transaction(x, 3, DELETE_TOKEN_2, 3, false);
}

/* A transaction's answer lost: the client resends it with the same client token, which
 * DynamoDB answers with success when the first attempt was applied. So a cancelled retry
 * proves that nothing was applied, and the next read's answer is the true one. */
static void test_delete_after_lost_answer(void **state) {
    t *x = *state;
    delete_with_if_match(x, NULL);
    push_item_reply(x, "Item", ID, NULL, 3);
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    x->ddb.replies[1].maybe_applied = true;
    run(x);
    expect_deleted(x);

    delete_with_if_match(x, NULL);
    push_item_reply(x, "Item", ID, NULL, 3);
    push_cancelled(x, "[" R_FAILED "," R_NONE "]");
    x->ddb.replies[1].maybe_applied = true;
    fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
    run(x);
    expect_problem(x, 404, "NOT_FOUND");
    assert_int_equal(x->ddb.n_calls, 3);

    /* A transaction that never got an answer is an unknown outcome: 503, never 200. */
    delete_with_if_match(x, NULL);
    push_item_reply(x, "Item", ID, NULL, 3);
    fake_ddb_push(&x->ddb, DDB_UNAVAILABLE, NULL, "transport: Connection reset", 3);
    run(x);
    expect_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_non_null(resp_header(x, "Retry-After"));

    /* DynamoDB refusing the transaction (a validation error) is ours: 500. */
    delete_with_if_match(x, NULL);
    push_item_reply(x, "Item", ID, NULL, 3);
    fake_ddb_push_json(&x->ddb, DDB_FAILED, "{}", "ValidationException");
    run(x);
    expect_problem(x, 500, "INTERNAL");
    assert_string_equal(x->out.ddb_error, "ValidationException");
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
        case 3:
            req(x, "PATCH", "/users/" ID);
            header(x, "if-match", "\"1\", \"2\"");
            json_body(x, "{\"name\":\"Ada\",\"email\":\"a@b.io\",\"age\":null}");
            push_item_reply(x, "Attributes", ID, NULL, 2);
            break;
        case 4: /* a create with a key, recorded */
            create_with_key(x, ADA_BODY, KEY, "{}");
            break;
        case 5: /* a repeat, replayed */
        case 6: /* another request under the key */
            create_with_key(x, ADA_BODY, KEY, NULL);
            push_repeat_cancelled(
                x, record_item(scenario == 5 ? ADA_HASH : FOREIGN_HASH, ID2, FIRST_ANSWER));
            break;
        case 7: /* a taken address */
            req(x, "POST", "/users");
            json_body(x, "{\"name\":\"Ada\",\"email\":\"ada@example.com\"}");
            push_cancelled(x, "[" R_NONE "," R_FAILED_WITH(CLAIM("ada@example.com", ID2)) "]");
            break;
        case 8: /* an address change */
            patch(x, GRACE_BODY, "\"4\"");
            push_stored_old(x, "Ada@Example.com", 4, false);
            fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
            break;
        case 9: /* a delete */
            delete_with_if_match(x, "\"3\"");
            push_item_reply(x, "Item", ID, NULL, 3);
            fake_ddb_push_json(&x->ddb, DDB_OK, "{}", NULL);
            break;
        default: { /* a lookup */
            req(x, "GET", "/users");
            query(x, "email", "Ada@Example.com");
            char *a = item_json(ID, "Ada", "Ada@Example.com", "3", 1);
            char reply[3000];
            snprintf(reply, sizeof reply, "{\"Items\":[%s],\"Count\":1}", a);
            free(a);
            fake_ddb_push_json(&x->ddb, DDB_OK, reply, NULL);
            break;
        }
    }
}

static void test_out_of_memory_is_500(void **state) {
    t *x = *state;
    static const int want[] = {400, 201, 200, 200, 201, 201, 422, 409, 200, 200, 200};
    for (int scenario = 0; scenario < (int)(sizeof want / sizeof want[0]); scenario++) {
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
        cmocka_unit_test_setup_teardown(test_create_email_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_after_lost_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_meets_its_own_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_collision_is_internal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_with_key_records_the_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_hash_is_of_the_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_repeat_replays_the_first_answer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_create_key_reused_is_422, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_record_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_key_rules, setup, teardown),
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
        cmocka_unit_test_setup_teardown(test_lookup_by_email, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_bad_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_every_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_age_null_removes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_needs_a_known_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_if_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_if_match_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_after_lost_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_same_address_is_one_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_address_change_is_a_transaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_update_new_address_taken_is_409, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_address_change_preconditions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_address_change_starts_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_old_claim_of_another_user_is_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_if_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_starts_over_when_the_user_moved, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete_keeps_a_claim_of_another_user, setup, teardown),
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
