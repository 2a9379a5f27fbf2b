/* test_gateway_xray.c — the local gateway's tracing pieces: trace ids as Lambda hands them
 * out, the X-Ray daemon's datagrams (src/gateway/gw_xray.c), and the bootstrap's invocation
 * line with its EMF document (src/gateway/gw_invlog.c), read and printed for the console. */
#include "gw_invlog.h"
#include "gw_xray.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ROOT   "1-5759e988-bd862e3fe1be46a994272793"
#define PARENT "53995c3f42cd8ad8"
#define HEADER "{\"format\": \"json\", \"version\": 1}\n"

static int is_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!strchr("0123456789abcdef", s[i]) || !s[i])
            return 0;
    }
    return 1;
}

/* ---- trace ids ---- */

static void test_new_ids_without_client_header(void **state) {
    (void)state;
    trace_context a, b;
    gw_xray_new_ids(0x6745a1b2, true, NULL, 0, &a);
    gw_xray_new_ids(0x6745a1b2, true, NULL, 0, &b);
    assert_int_equal(strlen(a.root), TRACE_ROOT_LEN);
    assert_memory_equal(a.root, "1-6745a1b2-", 11);
    assert_true(is_hex(a.root + 11, 24));
    assert_true(trace_is_root(a.root, strlen(a.root)));
    assert_int_equal(strlen(a.parent), 16);
    assert_true(is_hex(a.parent, 16));
    assert_true(a.sampled);
    assert_string_not_equal(a.root, b.root);
    assert_string_not_equal(a.parent, b.parent);
    gw_xray_new_ids(0x6745a1b2, false, NULL, 0, &a);
    assert_false(a.sampled);

    char h[GW_XRAY_MAX_HEADER];
    (void)trace_format(&b, b.parent, h);
    char want[GW_XRAY_MAX_HEADER];
    snprintf(want, sizeof want, "Root=%s;Parent=%s;Sampled=1", b.root, b.parent);
    assert_string_equal(h, want);
}

static void test_new_ids_follow_the_client(void **state) {
    (void)state;
    trace_context ids;
    static const char both[] = "Root=" ROOT ";Parent=" PARENT ";Sampled=0";
    gw_xray_new_ids(1, true, both, sizeof both - 1, &ids);
    assert_string_equal(ids.root, ROOT);
    assert_false(ids.sampled); /* the client's decision wins */
    assert_string_not_equal(ids.parent, PARENT);
    static const char spaced[] = " Sampled=1 ; Root=" ROOT " ";
    gw_xray_new_ids(1, false, spaced, sizeof spaced - 1, &ids);
    assert_string_equal(ids.root, ROOT);
    assert_true(ids.sampled);
    static const char undecided[] = "Root=" ROOT ";Sampled=?";
    gw_xray_new_ids(1, true, undecided, sizeof undecided - 1, &ids);
    assert_string_equal(ids.root, ROOT);
    assert_true(ids.sampled);
    /* Not a Root we can use: a trace of our own, and our own decision. */
    static const char *const bad[] = {"Root=1-5759e988-bd862e3fe1be46a99427279",
                                      "Root=2-5759e988-bd862e3fe1be46a994272793",
                                      "Root=1-5759e98g-bd862e3fe1be46a994272793;Sampled=0",
                                      "Self=1-5759e988-bd862e3fe1be46a994272793",
                                      "",
                                      ";;;="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gw_xray_new_ids(0x10, true, bad[i], strlen(bad[i]), &ids);
        assert_memory_equal(ids.root, "1-00000010-", 11);
        assert_true(ids.sampled);
    }
    /* The length is what counts, not a NUL. */
    gw_xray_new_ids(0x10, true, both, 20, &ids);
    assert_memory_equal(ids.root, "1-00000010-", 11);
}

/* ---- datagrams ---- */

static void test_datagram_read_and_printed(void **state) {
    (void)state;
    static const char d[] =
        HEADER "{\"name\":\"DynamoDB\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" ROOT
               "\",\"parent_id\":\"" PARENT "\",\"type\":\"subsegment\",\"namespace\":\"aws\","
               "\"start_time\":1700000000.5,\"end_time\":1700000000.5123,"
               "\"aws\":{\"operation\":\"TransactWriteItems\",\"table_name\":\"Users\","
               "\"region\":\"us-east-1\",\"retries\":0,\"request_id\":\"R1\"},"
               "\"http\":{\"response\":{\"status\":200}},\"throttle\":true}";
    gw_xray_call c;
    char why[160];
    assert_int_equal(gw_xray_parse(d, sizeof d - 1, &c, why, sizeof why), UA_OK);
    assert_string_equal(c.trace_id, ROOT);
    assert_string_equal(c.parent_id, PARENT);
    assert_string_equal(c.problem, "");
    buf b;
    buf_init(&b, 1024);
    assert_int_equal(gw_xray_format(&c, &b), UA_OK);
    assert_string_equal(
        buf_str(&b), "DynamoDB TransactWriteItems Users 12.3 ms status 200 retries 0 [throttle]");
    buf_free(&b);
}

/* A transaction names its tables in aws.table_names: printed joined. */
static void test_datagram_with_table_names(void **state) {
    (void)state;
    static const char d[] =
        HEADER "{\"name\":\"DynamoDB\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" ROOT
               "\",\"parent_id\":\"" PARENT "\",\"type\":\"subsegment\",\"namespace\":\"aws\","
               "\"start_time\":1700000000.5,\"end_time\":1700000000.502,"
               "\"aws\":{\"operation\":\"TransactWriteItems\",\"table_names\":[\"Users\","
               "\"Users-claims\"],\"retries\":1},\"http\":{\"response\":{\"status\":200}}}";
    gw_xray_call c;
    char why[160];
    assert_int_equal(gw_xray_parse(d, sizeof d - 1, &c, why, sizeof why), UA_OK);
    assert_string_equal(c.table, "Users,Users-claims");
    buf b;
    buf_init(&b, 1024);
    assert_int_equal(gw_xray_format(&c, &b), UA_OK);
    assert_string_equal(
        buf_str(&b), "DynamoDB TransactWriteItems Users,Users-claims 2.0 ms status 200 retries 1");
    buf_free(&b);
}

static void test_datagram_with_little_in_it(void **state) {
    (void)state;
    static const char d[] = HEADER "{\"name\":\"DynamoDB\",\"error\":true,\"fault\":true}";
    gw_xray_call c;
    char why[160];
    assert_int_equal(gw_xray_parse(d, sizeof d - 1, &c, why, sizeof why), UA_OK);
    buf b;
    buf_init(&b, 1024);
    assert_int_equal(gw_xray_format(&c, &b), UA_OK);
    assert_string_equal(buf_str(&b),
                        "DynamoDB [error fault] [invalid subsegment: id is not 16 hex digits]");
    buf_free(&b);
}

static void test_datagram_problems(void **state) {
    (void)state;
    static const struct {
        const char *doc, *problem;
    } cases[] = {
        {"{\"name\":\"D\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" ROOT
         "\",\"parent_id\":\"" PARENT "\",\"type\":\"subsegment\",\"start_time\":1}",
         "no end_time, and not in_progress"},
        {"{\"name\":\"D\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" ROOT
         "\",\"parent_id\":\"" PARENT "\",\"type\":\"subsegment\",\"start_time\":1,"
         "\"in_progress\":true}",
         ""},
        {"{\"name\":\"D\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" ROOT
         "\",\"parent_id\":\"" PARENT "\",\"start_time\":1,\"end_time\":2}",
         "type is not \"subsegment\""},
        {"{\"name\":\"D\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"1-2-3\","
         "\"parent_id\":\"" PARENT "\",\"type\":\"subsegment\",\"start_time\":1,\"end_time\":2}",
         "trace_id is not 1-<8 hex>-<24 hex>"},
        {"{\"name\":\"D\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" ROOT
         "\",\"type\":\"subsegment\",\"start_time\":1,\"end_time\":2}",
         "parent_id is not 16 hex digits"},
        {"{\"name\":\"D\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" ROOT
         "\",\"parent_id\":\"" PARENT "\",\"type\":\"subsegment\",\"start_time\":3,"
         "\"end_time\":2}",
         "end_time is before start_time"},
        {"{\"name\":\"D\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" ROOT
         "\",\"parent_id\":\"" PARENT "\",\"type\":\"subsegment\",\"start_time\":1,"
         "\"end_time\":2,\"throttle\":\"yes\"}",
         "throttle is not a boolean"},
        {"{\"id\":\"70de5b6f19ff9a0a\"}", "no name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char d[1024];
        int n = snprintf(d, sizeof d, HEADER "%s", cases[i].doc);
        gw_xray_call c;
        char why[160];
        assert_int_equal(gw_xray_parse(d, (size_t)n, &c, why, sizeof why), UA_OK);
        if (strcmp(c.problem, cases[i].problem) != 0)
            fail_msg("case %zu: problem \"%s\", expected \"%s\"", i, c.problem, cases[i].problem);
    }
}

static void test_malformed_datagrams(void **state) {
    (void)state;
    static const struct {
        const char *data;
        size_t len;
        const char *why;
    } cases[] = {
        {"", 0, "no header line"},
        {"{\"format\": \"json\", \"version\": 1}", 32, "no header line"},
        {"{\"format\": \"xml\", \"version\": 1}\n{}", 34, "the header line is not"},
        {"{\"format\": \"json\", \"version\": 2}\n{}", 35, "the header line is not"},
        {"{\"format\": \"json\", \"version\": 1, \"x\": 0}\n{}", 43, "the header line is not"},
        {"{\"format\": \"json\", \"version\": \"1\"}\n{}", 37, "the header line is not"},
        {"garbage\n{}", 10, "the header line is not"},
        {HEADER "[1,2]", sizeof HEADER - 1 + 5, "the document is not a JSON object"},
        {HEADER "{\"name\":", sizeof HEADER - 1 + 8, "the document is not a JSON object: "},
        {HEADER "{}{}", sizeof HEADER - 1 + 4, "the document is not a JSON object: "},
        {"\0\xff\n\x01", 4, "the header line is not"},
        {HEADER "{\"a\":\"\0\"}", sizeof HEADER - 1 + 9, "the document is not a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_xray_call c;
        char why[160];
        assert_int_equal(gw_xray_parse(cases[i].data, cases[i].len, &c, why, sizeof why),
                         UA_ERR_INVALID);
        if (strncmp(why, cases[i].why, strlen(cases[i].why)) != 0)
            fail_msg("case %zu: \"%s\", expected \"%s...\"", i, why, cases[i].why);
    }
}

static void test_untrusted_text_is_printable(void **state) {
    (void)state;
    static const char d[] = HEADER "{\"name\":\"Dyn\\u001b[2Jamo\",\"aws\":{\"operation\":"
                                   "\"Get\\nItem\",\"table_name\":\"T\\u00e9\"}}";
    gw_xray_call c;
    char why[160];
    assert_int_equal(gw_xray_parse(d, sizeof d - 1, &c, why, sizeof why), UA_OK);
    buf b;
    buf_init(&b, 1024);
    assert_int_equal(gw_xray_format(&c, &b), UA_OK);
    assert_string_equal(buf_str(&b),
                        "Dyn?[2Jamo Get?Item T?? [invalid subsegment: id is not 16 hex digits]");
    buf_free(&b);
}

/* ---- the invocation line ---- */

#define EMF_LINE(metrics, extra)                                                                   \
    "{\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"level\":\"INFO\",\"requestId\":\"A\","          \
    "\"message\":\"invocation\",\"method\":\"POST\",\"route\":\"/users\",\"status\":201,"          \
    "\"durationMs\":4.1,\"ddbAttempts\":1,\"awsRequestId\":\"L\",\"traceId\":\"" ROOT "\","        \
    "\"coldStart\":true,\"functionName\":\"f\",\"functionVersion\":\"$LATEST\",\"_aws\":{"         \
    "\"Timestamp\":1700000000000,\"CloudWatchMetrics\":[{\"Namespace\":\"UsersApi\","              \
    "\"Dimensions\":[[\"Service\",\"Operation\"]],\"Metrics\":[" metrics "]}]},"                   \
    "\"Service\":\"users-api\",\"Operation\":\"CreateUser\",\"Latency\":4.12,"                     \
    "\"DynamoDBLatency\":3.2,\"DynamoDBRetries\":0,\"ClientErrors\":0,\"ServerErrors\":0" extra    \
    "}"

#define ALL_METRICS                                                                                \
    "{\"Name\":\"Latency\",\"Unit\":\"Milliseconds\"},{\"Name\":\"DynamoDBLatency\",\"Unit\":"     \
    "\"Milliseconds\"},{\"Name\":\"DynamoDBRetries\",\"Unit\":\"Count\"},{\"Name\":"               \
    "\"ClientErrors\",\"Unit\":\"Count\"},{\"Name\":\"ServerErrors\",\"Unit\":\"Count\"},"         \
    "{\"Name\":\"ColdStart\",\"Unit\":\"Count\"}"

static void expect_summary(const char *line, const char *want) {
    gw_invlog l;
    assert_int_equal(gw_invlog_parse(line, strlen(line), &l), UA_OK);
    buf b;
    buf_init(&b, 1024);
    assert_int_equal(gw_invlog_format(&l, &b), UA_OK);
    if (strcmp(buf_str(&b), want) != 0)
        fail_msg("summary \"%s\", expected \"%s\"", buf_str(&b), want);
    buf_free(&b);
}

static void test_invocation_line_with_emf(void **state) {
    (void)state;
    static const char line[] = EMF_LINE(ALL_METRICS, ",\"ColdStart\":1");
    gw_invlog l;
    assert_int_equal(gw_invlog_parse(line, sizeof line - 1, &l), UA_OK);
    assert_string_equal(l.trace_id, ROOT);
    assert_string_equal(l.aws_request_id, "L");
    assert_string_equal(l.request_id, "A");
    assert_true(l.has_emf);
    assert_string_equal(l.emf_problem, "");
    expect_summary(line, "CreateUser latency 4.1 ms ddb 3.2 ms retries 0 cold-start");
}

static void test_invocation_line_of_today(void **state) {
    (void)state;
    expect_summary("{\"timestamp\":\"t\",\"level\":\"INFO\",\"requestId\":\"A\",\"message\":"
                   "\"invocation\",\"method\":\"POST\",\"route\":\"/users\",\"status\":201,"
                   "\"durationMs\":176.194,\"ddbAttempts\":3}",
                   "latency 176.2 ms retries 2");
    expect_summary("{\"message\":\"invocation\",\"method\":\"GET\",\"status\":404,"
                   "\"durationMs\":0.25,\"ddbAttempts\":0,\"code\":\"NOT_FOUND\"}",
                   "latency 0.2 ms error NOT_FOUND");
    expect_summary("{\"message\":\"invocation\",\"ddbAttempts\":1,\"ddbError\":"
                   "\"ProvisionedThroughputExceededException\",\"status\":503}",
                   "retries 0 ddb-error ProvisionedThroughputExceededException");
    expect_summary("{\"message\":\"invocation\"}", "(no metrics)");
    expect_summary("{\"message\":\"invocation\",\"Operation\":\"Preflight\",\"Latency\":0.1,"
                   "\"DynamoDBRetries\":0}",
                   "Preflight latency 0.1 ms");
}

static void test_not_invocation_lines(void **state) {
    (void)state;
    static const char *const lines[] = {"",
                                        "plain text",
                                        "{\"message\":\"hello\"}",
                                        "[\"message\",\"invocation\"]",
                                        "{\"message\":\"invocation\"",
                                        "{\"message\":1}",
                                        "null"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        gw_invlog l;
        assert_int_equal(gw_invlog_parse(lines[i], strlen(lines[i]), &l), UA_ERR_INVALID);
    }
}

static void test_emf_rules(void **state) {
    (void)state;
    /* Declared, but not there: DynamoDBLatency is only there when DynamoDB was called. */
    static const char missing[] =
        EMF_LINE("{\"Name\":\"Latency\",\"Unit\":\"Milliseconds\"},{\"Name\":\"ColdStart\"}", "");
    expect_summary(missing, "CreateUser latency 4.1 ms ddb 3.2 ms retries 0 cold-start "
                            "[EMF: metric ColdStart has no top-level number]");
    static const char unit[] = EMF_LINE("{\"Name\":\"Latency\",\"Unit\":\"Millis\"}", "");
    expect_summary(unit, "CreateUser latency 4.1 ms ddb 3.2 ms retries 0 cold-start "
                         "[EMF: metric Latency: Unit is not one of CloudWatch's units]");
    static const char dims[] =
        "{\"message\":\"invocation\",\"_aws\":{\"Timestamp\":1,\"CloudWatchMetrics\":[{"
        "\"Namespace\":\"N\",\"Dimensions\":[[\"Service\"]],\"Metrics\":[]}]}}";
    expect_summary(dims, "[EMF: dimension Service is not a top-level string]");
    static const char stamp[] = "{\"message\":\"invocation\",\"_aws\":{\"Timestamp\":\"now\","
                                "\"CloudWatchMetrics\":[]}}";
    expect_summary(stamp, "[EMF: _aws.Timestamp is not an integer (epoch ms)]");
    static const char ns[] = "{\"message\":\"invocation\",\"_aws\":{\"Timestamp\":1,"
                             "\"CloudWatchMetrics\":[{\"Dimensions\":[],\"Metrics\":[]}]}}";
    expect_summary(ns, "[EMF: a directive has no Namespace]");
    static const char notobj[] = "{\"message\":\"invocation\",\"_aws\":[]}";
    expect_summary(notobj, "[EMF: _aws is not an object]");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_ids_without_client_header),
        cmocka_unit_test(test_new_ids_follow_the_client),
        cmocka_unit_test(test_datagram_read_and_printed),
        cmocka_unit_test(test_datagram_with_table_names),
        cmocka_unit_test(test_datagram_with_little_in_it),
        cmocka_unit_test(test_datagram_problems),
        cmocka_unit_test(test_malformed_datagrams),
        cmocka_unit_test(test_untrusted_text_is_printable),
        cmocka_unit_test(test_invocation_line_with_emf),
        cmocka_unit_test(test_invocation_line_of_today),
        cmocka_unit_test(test_not_invocation_lines),
        cmocka_unit_test(test_emf_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
