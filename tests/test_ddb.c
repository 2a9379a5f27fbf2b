/* test_ddb.c — DynamoDB operation names, replies, error types, CRC, and the client against the
 * scripted fake server (signing, retries, faults, deadlines). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ddb.h"
#include "ddb_txn.h"
#include "ddb_value.h"
#include "fake_http.h"
#include "http.h"

#include <ctype.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- Helpers ---- */

static json_t *parse(const char *text) {
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!j)
        fail_msg("bad test JSON: %s", err.text);
    return j;
}

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Names and replies ---- */

static void test_op_names(void **state) {
    (void)state;
    assert_string_equal(ddb_op_name(DDB_PUT_ITEM), "PutItem");
    assert_string_equal(ddb_op_name(DDB_GET_ITEM), "GetItem");
    assert_string_equal(ddb_op_name(DDB_UPDATE_ITEM), "UpdateItem");
    assert_string_equal(ddb_op_name(DDB_DELETE_ITEM), "DeleteItem");
    assert_string_equal(ddb_op_name(DDB_SCAN), "Scan");
    assert_null(ddb_op_name(DDB_OP_COUNT));
}

static void test_reply_clear_drops_everything(void **state) {
    (void)state;
    ddb_reply r;
    ddb_reply_init(&r);
    assert_null(r.body);
    r.body = parse("{\"a\":1}");
    snprintf(r.error_type, sizeof r.error_type, "ThrottlingException");
    r.attempts = 3;
    r.http_status = 400;
    ddb_reply_clear(&r); /* the sanitizer build reports the body if it leaks */
    assert_null(r.body);
    assert_string_equal(r.error_type, "");
    assert_int_equal(r.attempts, 0);
    assert_int_equal(r.http_status, 0);
}

/* ---- Errors and CRC ---- */

static void test_parse_error_type(void **state) {
    (void)state;
    char out[96];
    json_t *b =
        parse("{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","
              "\"message\":\"The conditional request failed\"}");
    assert_true(ddb_parse_error_type(b, out, sizeof out));
    assert_string_equal(out, "ConditionalCheckFailedException");
    json_decref(b);

    b = parse("{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException\"}");
    assert_true(ddb_parse_error_type(b, out, sizeof out));
    assert_string_equal(out, "UnrecognizedClientException");
    json_decref(b);

    b = parse("{\"__type\":\"ValidationException\",\"Message\":\"x\"}");
    assert_true(ddb_parse_error_type(b, out, sizeof out));
    assert_string_equal(out, "ValidationException");
    json_decref(b);

    b = parse("{\"message\":\"no type\"}");
    snprintf(out, sizeof out, "stale");
    assert_false(ddb_parse_error_type(b, out, sizeof out));
    assert_string_equal(out, "");
    json_decref(b);

    b = parse("{\"__type\":42}");
    assert_false(ddb_parse_error_type(b, out, sizeof out));
    json_decref(b);

    b = parse("{\"__type\":\"com.amazonaws#\"}");
    assert_false(ddb_parse_error_type(b, out, sizeof out));
    json_decref(b);

    b = parse("{\"__type\":\"x#ThrottlingException\"}");
    char tiny[8];
    assert_false(ddb_parse_error_type(b, tiny, sizeof tiny));
    json_decref(b);
    assert_false(ddb_parse_error_type(NULL, out, sizeof out));
}

static void test_crc32_known_values(void **state) {
    (void)state;
    assert_int_equal(ddb_crc32("123456789", 9), 0xCBF43926u);
    assert_int_equal(ddb_crc32("", 0), 0u);
    assert_int_equal(ddb_crc32("{\"TableNames\":[]}", 17), 1315925753u);
    assert_int_equal(ddb_crc32("The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
    static const unsigned char bytes[] = {0x00, 0xFF, 0x80, 0x7F};
    assert_int_equal(ddb_crc32(bytes, 1), 0xD202EF8Du);
    assert_int_equal(ddb_crc32(bytes, sizeof bytes), ddb_crc32(bytes, sizeof bytes));
    assert_int_not_equal(ddb_crc32(bytes, 3), ddb_crc32(bytes, 4));
}

/* ---- Configuration ---- */

static void test_endpoint_from_env(void **state) {
    (void)state;
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://ddb:8000", 1);
    setenv("AWS_ENDPOINT_URL", "http://all:4566", 1);
    assert_string_equal(ddb_endpoint_from_env(), "http://ddb:8000");
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "", 1);
    assert_string_equal(ddb_endpoint_from_env(), "http://all:4566");
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    assert_string_equal(ddb_endpoint_from_env(), "http://all:4566");
    setenv("AWS_ENDPOINT_URL", "", 1);
    assert_null(ddb_endpoint_from_env());
    unsetenv("AWS_ENDPOINT_URL");
    assert_null(ddb_endpoint_from_env());
}

static void test_client_new_rejects_bad_config(void **state) {
    (void)state;
    char err[128];
    ddb_config cfg = {
        .region = "us-east-1", .access_key_id = "AKIDEXAMPLE", .secret_access_key = "s3cr3t-value"};
    ddb_client *c = ddb_client_new(&cfg, err, sizeof err);
    assert_non_null(c); /* the regional default endpoint */
    ddb_client_free(c);

    static const char *const bad_endpoints[] = {"ftp://x",        "localhost:8000",
                                                "http://",        "http://user:pw@host/",
                                                "http://h/x?q=1", "http://h /"};
    for (size_t i = 0; i < sizeof bad_endpoints / sizeof bad_endpoints[0]; i++) {
        cfg.endpoint = bad_endpoints[i];
        err[0] = '\0';
        c = ddb_client_new(&cfg, err, sizeof err);
        if (c) {
            ddb_client_free(c);
            fail_msg("accepted endpoint %s", bad_endpoints[i]);
        }
        assert_true(err[0] != '\0');
    }
    cfg.endpoint = NULL;
    cfg.region = "US EAST";
    assert_null(ddb_client_new(&cfg, err, sizeof err));
    cfg.region = NULL;
    assert_null(ddb_client_new(&cfg, err, sizeof err));
    cfg.region = "us-east-1";
    cfg.secret_access_key = "";
    assert_null(ddb_client_new(&cfg, err, sizeof err));
    cfg.secret_access_key = "s3cr3t-value";
    cfg.access_key_id = NULL;
    assert_null(ddb_client_new(&cfg, err, sizeof err));
    assert_null(strstr(err, "s3cr3t"));
    assert_null(ddb_client_new(NULL, err, sizeof err));
}

/* ---- The client against the fake ---- */

#define AKID   "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define REGION "eu-west-1"
#define TOKEN  "FQoGZXIvYXdzEXAMPLEtoken//+=="

#define ERR_PREFIX "com.amazonaws.dynamodb.v20120810#"
#define CT_HEADER  "Content-Type: application/x-amz-json-1.0\r\n"

typedef struct fixture {
    fake_http *fake;
    ddb_client *client;
    ddb_reply reply;
    json_t *request;
} fixture;

static fixture *fixture_new(const char *endpoint_suffix, const char *token) {
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->fake = fake_http_start();
    assert_non_null(fx->fake);
    char endpoint[128], err[128];
    snprintf(endpoint, sizeof endpoint, "%s%s", fake_http_url(fx->fake), endpoint_suffix);
    ddb_config cfg = {.region = REGION,
                      .endpoint = endpoint,
                      .access_key_id = AKID,
                      .secret_access_key = SECRET,
                      .session_token = token};
    fx->client = ddb_client_new(&cfg, err, sizeof err);
    if (!fx->client)
        fail_msg("ddb_client_new: %s", err);
    ddb_reply_init(&fx->reply);
    fx->request = parse("{\"TableName\":\"Users\",\"Key\":{\"userId\":{\"S\":\"u-1\"}},"
                        "\"ConsistentRead\":true,\"Name\":\"\\u65e5\\u672c\"}");
    return fx;
}

static int setup(void **state) {
    *state = fixture_new("", NULL);
    return 0;
}

static int setup_with_token(void **state) {
    *state = fixture_new("/", TOKEN);
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    ddb_reply_clear(&fx->reply);
    json_decref(fx->request);
    ddb_client_free(fx->client);
    fake_http_stop(fx->fake);
    free(fx);
    return 0;
}

static void push_ok(fixture *fx, const char *body) {
    fake_http_push(fx->fake, &(fake_response){.headers = CT_HEADER, .body = body, .crc = true});
}

static void push_error(fixture *fx, int status, const char *type) {
    char body[256];
    snprintf(body, sizeof body, "{\"__type\":\"" ERR_PREFIX "%s\",\"message\":\"test\"}", type);
    fake_http_push(
        fx->fake,
        &(fake_response){.status = status, .headers = CT_HEADER, .body = body, .crc = true});
}

static ddb_status call(fixture *fx, ddb_op op, int64_t deadline_ms) {
    return ddb_client_call(fx->client, op, fx->request, deadline_ms, &fx->reply);
}

static const fake_request *request_at(fixture *fx, size_t i) {
    const fake_request *r = fake_http_request(fx->fake, i);
    assert_non_null(r);
    return r;
}

static void header(const fake_request *r, const char *name, char *out, size_t len) {
    if (!fake_request_header(r, name, out, len))
        fail_msg("request lacks %s", name);
}

static void hex(const unsigned char *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", in[i]);
}

/* Recomputes the SigV4 signature of a recorded request from what arrived, with OpenSSL alone,
 * so a header signed one way and sent another cannot pass. */
static void assert_signature_valid(const fake_request *r, const char *path) {
    char auth[1024], amz_date[32], signed_list[512], sig[80], scope_date[16];
    header(r, "Authorization", auth, sizeof auth);
    header(r, "X-Amz-Date", amz_date, sizeof amz_date);
    const char *sh = strstr(auth, "SignedHeaders=");
    const char *sg = strstr(auth, "Signature=");
    assert_non_null(sh);
    assert_non_null(sg);
    snprintf(signed_list, sizeof signed_list, "%.*s", (int)strcspn(sh + 14, ","), sh + 14);
    snprintf(sig, sizeof sig, "%s", sg + 10);
    snprintf(scope_date, sizeof scope_date, "%.8s", amz_date);

    char canonical[8192];
    size_t n = (size_t)snprintf(canonical, sizeof canonical, "POST\n%s\n\n", path);
    char names[512];
    snprintf(names, sizeof names, "%s", signed_list);
    for (char *save = NULL, *name = strtok_r(names, ";", &save); name;
         name = strtok_r(NULL, ";", &save)) {
        char value[2048];
        header(r, name, value, sizeof value);
        n += (size_t)snprintf(canonical + n, sizeof canonical - n, "%s:%s\n", name, value);
    }
    unsigned char digest[32];
    char body_hex[65], canon_hex[65];
    SHA256((const unsigned char *)r->body, r->body_len, digest);
    hex(digest, 32, body_hex);
    snprintf(canonical + n, sizeof canonical - n, "\n%s\n%s", signed_list, body_hex);
    SHA256((const unsigned char *)canonical, strlen(canonical), digest);
    hex(digest, 32, canon_hex);

    char sts[512];
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/dynamodb/aws4_request\n%s", amz_date,
             scope_date, REGION, canon_hex);
    unsigned char k[32];
    unsigned int klen = 32;
    char k0[128];
    snprintf(k0, sizeof k0, "AWS4%s", SECRET);
    HMAC(EVP_sha256(), k0, (int)strlen(k0), (const unsigned char *)scope_date, 8, k, &klen);
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)REGION, strlen(REGION), k, &klen);
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)"dynamodb", 8, k, &klen);
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)"aws4_request", 12, k, &klen);
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)sts, strlen(sts), digest, &klen);
    char want[65];
    hex(digest, 32, want);
    assert_string_equal(sig, want);
}

static void test_success_is_one_signed_request(void **state) {
    fixture *fx = *state;
    push_ok(fx, "{\"Item\":{\"userId\":{\"S\":\"u-1\"},\"version\":{\"N\":\"4\"}}}");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_int_equal(fx->reply.attempts, 1);
    assert_int_equal(fx->reply.http_status, 200);
    assert_string_equal(fx->reply.error_type, "");
    long long version = 0;
    assert_true(ddb_item_n(json_object_get(fx->reply.body, "Item"), "version", &version));
    assert_int_equal(version, 4);

    assert_int_equal(fake_http_request_count(fx->fake), 1);
    const fake_request *r = request_at(fx, 0);
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->path, "/");
    char v[1024], want[128];
    header(r, "X-Amz-Target", v, sizeof v);
    assert_string_equal(v, "DynamoDB_20120810.GetItem");
    header(r, "Content-Type", v, sizeof v);
    assert_string_equal(v, "application/x-amz-json-1.0");
    header(r, "Accept-Encoding", v, sizeof v);
    assert_string_equal(v, "identity");
    /* The port is not the scheme's default, so Host carries it. */
    header(r, "Host", v, sizeof v);
    snprintf(want, sizeof want, "127.0.0.1:%d", fake_http_port(fx->fake));
    assert_string_equal(v, want);
    char amz_date[32];
    header(r, "X-Amz-Date", amz_date, sizeof amz_date);
    assert_int_equal(strlen(amz_date), 16);
    assert_true(amz_date[8] == 'T' && amz_date[15] == 'Z');
    assert_false(fake_request_header(r, "X-Amz-Security-Token", v, sizeof v));

    header(r, "Authorization", v, sizeof v);
    snprintf(want, sizeof want,
             "AWS4-HMAC-SHA256 Credential=" AKID "/%.8s/" REGION
             "/dynamodb/aws4_request, SignedHeaders=",
             amz_date);
    assert_memory_equal(v, want, strlen(want));
    assert_non_null(strstr(v, "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "));
    const char *sig = strstr(v, "Signature=");
    assert_non_null(sig);
    assert_int_equal(strlen(sig + 10), 64);
    assert_signature_valid(r, "/");

    json_t *sent = json_loadb(r->body, r->body_len, 0, NULL);
    assert_non_null(sent);
    assert_true(json_equal(sent, fx->request));
    json_decref(sent);
}

static void test_session_token_is_sent_and_signed(void **state) {
    fixture *fx = *state;
    push_ok(fx, "{}");
    push_ok(fx, "{}");
    assert_int_equal(call(fx, DDB_PUT_ITEM, wall_ms() + 5000), DDB_OK);
    assert_int_equal(call(fx, DDB_DELETE_ITEM, wall_ms() + 5000), DDB_OK);
    const fake_request *r = request_at(fx, 1);
    char v[1024];
    header(r, "X-Amz-Security-Token", v, sizeof v);
    assert_string_equal(v, TOKEN);
    header(r, "Authorization", v, sizeof v);
    assert_non_null(
        strstr(v, "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"));
    header(r, "X-Amz-Target", v, sizeof v);
    assert_string_equal(v, "DynamoDB_20120810.DeleteItem");
    assert_signature_valid(r, "/"); /* the endpoint's trailing slash is not doubled */
    /* Both calls rode one kept-alive connection. */
    assert_int_equal(fake_http_connection_count(fx->fake), 1);
}

static void test_endpoint_path_is_kept_and_signed(void **state) {
    fixture *fx = fixture_new("/prefix/", NULL);
    push_ok(fx, "{}");
    assert_int_equal(call(fx, DDB_SCAN, 0), DDB_OK);
    const fake_request *r = request_at(fx, 0);
    assert_string_equal(r->path, "/prefix");
    assert_signature_valid(r, "/prefix");
    *state = fx;
}

static void test_throttling_then_success(void **state) {
    fixture *fx = *state;
    push_error(fx, 400, "ProvisionedThroughputExceededException");
    push_error(fx, 400, "ThrottlingException");
    push_ok(fx, "{\"Attributes\":{}}");
    assert_int_equal(call(fx, DDB_UPDATE_ITEM, wall_ms() + 5000), DDB_OK);
    assert_int_equal(fx->reply.attempts, 3);
    assert_int_equal(fake_http_request_count(fx->fake), 3);
    assert_non_null(json_object_get(fx->reply.body, "Attributes"));
    /* Every retry is signed afresh and carries the same body. */
    for (size_t i = 0; i < 3; i++) {
        const fake_request *r = request_at(fx, i);
        assert_memory_equal(r->body, request_at(fx, 0)->body, r->body_len);
        assert_signature_valid(r, "/");
    }
}

static void test_server_errors_forever_end_before_the_deadline(void **state) {
    fixture *fx = *state;
    fake_http_set_default(fx->fake,
                          &(fake_response){.status = 500,
                                           .headers = CT_HEADER,
                                           .body = "{\"__type\":\"" ERR_PREFIX
                                                   "InternalServerError\",\"message\":\"x\"}"});
    int64_t start = wall_ms(), deadline = start + 1500;
    assert_int_equal(call(fx, DDB_PUT_ITEM, deadline), DDB_UNAVAILABLE);
    int64_t end = wall_ms();
    assert_true(end < deadline);
    assert_true(fx->reply.attempts >= 2);
    assert_true(fx->reply.attempts <= UA_DDB_MAX_ATTEMPTS);
    assert_int_equal(fx->reply.attempts, fake_http_request_count(fx->fake));
    assert_int_equal(fx->reply.http_status, 500);
    assert_string_equal(fx->reply.error_type, "InternalServerError");
}

static void test_attempts_are_capped(void **state) {
    fixture *fx = *state;
    fake_http_set_default(fx->fake, &(fake_response){.status = 503, .body = "{}"});
    /* The backoffs of all retries together stay under 2.6 s, well inside this deadline. */
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 20000), DDB_UNAVAILABLE);
    assert_int_equal(fx->reply.attempts, UA_DDB_MAX_ATTEMPTS);
    assert_int_equal(fake_http_request_count(fx->fake), UA_DDB_MAX_ATTEMPTS);
}

static void test_dropped_connections_are_retried(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake, &(fake_response){.fault = FAKE_CLOSE});
    fake_http_push(fx->fake, &(fake_response){.body = "{\"Item\":{}}", .fault = FAKE_TRUNCATE});
    push_ok(fx, "{\"Item\":{}}");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_int_equal(fx->reply.attempts, 3);
    assert_true(fake_http_connection_count(fx->fake) >= 2);
}

static void test_bad_crc_and_garbage_are_retried(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake, &(fake_response){.body = "{\"Item\":{}}", .fault = FAKE_BAD_CRC});
    fake_http_push(fx->fake, &(fake_response){.body = "{\"Item\":"});
    fake_http_push(fx->fake, &(fake_response){.body = "[]"});
    push_ok(fx, "{\"Item\":{\"ok\":{\"BOOL\":true}}}");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_int_equal(fx->reply.attempts, 4);
    assert_non_null(json_object_get(json_object_get(fx->reply.body, "Item"), "ok"));
}

static void test_condition_failed_carries_the_item(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake,
                   &(fake_response){.status = 400,
                                    .headers = CT_HEADER,
                                    .crc = true,
                                    .body = "{\"__type\":\"" ERR_PREFIX
                                            "ConditionalCheckFailedException\",\"message\":\"The "
                                            "conditional request failed\",\"Item\":{\"userId\":{"
                                            "\"S\":\"u-1\"},\"version\":{\"N\":\"3\"}}}"});
    assert_int_equal(call(fx, DDB_UPDATE_ITEM, wall_ms() + 5000), DDB_CONDITION_FAILED);
    assert_int_equal(fx->reply.attempts, 1);
    assert_int_equal(fx->reply.http_status, 400);
    assert_string_equal(fx->reply.error_type, "ConditionalCheckFailedException");
    const json_t *item = json_object_get(fx->reply.body, "Item");
    assert_string_equal(ddb_item_s(item, "userId"), "u-1");
    long long v = 0;
    assert_true(ddb_item_n(item, "version", &v));
    assert_int_equal(v, 3);
}

/* A TransactionCanceledException as DynamoDB sends it, with reasons (JSON array text). */
static void push_cancelled(fixture *fx, const char *reasons) {
    char body[1024];
    snprintf(body, sizeof body,
             "{\"__type\":\"" ERR_PREFIX "TransactionCanceledException\",\"Message\":"
             "\"Transaction cancelled, please refer cancellation reasons for specific reasons\","
             "\"CancellationReasons\":%s}",
             reasons);
    fake_http_push(
        fx->fake, &(fake_response){.status = 400, .headers = CT_HEADER, .body = body, .crc = true});
}

/* A cancelled transaction is judged by its reasons (ddb_txn.h): a failed condition is the
 * caller's, with the reasons in the body; passing faults are retried like any throttling, and
 * prove nothing was applied; anything else fails at once. */
static void test_cancelled_transactions(void **state) {
    fixture *fx = *state;
    push_cancelled(fx, "[{\"Code\":\"None\"},{\"Code\":\"ConditionalCheckFailed\","
                       "\"Item\":{\"pk\":{\"S\":\"email#a@b.co\"},\"userId\":{\"S\":\"u-2\"}}}]");
    push_ok(fx, "{}"); /* would be taken by a wrongful retry */
    assert_int_equal(call(fx, DDB_TRANSACT_WRITE_ITEMS, wall_ms() + 5000), DDB_CONDITION_FAILED);
    assert_int_equal(fx->reply.attempts, 1);
    assert_string_equal(fx->reply.error_type, "TransactionCanceledException");
    assert_true(ddb_txn_condition_failed(fx->reply.body, 1));
    assert_string_equal(ddb_item_s(ddb_txn_old_item(fx->reply.body, 1), "userId"), "u-2");
    assert_false(fx->reply.maybe_applied);
    char v[128];
    header(request_at(fx, 0), "X-Amz-Target", v, sizeof v);
    assert_string_equal(v, "DynamoDB_20120810.TransactWriteItems");

    fake_http_reset(fx->fake);
    push_cancelled(fx, "[{\"Code\":\"None\"},{\"Code\":\"TransactionConflict\"}]");
    push_cancelled(fx, "[{\"Code\":\"ThrottlingError\"},{\"Code\":\"None\"}]");
    push_error(fx, 400, "TransactionInProgressException");
    push_ok(fx, "{}");
    assert_int_equal(call(fx, DDB_TRANSACT_WRITE_ITEMS, wall_ms() + 5000), DDB_OK);
    assert_int_equal(fx->reply.attempts, 4);
    assert_false(fx->reply.maybe_applied);
    for (size_t i = 1; i < 4; i++) {
        const fake_request *r = request_at(fx, i);
        assert_int_equal(r->body_len, request_at(fx, 0)->body_len);
        assert_memory_equal(r->body, request_at(fx, 0)->body, r->body_len);
    }

    fake_http_reset(fx->fake);
    push_cancelled(fx, "[{\"Code\":\"TransactionConflict\"},{\"Code\":\"ValidationError\"}]");
    push_ok(fx, "{}");
    assert_int_equal(call(fx, DDB_TRANSACT_WRITE_ITEMS, wall_ms() + 5000), DDB_FAILED);
    assert_int_equal(fx->reply.attempts, 1);
    assert_string_equal(fx->reply.error_type, "TransactionCanceledException");
    assert_int_equal(fake_http_request_count(fx->fake), 1);

    /* Conflicts for ever: unavailable before the deadline. */
    fake_http_reset(fx->fake);
    fake_http_set_default(
        fx->fake, &(fake_response){.status = 400,
                                   .headers = CT_HEADER,
                                   .body = "{\"__type\":\"" ERR_PREFIX
                                           "TransactionCanceledException\",\"CancellationReasons\":"
                                           "[{\"Code\":\"TransactionConflict\"}]}",
                                   .crc = true});
    int64_t deadline = wall_ms() + 1500;
    assert_int_equal(call(fx, DDB_TRANSACT_WRITE_ITEMS, deadline), DDB_UNAVAILABLE);
    assert_true(wall_ms() < deadline);
    assert_true(fx->reply.attempts >= 2);
    assert_string_equal(fx->reply.error_type, "TransactionCanceledException");
}

static void test_validation_error_is_not_retried(void **state) {
    fixture *fx = *state;
    push_error(fx, 400, "ValidationException");
    push_ok(fx, "{}"); /* would be taken by a wrongful retry */
    assert_int_equal(call(fx, DDB_PUT_ITEM, wall_ms() + 5000), DDB_FAILED);
    assert_int_equal(fx->reply.attempts, 1);
    assert_int_equal(fake_http_request_count(fx->fake), 1);
    assert_int_equal(fx->reply.http_status, 400);
    assert_string_equal(fx->reply.error_type, "ValidationException");
    assert_non_null(fx->reply.body);
}

static void test_other_client_errors_fail(void **state) {
    fixture *fx = *state;
    static const char *const types[] = {"ResourceNotFoundException", "AccessDeniedException",
                                        "UnrecognizedClientException"};
    for (size_t i = 0; i < 3; i++) {
        push_error(fx, 400, types[i]);
        assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_FAILED);
        assert_int_equal(fx->reply.attempts, 1);
        assert_string_equal(fx->reply.error_type, types[i]);
    }
    /* A 4xx that is not DynamoDB's JSON (a proxy's page) is final too. */
    fake_http_push(fx->fake, &(fake_response){.status = 403, .body = "<html>no</html>"});
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_FAILED);
    assert_int_equal(fx->reply.attempts, 1);
    assert_int_equal(fake_http_request_count(fx->fake), 4);
}

static void test_stall_past_the_deadline_gives_up_in_time(void **state) {
    fixture *fx = *state;
    fake_http_set_default(fx->fake, &(fake_response){.body = "{}", .stall_ms = 5000});
    int64_t start = wall_ms(), deadline = start + 1000;
    assert_int_equal(call(fx, DDB_PUT_ITEM, deadline), DDB_UNAVAILABLE);
    int64_t end = wall_ms();
    assert_true(end < deadline);
    assert_true(end - start >= 1000 - UA_DEADLINE_MARGIN_MS - 50);
    /* Each attempt took at most half the time left: a stall never uses up the budget alone. */
    assert_true(fx->reply.attempts >= 2);
    assert_true(fx->reply.maybe_applied);
    assert_int_equal(fx->reply.http_status, 0);
    assert_null(fx->reply.body);
}

/* ---- Attempts, credentials, the clock and endpoints (issue 11) ---- */

/* With Lambda's default 3 s deadline one stalled connection still leaves time for an answer. */
static void test_stall_once_then_answer_fits_a_3s_deadline(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake, &(fake_response){.body = "{}", .stall_ms = 5000});
    push_ok(fx, "{\"Item\":{}}");
    int64_t start = wall_ms(), deadline = start + 3000;
    assert_int_equal(call(fx, DDB_GET_ITEM, deadline), DDB_OK);
    assert_true(wall_ms() < deadline);
    assert_int_equal(fx->reply.attempts, 2);
    assert_true(fx->reply.maybe_applied); /* the stalled request may have been acted on */
}

static void test_credential_refusals_in_a_row_end_the_environment(void **state) {
    fixture *fx = *state;
    static const char *const types[] = {"UnrecognizedClientException", "ExpiredTokenException",
                                        "MissingAuthenticationTokenException",
                                        "InvalidSignatureException"};
    /* One alone is a plain failure (500); an answer of any other kind resets the count. */
    for (size_t i = 0; i < 4; i++) {
        push_error(fx, 400, types[i]);
        assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_FAILED);
        assert_false(ddb_client_credentials_dead(fx->client));
        push_error(fx, 400, i % 2 ? "ConditionalCheckFailedException" : "ValidationException");
        assert_int_not_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    }
    push_error(fx, 400, types[0]);
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_FAILED);
    push_error(fx, 400, types[1]);
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_FAILED);
    assert_false(ddb_client_credentials_dead(fx->client));
    push_error(fx, 400, types[2]);
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_UNAVAILABLE);
    assert_true(ddb_client_credentials_dead(fx->client));
    assert_string_equal(fx->reply.error_type, types[2]);
    assert_int_equal(fx->reply.attempts, 1);
}

/* "Signature expired": the signer learns DynamoDB's clock from Date and signs once more. */
static void test_clock_skew_is_corrected_from_date(void **state) {
    fixture *fx = *state;
    static const char expired[] =
        "{\"__type\":\"" ERR_PREFIX "InvalidSignatureException\",\"message\":\"Signature expired: "
        "20261204T120000Z is now earlier than 20261204T131000Z (20261204T131500Z - 5 min.)\"}";
    /* DynamoDB's clock: one hour ahead of ours. */
    time_t server = time(NULL) + 3600;
    struct tm tm;
    gmtime_r(&server, &tm);
    char headers[128], date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(headers, sizeof headers, CT_HEADER "Date: %s\r\n", date);
    fake_http_push(fx->fake, &(fake_response){.status = 400, .headers = headers, .body = expired});
    push_ok(fx, "{\"Item\":{}}");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_int_equal(fx->reply.attempts, 2);
    char amz[32], want[32];
    header(request_at(fx, 1), "X-Amz-Date", amz, sizeof amz);
    strftime(want, sizeof want, "%Y%m%dT%H", &tm);
    assert_memory_equal(amz, want, strlen(want)); /* signed at DynamoDB's hour */
    assert_signature_valid(request_at(fx, 1), "/");
    /* Later calls keep the correction. */
    push_ok(fx, "{}");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    header(request_at(fx, 2), "X-Amz-Date", amz, sizeof amz);
    assert_memory_equal(amz, want, strlen(want));

    /* The same refusal without a Date to learn from, or again after correcting: no loop. */
    fake_http_reset(fx->fake);
    fake_http_push(fx->fake,
                   &(fake_response){.status = 400, .headers = CT_HEADER, .body = expired});
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_FAILED);
    assert_int_equal(fx->reply.attempts, 1);
    fake_http_reset(fx->fake);
    fake_http_set_default(fx->fake,
                          &(fake_response){.status = 400, .headers = headers, .body = expired});
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_FAILED);
    assert_true(fx->reply.attempts <= 2);
}

static void test_plain_http_only_on_loopback(void **state) {
    (void)state;
    char err[256];
    static const char *const ok[] = {"http://127.0.0.1:8000",  "http://127.255.0.9",
                                     "http://localhost:8000/", "http://LOCALHOST",
                                     "http://[::1]:8000",      "https://10.1.2.3:8443",
                                     "https://dynamodb.local"};
    static const char *const refused[] = {
        "http://10.1.2.3:8000", "http://dynamodb.eu-west-1.amazonaws.com",
        "http://128.0.0.1",     "http://127.0.0.1.example.com",
        "http://1270.0.0.1",    "http://127.0.0.256",
        "http://127.0.0",       "http://localhost.example.com",
        "http://[::2]:8000"};
    ddb_config cfg = {.region = "us-east-1", .access_key_id = AKID, .secret_access_key = SECRET};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cfg.endpoint = ok[i];
        ddb_client *c = ddb_client_new(&cfg, err, sizeof err);
        if (!c)
            fail_msg("refused %s: %s", ok[i], err);
        ddb_client_free(c);
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        cfg.endpoint = refused[i];
        cfg.allow_plain_http = false;
        ddb_client *c = ddb_client_new(&cfg, err, sizeof err);
        if (c) {
            ddb_client_free(c);
            fail_msg("accepted %s", refused[i]);
        }
        assert_non_null(strstr(err, "USERS_ALLOW_HTTP_ENDPOINT"));
        cfg.allow_plain_http = true; /* the documented opt-in */
        c = ddb_client_new(&cfg, err, sizeof err);
        if (!c)
            fail_msg("opt-in refused %s: %s", refused[i], err);
        ddb_client_free(c);
    }
}

static void test_unreachable_endpoint_is_unavailable(void **state) {
    (void)state;
    fake_http *gone = fake_http_start();
    assert_non_null(gone);
    char endpoint[64], err[128];
    snprintf(endpoint, sizeof endpoint, "%s", fake_http_url(gone));
    fake_http_stop(gone);
    ddb_config cfg = {
        .region = REGION, .endpoint = endpoint, .access_key_id = AKID, .secret_access_key = SECRET};
    ddb_client *c = ddb_client_new(&cfg, err, sizeof err);
    assert_non_null(c);
    ddb_reply reply;
    ddb_reply_init(&reply);
    json_t *req = parse("{\"TableName\":\"Users\"}");
    int64_t deadline = wall_ms() + 20000;
    assert_int_equal(ddb_client_call(c, DDB_SCAN, req, deadline, &reply), DDB_UNAVAILABLE);
    assert_true(wall_ms() < deadline);
    assert_int_equal(reply.attempts, UA_DDB_MAX_ATTEMPTS);
    assert_int_equal(reply.http_status, 0);
    /* The log gets curl's reason, since DynamoDB gave none. */
    assert_memory_equal(reply.error_type, "transport: ", 11);
    assert_non_null(strstr(reply.error_type, "onnect"));
    json_decref(req);
    ddb_reply_clear(&reply);
    ddb_client_free(c);
}

static void test_no_time_left_sends_nothing(void **state) {
    fixture *fx = *state;
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + UA_DEADLINE_MARGIN_MS - 10),
                     DDB_UNAVAILABLE);
    assert_int_equal(fx->reply.attempts, 0);
    assert_string_equal(fx->reply.error_type, "no time left for a request");
    assert_int_equal(fake_http_request_count(fx->fake), 0);
}

/* When every answer is unreadable, the log says how the last one was. */
static void test_unreadable_replies_are_named(void **state) {
    fixture *fx = *state;
    for (unsigned i = 0; i < UA_DDB_MAX_ATTEMPTS; i++)
        fake_http_push(fx->fake, &(fake_response){.body = "[]"});
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 20000), DDB_UNAVAILABLE);
    assert_string_equal(fx->reply.error_type, "reply is not a JSON object");
    fake_http_push(fx->fake, &(fake_response){.body = "{\"Item\":{}}", .fault = FAKE_BAD_CRC});
    push_ok(fx, "{\"Item\":{}}");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_string_equal(fx->reply.error_type, ""); /* a success clears the retried failure */
}

static void test_bad_arguments_fail_without_a_request(void **state) {
    fixture *fx = *state;
    assert_int_equal(ddb_client_call(fx->client, DDB_OP_COUNT, fx->request, 0, &fx->reply),
                     DDB_FAILED);
    assert_int_equal(ddb_client_call(fx->client, DDB_GET_ITEM, NULL, 0, &fx->reply), DDB_FAILED);
    assert_int_equal(fake_http_request_count(fx->fake), 0);
}

static void test_port_reaches_the_client(void **state) {
    fixture *fx = *state;
    push_ok(fx, "{\"Count\":0,\"Items\":[]}");
    push_ok(fx, "{\"Count\":0,\"Items\":[]}");
    ddb_port port = ddb_client_port(fx->client);
    /* A reply reused across calls: the first body is dropped, not leaked. */
    assert_int_equal(port.call(port.ctx, DDB_SCAN, fx->request, 0, &fx->reply), DDB_OK);
    assert_int_equal(port.call(port.ctx, DDB_SCAN, fx->request, 0, &fx->reply), DDB_OK);
    assert_int_equal(fx->reply.attempts, 1);
    char v[128];
    header(request_at(fx, 1), "X-Amz-Target", v, sizeof v);
    assert_string_equal(v, "DynamoDB_20120810.Scan");
}

/* ---- The trace header and the request id ---- */

#define TRACE "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

static void test_trace_header_is_sent_unsigned(void **state) {
    fixture *fx = *state;
    push_error(fx, 400, "ThrottlingException");
    push_ok(fx, "{}");
    push_ok(fx, "{}");
    ddb_client_set_trace_header(fx->client, TRACE);
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_int_equal(fx->reply.attempts, 2);
    /* Every attempt carries it, outside the signature, which still holds. */
    for (size_t i = 0; i < 2; i++) {
        const fake_request *r = request_at(fx, i);
        char v[1024];
        header(r, "X-Amzn-Trace-Id", v, sizeof v);
        assert_string_equal(v, TRACE);
        header(r, "Authorization", v, sizeof v);
        assert_non_null(strstr(v, "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "));
        assert_null(strstr(v, "trace"));
        assert_signature_valid(r, "/");
    }

    /* Cleared: the next request carries none. */
    ddb_client_set_trace_header(fx->client, NULL);
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    char v[256];
    assert_false(fake_request_header(request_at(fx, 2), "X-Amzn-Trace-Id", v, sizeof v));

    push_ok(fx, "{}");
    ddb_client_set_trace_header(fx->client, TRACE);
    ddb_client_set_trace_header(fx->client, "");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_false(fake_request_header(request_at(fx, 3), "X-Amzn-Trace-Id", v, sizeof v));

    /* One too long to be a trace header is not sent cut short. */
    char long_value[512];
    memset(long_value, 'a', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    push_ok(fx, "{}");
    ddb_client_set_trace_header(fx->client, long_value);
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_false(fake_request_header(request_at(fx, 4), "X-Amzn-Trace-Id", v, sizeof v));
    ddb_client_set_trace_header(NULL, TRACE); /* no client: nothing happens */
}

static void test_trace_header_with_a_session_token(void **state) {
    fixture *fx = *state;
    push_ok(fx, "{}");
    ddb_client_set_trace_header(fx->client, TRACE);
    assert_int_equal(call(fx, DDB_PUT_ITEM, wall_ms() + 5000), DDB_OK);
    const fake_request *r = request_at(fx, 0);
    char v[1024];
    header(r, "X-Amzn-Trace-Id", v, sizeof v);
    assert_string_equal(v, TRACE);
    header(r, "X-Amz-Security-Token", v, sizeof v);
    assert_string_equal(v, TOKEN);
    assert_signature_valid(r, "/");
}

#define REQUEST_ID "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnop"

static void push_with_request_id(fixture *fx, int status, const char *body, const char *id) {
    char headers[256];
    snprintf(headers, sizeof headers, CT_HEADER "x-amzn-RequestId: %s\r\n", id);
    fake_http_push(fx->fake, &(fake_response){
                                 .status = status, .headers = headers, .body = body, .crc = true});
}

static void test_request_id_is_read(void **state) {
    fixture *fx = *state;
    /* The last answer's id: a retried throttling answer's is replaced. */
    push_with_request_id(fx, 400,
                         "{\"__type\":\"" ERR_PREFIX "ThrottlingException\",\"message\":\"x\"}",
                         "THROTTLED0000000000000000000000000000000000000000000");
    push_with_request_id(fx, 200, "{}", REQUEST_ID);
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_string_equal(fx->reply.request_id, REQUEST_ID);

    /* An error's id is kept too: it is what AWS support asks for. */
    push_with_request_id(fx, 400,
                         "{\"__type\":\"" ERR_PREFIX "ValidationException\",\"message\":\"x\"}",
                         "VALIDATION-1");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_FAILED);
    assert_string_equal(fx->reply.request_id, "VALIDATION-1");

    /* None sent: "", not the previous call's. */
    push_ok(fx, "{}");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_string_equal(fx->reply.request_id, "");

    /* Not plain, or too long: dropped. */
    push_with_request_id(fx, 200, "{}", "id with spaces");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_string_equal(fx->reply.request_id, "");
    push_with_request_id(fx, 200, "{}", "id\"quote");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_string_equal(fx->reply.request_id, "");
    char longest[DDB_MAX_REQUEST_ID];
    memset(longest, 'L', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    push_with_request_id(fx, 200, "{}", longest); /* 63: fits */
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_string_equal(fx->reply.request_id, longest);
    char too_long[DDB_MAX_REQUEST_ID + 1];
    memset(too_long, 'L', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    push_with_request_id(fx, 200, "{}", too_long); /* 64: does not */
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    assert_string_equal(fx->reply.request_id, "");

    /* ddb_reply_init and ddb_reply_clear forget it. */
    push_with_request_id(fx, 200, "{}", REQUEST_ID);
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 5000), DDB_OK);
    ddb_reply_clear(&fx->reply);
    assert_string_equal(fx->reply.request_id, "");
}

/* No answer at all: no request id. */
static void test_no_answer_no_request_id(void **state) {
    fixture *fx = *state;
    for (unsigned i = 0; i < UA_DDB_MAX_ATTEMPTS; i++)
        fake_http_push(fx->fake, &(fake_response){.fault = FAKE_CLOSE});
    snprintf(fx->reply.request_id, sizeof fx->reply.request_id, "stale");
    assert_int_equal(call(fx, DDB_GET_ITEM, wall_ms() + 20000), DDB_UNAVAILABLE);
    assert_int_equal(fx->reply.http_status, 0);
    assert_string_equal(fx->reply.request_id, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_names),
        cmocka_unit_test(test_reply_clear_drops_everything),
        cmocka_unit_test(test_parse_error_type),
        cmocka_unit_test(test_crc32_known_values),
        cmocka_unit_test(test_endpoint_from_env),
        cmocka_unit_test(test_client_new_rejects_bad_config),
        cmocka_unit_test_setup_teardown(test_success_is_one_signed_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_token_is_sent_and_signed, setup_with_token,
                                        teardown),
        cmocka_unit_test_teardown(test_endpoint_path_is_kept_and_signed, teardown),
        cmocka_unit_test_setup_teardown(test_throttling_then_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_errors_forever_end_before_the_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_attempts_are_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropped_connections_are_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_crc_and_garbage_are_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_condition_failed_carries_the_item, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation_error_is_not_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_client_errors_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall_past_the_deadline_gives_up_in_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stall_once_then_answer_fits_a_3s_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_credential_refusals_in_a_row_end_the_environment,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_skew_is_corrected_from_date, setup, teardown),
        cmocka_unit_test(test_plain_http_only_on_loopback),
        cmocka_unit_test(test_unreachable_endpoint_is_unavailable),
        cmocka_unit_test_setup_teardown(test_no_time_left_sends_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_replies_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments_fail_without_a_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_reaches_the_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace_header_is_sent_unsigned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace_header_with_a_session_token, setup_with_token,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_request_id_is_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_answer_no_request_id, setup, teardown),
    };
    if (http_global_init() != UA_OK)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    http_global_cleanup();
    return failed;
}
