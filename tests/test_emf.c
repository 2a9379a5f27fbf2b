/* test_emf.c — the Embedded Metric Format members of the invocation line, checked against
 * every rule of CloudWatch's EMF specification, and their configuration from the environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "emf.h"
#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TS_MS 1795523696789LL

/* ---- The specification's rules ---- */

/* The specification's limits (CloudWatch's current ones: a DimensionSet of up to 30 keys, up
 * to 100 metrics per directive and per value array) and the API's (names 1-255 characters,
 * dimension values 1-1024). */
#define EMF_MAX_DIMENSIONS     30u
#define EMF_MAX_METRICS        100u
#define EMF_MAX_VALUES         100u
#define EMF_MAX_NAME_LEN       255u
#define EMF_MAX_DIM_VALUE_LEN  1024u
#define EMF_MAX_DOCUMENT_BYTES (256u * 1024u)

/* ASCII without control characters, with at least one character that is not white space:
 * what CloudWatch takes for a namespace, a dimension name or a dimension value. */
static bool cloudwatch_text(const char *s) {
    bool visible = false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7F)
            return false;
        if (*p != ' ')
            visible = true;
    }
    return visible;
}

/* Whether o has no members but those named in allowed (NULL-terminated). */
static bool only_members(const json_t *o, const char *const *allowed, const char **extra) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(key, *a) == 0;
        if (!ok) {
            *extra = key;
            return false;
        }
    }
    return true;
}

/* Ends emf_breach with the rule broken, said in why. */
#define RULE(cond, ...)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf(why, why_len, __VA_ARGS__);                                                   \
            return false;                                                                          \
        }                                                                                          \
    } while (0)

/* One MetricDefinition of doc: its members, its unit and its target. */
static bool metric_ok(const json_t *doc, const json_t *metrics, size_t m, char *why,
                      size_t why_len) {
    const char *extra = NULL;
    const json_t *def = json_array_get(metrics, m);
    RULE(json_is_object(def), "MetricDefinition %zu is an object", m);
    static const char *const def_members[] = {"Name", "Unit", "StorageResolution", NULL};
    RULE(only_members(def, def_members, &extra), "MetricDefinition has no member \"%s\"", extra);
    const char *name = json_string_value(json_object_get(def, "Name"));
    RULE(name, "MetricDefinition %zu has a string Name", m);
    RULE(strlen(name) >= 1 && strlen(name) <= EMF_MAX_NAME_LEN, "metric \"%s\" is 1-255", name);
    for (size_t j = 0; j < m; j++)
        RULE(strcmp(json_string_value(json_object_get(json_array_get(metrics, j), "Name")), name) !=
                 0,
             "metric \"%s\" is defined once", name);
    const json_t *unit = json_object_get(def, "Unit");
    RULE(!unit || (json_is_string(unit) && emf_unit_known(json_string_value(unit))),
         "metric \"%s\" has a CloudWatch unit", name);
    const json_t *res = json_object_get(def, "StorageResolution");
    RULE(!res || (json_is_integer(res) &&
                  (json_integer_value(res) == 1 || json_integer_value(res) == 60)),
         "metric \"%s\" StorageResolution is 1 or 60", name);
    const json_t *target = json_object_get(doc, name);
    if (!json_is_array(target)) {
        RULE(json_is_number(target), "metric \"%s\" is a top-level number", name);
        return true;
    }
    RULE(json_array_size(target) <= EMF_MAX_VALUES, "metric \"%s\" has at most 100 values", name);
    size_t i;
    const json_t *v;
    json_array_foreach(target, i, v) {
        RULE(json_is_number(v), "metric \"%s\" value %zu is a number", name, i);
    }
    return true;
}

/* One DimensionSet of doc: its size, its keys, and their top-level string values. */
static bool dimension_set_ok(const json_t *doc, const json_t *set, size_t s, char *why,
                             size_t why_len) {
    RULE(json_is_array(set), "DimensionSet %zu is an array", s);
    RULE(json_array_size(set) <= EMF_MAX_DIMENSIONS, "DimensionSet %zu has at most 30 keys", s);
    size_t k;
    const json_t *key;
    json_array_foreach(set, k, key) {
        const char *name = json_string_value(key);
        RULE(name, "dimension key %zu of set %zu is a string", k, s);
        RULE(strlen(name) >= 1 && strlen(name) <= EMF_MAX_NAME_LEN, "dimension key \"%s\" is 1-255",
             name);
        RULE(cloudwatch_text(name) && name[0] != ':', "dimension key \"%s\" is a valid name", name);
        for (size_t j = 0; j < k; j++)
            RULE(strcmp(json_string_value(json_array_get(set, j)), name) != 0,
                 "dimension key \"%s\" appears once in its set", name);
        const char *value = json_string_value(json_object_get(doc, name));
        RULE(value, "dimension \"%s\" is a top-level string member", name);
        RULE(strlen(value) >= 1 && strlen(value) <= EMF_MAX_DIM_VALUE_LEN,
             "dimension \"%s\" value is 1-1024", name);
        RULE(cloudwatch_text(value), "dimension \"%s\" value \"%.64s\" is valid", name, value);
    }
    return true;
}

/* One MetricDirective of doc. */
static bool directive_ok(const json_t *doc, const json_t *dir, size_t d, char *why,
                         size_t why_len) {
    const char *extra = NULL;
    RULE(json_is_object(dir), "directive %zu is an object", d);
    static const char *const dir_members[] = {"Namespace", "Dimensions", "Metrics", NULL};
    RULE(only_members(dir, dir_members, &extra), "directive %zu has no member \"%s\"", d, extra);

    const char *ns = json_string_value(json_object_get(dir, "Namespace"));
    RULE(ns, "directive %zu has a string Namespace", d);
    RULE(strlen(ns) >= 1 && strlen(ns) <= EMF_MAX_NAME_LEN, "Namespace \"%s\" is 1-255", ns);
    RULE(cloudwatch_text(ns), "Namespace \"%s\" is printable ASCII", ns);
    RULE(ns[0] != ':', "Namespace \"%s\" does not start with ':'", ns);
    RULE(strncmp(ns, "AWS/", 4) != 0, "Namespace \"%s\" is not AWS's", ns);

    const json_t *sets = json_object_get(dir, "Dimensions");
    RULE(json_is_array(sets), "Dimensions is an array");
    RULE(json_array_size(sets) >= 1, "Dimensions holds a DimensionSet");
    for (size_t s = 0; s < json_array_size(sets); s++)
        if (!dimension_set_ok(doc, json_array_get(sets, s), s, why, why_len))
            return false;

    const json_t *metrics = json_object_get(dir, "Metrics");
    RULE(json_is_array(metrics), "Metrics is an array");
    RULE(json_array_size(metrics) <= EMF_MAX_METRICS, "Metrics holds at most 100");
    for (size_t m = 0; m < json_array_size(metrics); m++)
        if (!metric_ok(doc, metrics, m, why, why_len))
            return false;
    return true;
}

/* Whether doc, a whole log event, keeps every rule of the EMF specification; when not, the
 * rule broken is in why. */
static bool emf_valid(const json_t *doc, char *why, size_t why_len) {
    const char *extra = NULL;
    RULE(json_is_object(doc), "the event is a JSON object");
    char *text = json_dumps(doc, JSON_COMPACT);
    size_t size = text ? strlen(text) : SIZE_MAX;
    free(text);
    RULE(size <= EMF_MAX_DOCUMENT_BYTES, "the event is at most 256 KB");

    const json_t *aws = json_object_get(doc, "_aws");
    RULE(json_is_object(aws), "_aws is an object");
    static const char *const aws_members[] = {"Timestamp", "CloudWatchMetrics", NULL};
    RULE(only_members(aws, aws_members, &extra), "_aws has no member \"%s\"", extra);
    const json_t *ts = json_object_get(aws, "Timestamp");
    RULE(json_is_integer(ts), "_aws.Timestamp is an integer");
    /* Milliseconds since the epoch: between 2000 and 2100, not seconds or microseconds. */
    RULE(json_integer_value(ts) > 946684800000LL && json_integer_value(ts) < 4102444800000LL,
         "_aws.Timestamp %lld is in epoch milliseconds", (long long)json_integer_value(ts));

    const json_t *directives = json_object_get(aws, "CloudWatchMetrics");
    RULE(json_is_array(directives), "_aws.CloudWatchMetrics is an array");
    for (size_t d = 0; d < json_array_size(directives); d++)
        if (!directive_ok(doc, json_array_get(directives, d), d, why, why_len))
            return false;
    return true;
}

/* Fails the test unless doc keeps every rule; returns how many directives it holds. */
static size_t check_emf(const json_t *doc) {
    char why[512];
    if (!emf_valid(doc, why, sizeof why)) {
        char *text = json_dumps(doc, JSON_COMPACT);
        fail_msg("EMF rule broken: %s in %s", why, text ? text : "?");
    }
    return json_array_size(json_object_get(json_object_get(doc, "_aws"), "CloudWatchMetrics"));
}

/* ---- Helpers ---- */

static void clear_env(void) {
    unsetenv("METRICS_NAMESPACE");
    unsetenv("SERVICE_NAME");
    unsetenv("METRICS_DIMENSIONS");
}

static int setup(void **state) {
    (void)state;
    clear_env();
    return 0;
}

static emf_config config(void) {
    emf_config cfg;
    char warn[256];
    memset(&cfg, 'x', sizeof cfg);
    emf_config_from_env(&cfg, warn, sizeof warn);
    assert_string_equal(warn, "");
    return cfg;
}

static emf_values values(void) {
    return (emf_values){.timestamp_ms = TS_MS,
                        .operation = "GetUser",
                        .latency_ms = 12.5,
                        .called_ddb = true,
                        .ddb_latency_ms = 7.25,
                        .ddb_retries = 3,
                        .client_error = false,
                        .server_error = true,
                        .cold_start = true};
}

/* The members emf_append writes, inside an object that already has one member; parsed. */
static json_t *document(const emf_config *cfg, const emf_values *v) {
    buf b;
    buf_init(&b, 65536);
    assert_int_equal(buf_append_str(&b, "{\"message\":\"invocation\""), UA_OK);
    assert_int_equal(emf_append(&b, cfg, v), UA_OK);
    assert_int_equal(buf_append_char(&b, '}'), UA_OK);
    json_error_t err;
    json_t *doc = json_loads(buf_str(&b), JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        fail_msg("not JSON (%s): %s", err.text, buf_str(&b));
    buf_free(&b);
    check_emf(doc);
    return doc;
}

static const json_t *directive(const json_t *doc) {
    return json_array_get(json_object_get(json_object_get(doc, "_aws"), "CloudWatchMetrics"), 0);
}

/* The directive's metric names and units, "Name:Unit,..." in order. */
static void metric_list(const json_t *doc, char *out, size_t len) {
    out[0] = '\0';
    size_t i;
    const json_t *def;
    json_array_foreach(json_object_get(directive(doc), "Metrics"), i, def) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s:%s", i ? "," : "",
                 json_string_value(json_object_get(def, "Name")),
                 json_string_value(json_object_get(def, "Unit")));
    }
}

static char *dimensions(const json_t *doc) {
    return json_dumps(json_object_get(directive(doc), "Dimensions"), JSON_COMPACT);
}

static double number(const json_t *doc, const char *name) {
    const json_t *v = json_object_get(doc, name);
    if (!json_is_number(v))
        fail_msg("%s is not a number", name);
    return json_number_value(v);
}

/* ---- The document ---- */

static void test_every_metric(void **state) {
    (void)state;
    emf_config cfg = config();
    emf_values v = values();
    json_t *doc = document(&cfg, &v);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "_aws"), "Timestamp")),
                     TS_MS);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(doc, "_aws"), "CloudWatchMetrics")), 1);
    assert_string_equal(json_string_value(json_object_get(directive(doc), "Namespace")),
                        "UsersApi");
    char *dims = dimensions(doc);
    assert_string_equal(dims, "[[\"Service\",\"Operation\"]]");
    free(dims);
    assert_string_equal(json_string_value(json_object_get(doc, "Service")), "users-api");
    assert_string_equal(json_string_value(json_object_get(doc, "Operation")), "GetUser");

    char list[512];
    metric_list(doc, list, sizeof list);
    assert_string_equal(list, "Latency:Milliseconds,DynamoDBLatency:Milliseconds,"
                              "DynamoDBRetries:Count,ClientErrors:Count,ServerErrors:Count,"
                              "ColdStart:Count");
    assert_true(number(doc, "Latency") == 12.5);
    assert_true(number(doc, "DynamoDBLatency") == 7.25);
    assert_true(number(doc, "DynamoDBRetries") == 3);
    assert_true(number(doc, "ClientErrors") == 0);
    assert_true(number(doc, "ServerErrors") == 1);
    assert_true(number(doc, "ColdStart") == 1);
    json_decref(doc);
}

static void test_no_dynamodb_and_warm(void **state) {
    (void)state;
    emf_config cfg = config();
    emf_values v = values();
    v.called_ddb = false;
    v.cold_start = false;
    v.server_error = false;
    v.client_error = true;
    v.operation = "CreateUser";
    json_t *doc = document(&cfg, &v);
    char list[512];
    metric_list(doc, list, sizeof list);
    assert_string_equal(list, "Latency:Milliseconds,ClientErrors:Count,ServerErrors:Count");
    /* A metric not defined is not written either: no stray numbers. */
    assert_null(json_object_get(doc, "DynamoDBLatency"));
    assert_null(json_object_get(doc, "DynamoDBRetries"));
    assert_null(json_object_get(doc, "ColdStart"));
    assert_true(number(doc, "ClientErrors") == 1);
    assert_true(number(doc, "ServerErrors") == 0);
    assert_string_equal(json_string_value(json_object_get(doc, "Operation")), "CreateUser");
    json_decref(doc);

    /* DynamoDB called without a retry: the retries metric is there, at 0. */
    v.called_ddb = true;
    v.ddb_retries = 0;
    v.ddb_latency_ms = 0.001;
    doc = document(&cfg, &v);
    assert_true(number(doc, "DynamoDBRetries") == 0);
    assert_true(number(doc, "DynamoDBLatency") == 0.001);
    assert_null(json_object_get(doc, "ColdStart"));
    json_decref(doc);
}

static void test_every_operation_is_valid(void **state) {
    (void)state;
    static const char *const ops[] = {"CreateUser", "GetUser",    "ListUsers", "FindUserByEmail",
                                      "UpdateUser", "DeleteUser", "Preflight", "Unrouted"};
    emf_config cfg = config();
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        for (int flags = 0; flags < 8; flags++) {
            emf_values v = values();
            v.operation = ops[i];
            v.called_ddb = flags & 1;
            v.cold_start = flags & 2;
            v.client_error = flags & 4;
            v.server_error = !(flags & 4);
            json_t *doc = document(&cfg, &v);
            assert_string_equal(json_string_value(json_object_get(doc, "Operation")), ops[i]);
            assert_int_equal(json_object_get(doc, "ColdStart") != NULL, (flags & 2) != 0);
            assert_int_equal(json_object_get(doc, "DynamoDBLatency") != NULL, (flags & 1) != 0);
            json_decref(doc);
        }
    }
}

static void test_service_dimension_alone(void **state) {
    (void)state;
    setenv("METRICS_DIMENSIONS", "service", 1);
    setenv("SERVICE_NAME", "orders", 1);
    setenv("METRICS_NAMESPACE", "MyCo/Users", 1);
    emf_config cfg = config();
    assert_false(cfg.per_operation);
    emf_values v = values();
    json_t *doc = document(&cfg, &v);
    char *dims = dimensions(doc);
    assert_string_equal(dims, "[[\"Service\"]]");
    free(dims);
    assert_string_equal(json_string_value(json_object_get(doc, "Service")), "orders");
    assert_string_equal(json_string_value(json_object_get(directive(doc), "Namespace")),
                        "MyCo/Users");
    json_decref(doc);

    setenv("METRICS_DIMENSIONS", "operation", 1);
    cfg = config();
    assert_true(cfg.per_operation);
    doc = document(&cfg, &v);
    dims = dimensions(doc);
    assert_string_equal(dims, "[[\"Service\",\"Operation\"]]");
    free(dims);
    json_decref(doc);
}

/* The rule checker refuses each breach of the specification, so a document it passes is
 * valid: each case below changes one thing in a valid document. */
static void test_checker_catches_breaches(void **state) {
    (void)state;
#define DIRECTIVE(ns, dims, metrics)                                                               \
    "\"_aws\":{\"Timestamp\":1795523696789,\"CloudWatchMetrics\":[{\"Namespace\":" ns              \
    ",\"Dimensions\":" dims ",\"Metrics\":" metrics "}]}"
#define GOOD_METRICS "[{\"Name\":\"Latency\",\"Unit\":\"Milliseconds\"}]"
    static const char valid[] =
        "{" DIRECTIVE("\"UsersApi\"", "[[\"Service\"]]", GOOD_METRICS) ",\"Service\":\"s\","
                                                                       "\"Latency\":1.5}";
    char why[512];
    json_t *doc = json_loads(valid, 0, NULL);
    assert_non_null(doc);
    if (!emf_valid(doc, why, sizeof why))
        fail_msg("the valid document was refused: %s", why);
    json_decref(doc);

    static const char *const breaches[] = {
        "[]",
        "{\"Service\":\"s\",\"Latency\":1}",
        "{\"_aws\":[],\"Latency\":1}",
        /* Timestamp: missing, a string, a real, in seconds, in microseconds */
        "{\"_aws\":{\"CloudWatchMetrics\":[]}}",
        "{\"_aws\":{\"Timestamp\":\"1795523696789\",\"CloudWatchMetrics\":[]}}",
        "{\"_aws\":{\"Timestamp\":1795523696789.5,\"CloudWatchMetrics\":[]}}",
        "{\"_aws\":{\"Timestamp\":1795523696,\"CloudWatchMetrics\":[]}}",
        "{\"_aws\":{\"Timestamp\":1795523696789000,\"CloudWatchMetrics\":[]}}",
        "{\"_aws\":{\"Timestamp\":1795523696789,\"CloudWatchMetrics\":{}}}",
        "{\"_aws\":{\"Timestamp\":1795523696789,\"CloudWatchMetrics\":[],\"Extra\":1}}",
        "{\"_aws\":{\"Timestamp\":1795523696789,\"CloudWatchMetrics\":[7]}}",
        /* Namespace: missing, empty, too long, ':' first, AWS's, a control character */
        "{" DIRECTIVE("1", "[[]]", "[]") "}",
        "{" DIRECTIVE("\"\"", "[[]]", "[]") "}",
        "{" DIRECTIVE("\"" /* 256 */
                      "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
                      "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
                      "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
                      "nnnnnnnnnnnnnnnnnnnnnnnnnnnn\"",
                      "[[]]", "[]") "}",
        "{" DIRECTIVE("\":Users\"", "[[]]", "[]") "}",
        "{" DIRECTIVE("\"AWS/Lambda\"", "[[]]", "[]") "}",
        "{" DIRECTIVE("\"Users\\u0001\"", "[[]]", "[]") "}",
        /* Dimensions: missing, not arrays, empty, a key that is no string, absent, not a string,
         * empty, twice in a set, over 30 keys */
        "{\"_aws\":{\"Timestamp\":1795523696789,\"CloudWatchMetrics\":[{\"Namespace\":\"N\","
        "\"Metrics\":[]}]}}",
        "{" DIRECTIVE("\"N\"", "{}", "[]") "}",
        "{" DIRECTIVE("\"N\"", "[]", "[]") "}",
        "{" DIRECTIVE("\"N\"", "[\"Service\"]", "[]") ",\"Service\":\"s\"}",
        "{" DIRECTIVE("\"N\"", "[[1]]", "[]") "}",
        "{" DIRECTIVE("\"N\"", "[[\"Service\"]]", "[]") "}",
        "{" DIRECTIVE("\"N\"", "[[\"Service\"]]", "[]") ",\"Service\":1}",
        "{" DIRECTIVE("\"N\"", "[[\"Service\"]]", "[]") ",\"Service\":\"\"}",
        "{" DIRECTIVE("\"N\"", "[[\"Service\"]]", "[]") ",\"Service\":\"  \"}",
        "{" DIRECTIVE("\"N\"", "[[\"Service\",\"Service\"]]", "[]") ",\"Service\":\"s\"}",
        "{" DIRECTIVE("\"N\"", "[[\":S\"]]", "[]") ",\":S\":\"s\"}",
        "{" DIRECTIVE("\"N\"",
                      "[[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\","
                      "\"l\",\"m\",\"n\",\"o\",\"p\",\"q\",\"r\",\"s\",\"t\",\"u\",\"v\","
                      "\"w\",\"x\",\"y\",\"z\",\"A\",\"B\",\"C\",\"D\",\"E\"]]",
                      "[]") ",\"a\":\"1\",\"b\":\"1\",\"c\":\"1\",\"d\":\"1\",\"e\":\"1\","
                            "\"f\":\"1\",\"g\":\"1\",\"h\":\"1\",\"i\":\"1\",\"j\":\"1\","
                            "\"k\":\"1\",\"l\":\"1\",\"m\":\"1\",\"n\":\"1\",\"o\":\"1\","
                            "\"p\":\"1\",\"q\":\"1\",\"r\":\"1\",\"s\":\"1\",\"t\":\"1\","
                            "\"u\":\"1\",\"v\":\"1\",\"w\":\"1\",\"x\":\"1\",\"y\":\"1\","
                            "\"z\":\"1\",\"A\":\"1\",\"B\":\"1\",\"C\":\"1\",\"D\":\"1\","
                            "\"E\":\"1\"}",
        /* Metrics: missing, not an array, a definition without a Name, an unknown member, a
         * unit CloudWatch does not know, a bad resolution, no target, a string target, a
         * nested target, a value array with a string, defined twice */
        "{\"_aws\":{\"Timestamp\":1795523696789,\"CloudWatchMetrics\":[{\"Namespace\":\"N\","
        "\"Dimensions\":[[]]}]}}",
        "{" DIRECTIVE("\"N\"", "[[]]", "{}") "}",
        "{" DIRECTIVE("\"N\"", "[[]]", "[{\"Unit\":\"Count\"}]") "}",
        "{" DIRECTIVE("\"N\"", "[[]]", "[{\"Name\":\"L\",\"Units\":\"Count\"}]") ",\"L\":1}",
        "{" DIRECTIVE("\"N\"", "[[]]", "[{\"Name\":\"L\",\"Unit\":\"Millisecond\"}]") ",\"L\":1}",
        "{" DIRECTIVE("\"N\"", "[[]]", "[{\"Name\":\"L\",\"Unit\":\"ms\"}]") ",\"L\":1}",
        "{" DIRECTIVE("\"N\"", "[[]]", "[{\"Name\":\"L\",\"StorageResolution\":5}]") ",\"L\":1}",
        "{" DIRECTIVE("\"N\"", "[[]]", "[{\"Name\":\"L\"}]") "}",
        "{" DIRECTIVE("\"N\"", "[[]]", "[{\"Name\":\"L\"}]") ",\"L\":\"1\"}",
        "{" DIRECTIVE("\"N\"", "[[]]", "[{\"Name\":\"L.a\"}]") ",\"L\":{\"a\":1}}",
        "{" DIRECTIVE("\"N\"", "[[]]", "[{\"Name\":\"L\"}]") ",\"L\":[1,\"2\"]}",
        "{" DIRECTIVE("\"N\"", "[[]]", "[{\"Name\":\"L\"},{\"Name\":\"L\"}]") ",\"L\":1}",
        "{" DIRECTIVE("\"N\"", "[[]]", "[{\"Name\":\"\"}]") ",\"\":1}",
        "{" DIRECTIVE("\"N\"", "[[]]", GOOD_METRICS) ",\"Latency\":true}",
    };
    for (size_t i = 0; i < sizeof breaches / sizeof breaches[0]; i++) {
        json_error_t err;
        doc = json_loads(breaches[i], 0, &err);
        if (!doc)
            fail_msg("breach %zu is not JSON (%s)", i, err.text);
        if (emf_valid(doc, why, sizeof why))
            fail_msg("breach %zu passed: %s", i, breaches[i]);
        json_decref(doc);
    }

    /* Over 100 metrics in a directive, and over 100 values for one metric. */
    doc = json_loads(valid, 0, NULL);
    json_t *metrics = json_object_get(directive(doc), "Metrics");
    for (int i = 0; i < 100; i++) {
        char name[16];
        snprintf(name, sizeof name, "M%d", i);
        assert_int_equal(json_array_append_new(metrics, json_pack("{s:s}", "Name", name)), 0);
        assert_int_equal(json_object_set_new(doc, name, json_integer(i)), 0);
    }
    assert_false(emf_valid(doc, why, sizeof why));
    assert_int_equal(json_array_remove(metrics, 100), 0);
    if (!emf_valid(doc, why, sizeof why)) /* exactly 100 is allowed */
        fail_msg("100 metrics refused: %s", why);
    json_t *many = json_array();
    for (int i = 0; i < 101; i++)
        assert_int_equal(json_array_append_new(many, json_integer(i)), 0);
    assert_int_equal(json_object_set_new(doc, "Latency", many), 0);
    assert_false(emf_valid(doc, why, sizeof why));
    assert_int_equal(json_array_remove(many, 0), 0);
    if (!emf_valid(doc, why, sizeof why))
        fail_msg("100 values refused: %s", why);
    json_decref(doc);
#undef DIRECTIVE
#undef GOOD_METRICS
}

/* ---- Configuration ---- */

static void expect_refused(const char *var, const char *value) {
    clear_env();
    setenv(var, value, 1);
    emf_config cfg;
    char warn[256] = "stale";
    emf_config_from_env(&cfg, warn, sizeof warn);
    if (!strstr(warn, var))
        fail_msg("%s=\"%s\": warning \"%s\" does not name it", var, value, warn);
    assert_string_equal(cfg.namespace_, EMF_DEFAULT_NAMESPACE);
    assert_string_equal(cfg.service, EMF_DEFAULT_SERVICE);
    /* And the document made with the defaults is valid. */
    emf_values v = values();
    json_decref(document(&cfg, &v));
}

static void test_defaults(void **state) {
    (void)state;
    emf_config cfg = config();
    assert_string_equal(cfg.namespace_, "UsersApi");
    assert_string_equal(cfg.service, "users-api");
    assert_true(cfg.per_operation);
    /* Empty is unset. */
    setenv("METRICS_NAMESPACE", "", 1);
    setenv("SERVICE_NAME", "", 1);
    setenv("METRICS_DIMENSIONS", "", 1);
    cfg = config();
    assert_string_equal(cfg.namespace_, "UsersApi");
    assert_string_equal(cfg.service, "users-api");
    assert_true(cfg.per_operation);
}

static void test_good_values_are_kept(void **state) {
    (void)state;
    char longest[EMF_MAX_NAME];
    memset(longest, 'n', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    static const char *const names[] = {"Users.Api-2_x", "a/b#c:d", "With Space", "X"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        setenv("METRICS_NAMESPACE", names[i], 1);
        setenv("SERVICE_NAME", names[i], 1);
        emf_config cfg = config();
        assert_string_equal(cfg.namespace_, names[i]);
        assert_string_equal(cfg.service, names[i]);
        emf_values v = values();
        json_decref(document(&cfg, &v));
    }
    setenv("METRICS_NAMESPACE", longest, 1); /* 255 characters: CloudWatch's longest */
    emf_config cfg = config();
    assert_string_equal(cfg.namespace_, longest);
    emf_values v = values();
    json_decref(document(&cfg, &v));
}

static void test_bad_values_fall_back_with_a_warning(void **state) {
    (void)state;
    char too_long[EMF_MAX_NAME + 1];
    memset(too_long, 'n', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    static const char *const bad[] = {
        "bad\"quote",  "back\\slash", "new\nline", "tab\there",
        "caf\xc3\xa9", "semi;colon",  "   ", /* no visible character: CloudWatch refuses it */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_refused("METRICS_NAMESPACE", bad[i]);
        expect_refused("SERVICE_NAME", bad[i]);
    }
    expect_refused("METRICS_NAMESPACE", too_long);
    expect_refused("SERVICE_NAME", too_long);
    /* What CloudWatch refuses of a namespace alone. */
    expect_refused("METRICS_NAMESPACE", ":Users");
    expect_refused("METRICS_NAMESPACE", "AWS/Lambda");
}

static void test_warning_names_each_bad_variable(void **state) {
    (void)state;
    setenv("METRICS_NAMESPACE", "bad\"", 1);
    setenv("SERVICE_NAME", "bad\"", 1);
    setenv("METRICS_DIMENSIONS", "everything", 1);
    emf_config cfg;
    char warn[256];
    emf_config_from_env(&cfg, warn, sizeof warn);
    assert_string_equal(warn, "METRICS_NAMESPACE, SERVICE_NAME, METRICS_DIMENSIONS");
    assert_true(cfg.per_operation); /* an unknown setting keeps the default */

    /* A warning buffer too small is cut, not overrun. */
    char tiny[8];
    emf_config_from_env(&cfg, tiny, sizeof tiny);
    assert_string_equal(tiny, "METRICS");
    assert_string_equal(cfg.namespace_, EMF_DEFAULT_NAMESPACE);

    /* Without a warning buffer the configuration is still read. */
    clear_env();
    setenv("METRICS_NAMESPACE", "Given", 1);
    setenv("METRICS_DIMENSIONS", "service", 1);
    memset(&cfg, 'x', sizeof cfg);
    emf_config_from_env(&cfg, NULL, 0);
    assert_string_equal(cfg.namespace_, "Given");
    assert_string_equal(cfg.service, EMF_DEFAULT_SERVICE);
    assert_false(cfg.per_operation);
}

static void test_too_small_a_buffer_fails(void **state) {
    (void)state;
    emf_config cfg = config();
    emf_values v = values();
    buf b;
    buf_init(&b, 64);
    assert_int_equal(emf_append(&b, &cfg, &v), UA_ERR_TOO_BIG);
    buf_free(&b);
}

/* ---- The invocation line carries a valid document ---- */

typedef struct capture {
    int fds[2];
    char text[65536];
} capture;

static void capture_start(capture *c) {
    assert_int_equal(pipe(c->fds), 0);
    log_set_fd(c->fds[1]);
}

static json_t *capture_line(capture *c) {
    log_set_fd(1);
    close(c->fds[1]);
    size_t n = 0;
    ssize_t got;
    while ((got = read(c->fds[0], c->text + n, sizeof c->text - 1 - n)) > 0)
        n += (size_t)got;
    close(c->fds[0]);
    c->text[n] = '\0';
    const char *nl = strchr(c->text, '\n');
    if (!nl || nl[1] != '\0')
        fail_msg("not exactly one line: %s", c->text);
    json_error_t err;
    json_t *doc = json_loadb(c->text, (size_t)(nl - c->text), JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        fail_msg("not JSON (%s): %s", err.text, c->text);
    return doc;
}

static void test_invocation_line_is_valid_emf(void **state) {
    (void)state;
    setenv("SERVICE_NAME", "users-prod", 1);
    emf_config cfg = config();
    emf_values v = values();
    log_invocation line = {.request_id = "req-1",
                           .aws_request_id = "8f507cfc-example",
                           .trace_id = "1-5759e988-bd862e3fe1be46a994272793",
                           .cold_start = true,
                           .function_name = "users-api",
                           .function_version = "$LATEST",
                           .method = "GET",
                           .route = "/users/{userId}",
                           .status = 200,
                           .duration_ms = 12.5,
                           .ddb_attempts = 4,
                           .metrics_config = &cfg,
                           .metrics = &v};
    log_set_level(LOG_LEVEL_INFO);
    capture c;
    capture_start(&c);
    log_invocation_line(&line);
    json_t *doc = capture_line(&c);
    assert_int_equal(check_emf(doc), 1);
    assert_string_equal(json_string_value(json_object_get(doc, "Service")), "users-prod");
    assert_string_equal(json_string_value(json_object_get(doc, "Operation")), "GetUser");
    assert_true(number(doc, "DynamoDBRetries") == 3);
    /* The log's own members are still there beside the metrics. */
    assert_string_equal(json_string_value(json_object_get(doc, "requestId")), "req-1");
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 200);
    json_decref(doc);
}

/* CloudWatch's units, spelt exactly: case and spacing matter. */
static void test_units(void **state) {
    (void)state;
    assert_true(emf_unit_known("Milliseconds"));
    assert_true(emf_unit_known("Count"));
    assert_true(emf_unit_known("Count/Second"));
    assert_true(emf_unit_known("None"));
    assert_false(emf_unit_known("milliseconds"));
    assert_false(emf_unit_known("ms"));
    assert_false(emf_unit_known("Count / Second"));
    assert_false(emf_unit_known(""));
    assert_false(emf_unit_known(NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test_setup(test_every_metric, setup),
        cmocka_unit_test_setup(test_no_dynamodb_and_warm, setup),
        cmocka_unit_test_setup(test_every_operation_is_valid, setup),
        cmocka_unit_test_setup(test_service_dimension_alone, setup),
        cmocka_unit_test_setup(test_checker_catches_breaches, setup),
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_good_values_are_kept, setup),
        cmocka_unit_test_setup(test_bad_values_fall_back_with_a_warning, setup),
        cmocka_unit_test_setup(test_warning_names_each_bad_variable, setup),
        cmocka_unit_test_setup(test_too_small_a_buffer_fails, setup),
        cmocka_unit_test_setup(test_invocation_line_is_valid_emf, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
