/* fuzz_support.c — the fuzz targets' fake DynamoDB and answer invariants (see fuzz_support.h). */
#include "fuzz_support.h"

#include "problem.h"
#include "router.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NOW_MS 1795523696789LL
#define FUZZ_TABLE  "UsersTable"
#define FUZZ_ID     "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define FUZZ_ID2    "0b6f3c9e-1d2a-4e5f-8a7b-9c0d1e2f3a4b"

#define AV_S(v) "{\"S\":\"" v "\"}"
#define AV_N(v) "{\"N\":\"" v "\"}"
#define STAMP   "2026-11-24T12:34:56.789Z"
#define ITEM_TAIL                                                                                  \
    "\"createdAt\":" AV_S(STAMP) ",\"updatedAt\":" AV_S(STAMP) ",\"version\":" AV_N("3") "}"

_Noreturn void fuzz_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz invariant broken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* ---- The fake DynamoDB ---- */

/* Stored items a reply may carry: users, and things that only look like them. */
static const char *const items[] = {
    "{\"userId\":" AV_S(FUZZ_ID) ",\"name\":" AV_S("Ada") ",\"email\":" AV_S(
        "ada@example.com") ",\"emailLower\":" AV_S("ada@example.com") ",\"age\":" AV_N("36") "," ITEM_TAIL,
    "{\"userId\":" AV_S(FUZZ_ID2) ",\"name\":" AV_S("B\\u00e9a \\ud83d\\ude00") ",\"email\":" AV_S(
        "b@example.org") "," ITEM_TAIL,
    "{\"userId\":" AV_S(FUZZ_ID) ",\"name\":" AV_S("x") ",\"email\":" AV_S(
        "x@y.zz") ",\"age\":" AV_N("1e400") "," ITEM_TAIL,
    "{\"userId\":" AV_S(FUZZ_ID) ",\"name\":" AV_S("x") ",\"email\":" AV_S(
        "x@y.zz") ",\"createdAt\":" AV_S(STAMP) ",\"updatedAt\":" AV_S(STAMP) ",\"version\""
                                                                              ":" AV_N(
                                                                                  "9999999"
                                                                                  "9999999"
                                                                                  "999999") "}",
    "{\"userId\":" AV_S(FUZZ_ID) ",\"name\":" AV_S("x") "," ITEM_TAIL,
    "{\"userId\":" AV_S(FUZZ_ID) ",\"name\":" AV_N("1") ",\"email\":" AV_S("x@y.zz") "," ITEM_TAIL,
    "{\"userId\":" AV_S(FUZZ_ID) ",\"name\":" AV_S("x") ",\"email\":" AV_S(
        "x@y.zz") ",\"age\":" AV_S("36") "," ITEM_TAIL,
    "\"not an item\"",
    "{\"userId\":" AV_S(FUZZ_ID) ",\"name\":" AV_S(
        "\\u0000\\r\\n\\u001f\\u007f\\\"<") ",\"email\":" AV_S("x@y.zz") "," ITEM_TAIL,
    "{\"userId\":" AV_S(FUZZ_ID) ",\"name\":" AV_S("x") ",\"email\":" AV_S(
        "x@y.zz") ",\"createdAt\":" AV_S(STAMP) ",\"updatedAt\":" AV_S(STAMP) ",\"version\""
                                                                              ":" AV_N("1.5") "}",
    "{\"userId\":" AV_S("NOT-CANONICAL") ",\"name\":" AV_S("x") ",\"email\":" AV_S(
        "x@y.zz") ",\"extra\":{\"L\":[{\"NULL\":true}]}," ITEM_TAIL,
    "{}",
};
#define N_ITEMS (sizeof items / sizeof items[0])

/* LastEvaluatedKey of a Scan page: ours, then keys this API never issued. NULL: last page. */
static const char *const page_keys[] = {
    NULL,
    "{\"userId\":" AV_S(FUZZ_ID2) "}",
    "{\"userId\":" AV_S("not-a-uuid") "}",
    "{\"userId\":" AV_N("1") "}",
    "{\"userId\":" AV_S(FUZZ_ID) ",\"other\":" AV_S("x") "}",
    "\"key\"",
};
#define N_PAGE_KEYS (sizeof page_keys / sizeof page_keys[0])

static json_t *load(const char *text) {
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!j)
        fuzz_fail("canned reply does not parse: %s", text);
    return j;
}

static json_t *item_at(uint8_t variant) {
    return load(items[variant % N_ITEMS]);
}

/* The body of a successful reply to op. */
static json_t *success_body(const fuzz_ddb *f, ddb_op op) {
    json_t *body = json_object();
    switch (op) {
        case DDB_GET_ITEM:
            json_object_set_new(body, "Item", item_at(f->variant));
            break;
        case DDB_UPDATE_ITEM:
            json_object_set_new(body, "Attributes", item_at(f->variant));
            break;
        case DDB_SCAN: {
            json_t *list = json_array();
            for (unsigned i = 0; i < (unsigned)(f->variant % 4u); i++)
                json_array_append_new(list, item_at((uint8_t)(f->variant / 4u + i)));
            json_object_set_new(body, "Items", list);
            json_object_set_new(body, "Count", json_integer((json_int_t)json_array_size(list)));
            const char *key = page_keys[(f->variant / 16u) % N_PAGE_KEYS];
            if (key)
                json_object_set_new(body, "LastEvaluatedKey", load(key));
            break;
        }
        default:
            break;
    }
    return body;
}

/* A TransactionCanceledException for request's items: the variant picks which item's
 * condition failed, and whether it comes back with an item (ALL_OLD) — the item sent for a
 * Put (our own write), or one of the canned items. */
static json_t *cancelled_body(const fuzz_ddb *f, const json_t *request) {
    const json_t *txn = json_object_get(request, "TransactItems");
    size_t n = json_array_size(txn), failed = n ? f->variant % n : 0;
    json_t *reasons = json_array();
    for (size_t i = 0; reasons && i < n; i++) {
        json_t *r = json_pack("{s:s}", "Code", i == failed ? "ConditionalCheckFailed" : "None");
        if (r && i == failed && (f->variant / 8u) % 3u != 0) {
            const json_t *put = json_object_get(json_array_get(txn, i), "Put");
            const json_t *sent = json_object_get(put, "Item");
            json_object_set_new(r, "Item",
                                (f->variant / 8u) % 3u == 1 && sent ? json_deep_copy(sent)
                                                                    : item_at(f->variant));
        }
        json_array_append_new(reasons, r);
    }
    return json_pack("{s:s, s:s, s:o}", "__type",
                     "com.amazonaws.dynamodb.v20120810#TransactionCanceledException", "message",
                     "Transaction cancelled", "CancellationReasons", reasons);
}

static ddb_status fuzz_call(void *ctx, ddb_op op, const json_t *request, int64_t deadline_ms,
                            ddb_reply *reply) {
    fuzz_ddb *f = ctx;
    json_t *body = NULL;
    ddb_status st = DDB_OK;
    const char *type = NULL;
    unsigned attempts = 1;

    switch (f->kind % 8u) {
        case 0:
            body = success_body(f, op);
            break;
        case 1:
            body = json_object(); /* GetItem: no such user; others: nothing to show */
            break;
        case 2: /* success without a body: the handler must not trust one is there */
            break;
        case 3:
            st = DDB_CONDITION_FAILED;
            if (op == DDB_TRANSACT_WRITE_ITEMS) {
                type = "TransactionCanceledException";
                body = cancelled_body(f, request);
                break;
            }
            type = "ConditionalCheckFailedException";
            body = json_pack("{s:s}", "__type",
                             "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException");
            break;
        case 4: { /* the condition failed on an item: for PutItem sometimes our own write */
            st = DDB_CONDITION_FAILED;
            type = "ConditionalCheckFailedException";
            const json_t *sent = json_object_get(request, "Item");
            json_t *old = op == DDB_PUT_ITEM && sent && f->variant % 2u == 0 ? json_deep_copy(sent)
                                                                             : item_at(f->variant);
            body =
                json_pack("{s:s, s:o}", "__type", "ConditionalCheckFailedException", "Item", old);
            break;
        }
        case 5:
            st = DDB_UNAVAILABLE;
            type = "ThrottlingException";
            attempts = UA_DDB_MAX_ATTEMPTS;
            break;
        case 6:
            st = DDB_FAILED;
            type = "ValidationException";
            body =
                json_pack("{s:s, s:s}", "__type", "com.amazon.coral.validate#ValidationException",
                          "message", "One or more parameter values were invalid");
            break;
        default:
            st = DDB_FAILED; /* a reply that could not be read at all */
            break;
    }
    fake_ddb_push(&f->fake, st, body, type, attempts);
    return fake_ddb_port(&f->fake).call(&f->fake, op, request, deadline_ms, reply);
}

void fuzz_ddb_init(fuzz_ddb *f, uint8_t kind, uint8_t variant) {
    fake_ddb_init(&f->fake);
    f->kind = kind;
    f->variant = variant;
}

void fuzz_ddb_free(fuzz_ddb *f) {
    fake_ddb_free(&f->fake);
}

ddb_port fuzz_ddb_port(fuzz_ddb *f) {
    return (ddb_port){.call = fuzz_call, .ctx = f};
}

static int64_t fixed_now(void *ctx) {
    (void)ctx;
    return FUZZ_NOW_MS;
}

static void next_id(char out[UA_UUID_LEN + 1], void *ctx) {
    (void)ctx;
    memcpy(out, FUZZ_ID, UA_UUID_LEN + 1);
}

users_deps fuzz_deps(fuzz_ddb *f, const char *allowed_origins) {
    return (users_deps){.table = FUZZ_TABLE,
                        .claims_table = FUZZ_TABLE "-claims",
                        .allowed_origins = allowed_origins,
                        .ddb = fuzz_ddb_port(f),
                        .now_ms = fixed_now,
                        .new_id = next_id};
}

/* ---- Invariants ---- */

static const char *header(const api_response *resp, const char *name) {
    return json_string_value(json_object_get(resp->headers, name));
}

static void expect_header(const api_response *resp, const char *name, const char *want) {
    const char *got = header(resp, name);
    if (!got || (want && strcmp(got, want) != 0))
        fuzz_fail("%d answer: header %s is %s, want %s", resp->status, name, got ? got : "absent",
                  want ? want : "present");
}

static bool is_tchar(unsigned char c) {
    return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

static void check_headers(const users_deps *deps, const api_response *resp) {
    const char *name;
    const json_t *v;
    json_object_foreach(resp->headers, name, v) {
        if (!*name)
            fuzz_fail("empty header name");
        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
            if (!is_tchar(*p))
                fuzz_fail("header name %s is not a token", name);
        if (!json_is_string(v))
            fuzz_fail("header %s is not a string", name);
        const char *s = json_string_value(v);
        for (size_t i = 0; i < json_string_length(v); i++)
            if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
                fuzz_fail("header %s holds control character 0x%02x", name, (unsigned char)s[i]);
    }
    expect_header(resp, "Cache-Control", "no-store");
    expect_header(resp, "X-Content-Type-Options", "nosniff");
    expect_header(resp, "Access-Control-Expose-Headers", "ETag, Location");
    const char *origin = header(resp, "Access-Control-Allow-Origin");
    const char *list = deps->allowed_origins;
    if (!origin || !*origin)
        fuzz_fail("no Access-Control-Allow-Origin");
    if (!list || strcmp(list, "*") == 0) {
        if (strcmp(origin, "*") != 0)
            fuzz_fail("Access-Control-Allow-Origin %s with any origin allowed", origin);
        return;
    }
    expect_header(resp, "Vary", "Origin");
    /* The configured lists in the targets have no blanks: an exact entry or nothing. */
    size_t n = strlen(origin);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, origin, n) == 0)
            return;
        p += len + (p[len] == ',');
    }
    fuzz_fail("Access-Control-Allow-Origin %s is not on the list %s", origin, list);
}

static json_t *parse_body(const api_response *resp) {
    json_error_t err;
    json_t *doc = json_loadb(buf_str(&resp->body), resp->body.len,
                             JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!json_is_object(doc))
        fuzz_fail("%d answer: body is not a JSON object (%s): %.200s", resp->status, err.text,
                  buf_str(&resp->body));
    return doc;
}

static void only_keys(const json_t *obj, const char *const *keys, size_t n, const char *what) {
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        size_t i = 0;
        while (i < n && strcmp(key, keys[i]) != 0)
            i++;
        if (i == n)
            fuzz_fail("%s has the unexpected member %s", what, key);
    }
}

/* The code a problem of status may carry. */
static bool code_fits(int status, const char *code) {
    switch (status) {
        case 400:
            return strcmp(code, "VALIDATION_FAILED") == 0 || strcmp(code, "INVALID_JSON") == 0;
        case 404:
            return strcmp(code, "NOT_FOUND") == 0;
        case 405:
            return strcmp(code, "METHOD_NOT_ALLOWED") == 0;
        case 409:
            return strcmp(code, "EMAIL_TAKEN") == 0;
        case 422:
            return strcmp(code, "IDEMPOTENCY_KEY_REUSED") == 0;
        case 412:
            return strcmp(code, "PRECONDITION_FAILED") == 0;
        case 413:
            return strcmp(code, "PAYLOAD_TOO_LARGE") == 0;
        case 415:
            return strcmp(code, "UNSUPPORTED_MEDIA_TYPE") == 0;
        case 500:
            return strcmp(code, "INTERNAL") == 0;
        case 503:
            return strcmp(code, "SERVICE_UNAVAILABLE") == 0;
        default:
            return false;
    }
}

/* Codes the contract's check order gives before any DynamoDB request is made. */
static bool answered_before_ddb(const char *code) {
    static const char *const before[] = {"VALIDATION_FAILED", "INVALID_JSON",
                                         "UNSUPPORTED_MEDIA_TYPE", "PAYLOAD_TOO_LARGE",
                                         "METHOD_NOT_ALLOWED"};
    for (size_t i = 0; i < sizeof before / sizeof before[0]; i++)
        if (strcmp(code, before[i]) == 0)
            return true;
    return false;
}

static void check_problem(const api_request *req, const api_response *resp,
                          const users_outcome *outcome, size_t calls) {
    static const char *const keys[] = {"type",   "title",  "status",   "code",
                                       "detail", "errors", "requestId"};
    int status = resp->status;
    expect_header(resp, "Content-Type", PROBLEM_CONTENT_TYPE);
    json_t *doc = parse_body(resp);
    only_keys(doc, keys, sizeof keys / sizeof keys[0], "problem");
    const char *type = json_string_value(json_object_get(doc, "type"));
    const char *title = json_string_value(json_object_get(doc, "title"));
    const char *code = json_string_value(json_object_get(doc, "code"));
    const json_t *st = json_object_get(doc, "status");
    const json_t *errors = json_object_get(doc, "errors");
    if (!type || strcmp(type, "about:blank") != 0 || !title ||
        strcmp(title, problem_title(status)) != 0 || !json_is_integer(st) ||
        json_integer_value(st) != status || !json_is_string(json_object_get(doc, "detail")) ||
        !json_is_string(json_object_get(doc, "requestId")))
        fuzz_fail("problem of the wrong shape: %s", buf_str(&resp->body));
    if (!code || !code_fits(status, code))
        fuzz_fail("status %d with code %s", status, code ? code : "(none)");
    if (!outcome->code || strcmp(outcome->code, code) != 0)
        fuzz_fail("outcome code %s, problem code %s", outcome->code ? outcome->code : "(none)",
                  code);
    if (json_string_length(json_object_get(doc, "requestId")) > 0 &&
        strcmp(json_string_value(json_object_get(doc, "requestId")), req->request_id) != 0)
        fuzz_fail("requestId is not the request's");
    if (strcmp(code, "VALIDATION_FAILED") == 0 && json_array_size(errors) == 0)
        fuzz_fail("VALIDATION_FAILED without errors[]");
    if (errors) {
        static const char *const ekeys[] = {"field", "message"};
        size_t i;
        const json_t *e;
        bool taken = strcmp(code, "EMAIL_TAKEN") == 0;
        if (!json_is_array(errors) || (strcmp(code, "VALIDATION_FAILED") != 0 && !taken))
            fuzz_fail("errors[] on a %s problem", code);
        const char *field = json_string_value(json_object_get(json_array_get(errors, 0), "field"));
        if (taken && (json_array_size(errors) != 1 || !field || strcmp(field, "email") != 0))
            fuzz_fail("EMAIL_TAKEN without the one error naming email");
        json_array_foreach(errors, i, e) {
            only_keys(e, ekeys, 2, "errors[]");
            if (!json_is_string(json_object_get(e, "field")) ||
                !json_is_string(json_object_get(e, "message")))
                fuzz_fail("errors[%zu] of the wrong shape", i);
        }
    }
    if (status == 405) {
        const char *allow = header(resp, "Allow");
        if (!allow || !strstr(allow, "OPTIONS"))
            fuzz_fail("405 without an Allow listing OPTIONS");
    }
    if (status == 503)
        expect_header(resp, "Retry-After", "1");
    if (answered_before_ddb(code) && calls != 0)
        fuzz_fail("%s after %zu DynamoDB calls", code, calls);
    if ((status == 409 || status == 412 || status == 422 || status == 503) && calls == 0)
        fuzz_fail("%d without a DynamoDB call", status);
    json_decref(doc);
}

static void check_user(const json_t *u) {
    static const char *const keys[] = {"userId",    "name",      "email",  "age",
                                       "createdAt", "updatedAt", "version"};
    only_keys(u, keys, sizeof keys / sizeof keys[0], "user");
    const json_t *id = json_object_get(u, "userId");
    const json_t *age = json_object_get(u, "age");
    if (!json_is_string(id) ||
        !router_is_canonical_uuid(json_string_value(id), json_string_length(id)) ||
        !json_is_string(json_object_get(u, "name")) ||
        !json_is_string(json_object_get(u, "email")) ||
        !json_is_string(json_object_get(u, "createdAt")) ||
        !json_is_string(json_object_get(u, "updatedAt")) ||
        !json_is_integer(json_object_get(u, "version")) || (age && !json_is_integer(age)))
        fuzz_fail("a user of the wrong shape");
}

static void check_success(const api_response *resp, size_t calls) {
    int status = resp->status;
    if (status == 204) {
        if (resp->body.len != 0 || calls != 0)
            fuzz_fail("204 with a body or a DynamoDB call");
        expect_header(resp, "Access-Control-Allow-Methods", NULL);
        expect_header(resp, "Access-Control-Max-Age", "600");
        return;
    }
    if (status != 200 && status != 201)
        fuzz_fail("unexpected status %d", status);
    if (calls == 0)
        fuzz_fail("%d without a DynamoDB call", status);
    expect_header(resp, "Content-Type", "application/json; charset=utf-8");
    json_t *doc = parse_body(resp);
    const json_t *users = json_object_get(doc, "users");
    if (users) {
        static const char *const keys[] = {"users", "count", "nextToken"};
        size_t i;
        const json_t *u;
        only_keys(doc, keys, 3, "list");
        const json_t *token = json_object_get(doc, "nextToken");
        if (!json_is_array(users) ||
            json_integer_value(json_object_get(doc, "count")) !=
                (json_int_t)json_array_size(users) ||
            (token && (!json_is_string(token) || json_string_length(token) == 0)))
            fuzz_fail("list envelope of the wrong shape: %s", buf_str(&resp->body));
        json_array_foreach(users, i, u) check_user(u);
    } else if (json_object_get(doc, "message")) {
        static const char *const keys[] = {"message", "userId"};
        only_keys(doc, keys, 2, "delete answer");
    } else {
        check_user(doc);
        char etag[32];
        snprintf(etag, sizeof etag, "\"%lld\"",
                 (long long)json_integer_value(json_object_get(doc, "version")));
        expect_header(resp, "ETag", etag);
        if (status == 201) {
            char location[64];
            snprintf(location, sizeof location, "/users/%s",
                     json_string_value(json_object_get(doc, "userId")));
            expect_header(resp, "Location", location);
        }
    }
    json_decref(doc);
}

/* The proxy answer: valid JSON with exactly the four members, saying what resp says. */
static void check_proxy(const api_response *resp, apigw_format format) {
    buf out;
    buf_init(&out, UA_MAX_RESPONSE_BYTES);
    if (apigw_format_response(format, resp, &out) != UA_OK)
        fuzz_fail("apigw_format_response refused a %d answer", resp->status);
    json_error_t err;
    json_t *doc = json_loadb(buf_str(&out), out.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!doc)
        fuzz_fail("proxy answer is not JSON (%s)", err.text);
    static const char *const keys[] = {"statusCode", "headers", "body", "isBase64Encoded"};
    only_keys(doc, keys, 4, "proxy answer");
    const json_t *body = json_object_get(doc, "body");
    if (json_integer_value(json_object_get(doc, "statusCode")) != resp->status ||
        !json_is_false(json_object_get(doc, "isBase64Encoded")) || !json_is_string(body) ||
        json_string_length(body) != resp->body.len ||
        memcmp(json_string_value(body), buf_str(&resp->body), resp->body.len) != 0 ||
        !json_equal(json_object_get(doc, "headers"), resp->headers))
        fuzz_fail("proxy answer says something else: %.300s", buf_str(&out));
    json_decref(doc);
    buf_free(&out);
}

/* Every table a request names is ours: the users table, or in a transaction's items the
 * users or the claims table. */
static void check_tables(const users_deps *deps, const fake_ddb_call *c) {
    if (c->op != DDB_TRANSACT_WRITE_ITEMS) {
        const json_t *table = json_object_get(c->request, "TableName");
        if (!json_is_string(table) || strcmp(json_string_value(table), deps->table) != 0)
            fuzz_fail("a %s request without the users table", ddb_op_name(c->op));
        return;
    }
    const json_t *txn = json_object_get(c->request, "TransactItems");
    size_t i;
    const json_t *entry;
    if (json_array_size(txn) == 0)
        fuzz_fail("a transaction without items");
    json_array_foreach(txn, i, entry) {
        const char *action;
        const json_t *op;
        json_object_foreach((json_t *)entry, action, op) {
            const char *t = json_string_value(json_object_get(op, "TableName"));
            if (!t || (strcmp(t, deps->table) != 0 && strcmp(t, deps->claims_table) != 0))
                fuzz_fail("a transaction's %s without one of our tables", action);
        }
    }
}

void fuzz_check_answer(const users_deps *deps, const fuzz_ddb *ddb, const api_request *req,
                       const api_response *resp, const users_outcome *outcome,
                       apigw_format format) {
    size_t calls = ddb->fake.n_calls;
    if (resp->status < 100 || resp->status > 599)
        fuzz_fail("status %d", resp->status);
    /* A read and a write per round at most (an address change, a delete), UA_WRITE_ROUNDS
     * rounds. */
    if (calls > 2 * UA_WRITE_ROUNDS)
        fuzz_fail("%zu DynamoDB calls for one request", calls);
    if (outcome->ddb_attempts < calls)
        fuzz_fail("%u attempts counted for %zu calls", outcome->ddb_attempts, calls);
    for (size_t i = 0; i < calls; i++)
        check_tables(deps, &ddb->fake.calls[i]);
    check_headers(deps, resp);
    if (resp->status >= 400)
        check_problem(req, resp, outcome, calls);
    else
        check_success(resp, calls);
    check_proxy(resp, format);
}
