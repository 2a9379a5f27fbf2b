/* testdata.c — the shared captures in cmocka tests (see testdata.h). */
#include "testdata.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

json_t *testdata_event(const char *name) {
    const char *dir = getenv("USERS_TESTDATA");
    if (!dir)
        fail_msg("USERS_TESTDATA is not set (the shared testdata folder)");
    char path[1024];
    snprintf(path, sizeof path, "%s/events/%s", dir, name);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc)
        fail_msg("cannot read %s: %s", path, err.text);
    return doc;
}

void testdata_assert_same_shape(json_t *ours, json_t *theirs, const char *where) {
    const char *key;
    json_t *v;
    json_object_foreach(theirs, key, v) {
        json_t *mine = json_object_get(ours, key);
        if (!mine) {
            fail_msg("%s: key %s of the capture is missing", where, key);
            continue;
        }
        if (json_typeof(mine) != json_typeof(v) && !(json_is_boolean(mine) && json_is_boolean(v)))
            fail_msg("%s.%s: JSON type %d, the capture has %d", where, key, json_typeof(mine),
                     json_typeof(v));
    }
    json_object_foreach(ours, key, v) {
        if (!json_object_get(theirs, key))
            fail_msg("%s: key %s is not in the capture", where, key);
    }
}

const char *testdata_str(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

/* ours[name], the key matched ignoring case; it must be a string. */
static const char *header_ci(json_t *ours, const char *name) {
    const char *key;
    json_t *v;
    json_object_foreach(ours, key, v) {
        if (strcasecmp(key, name) == 0)
            return testdata_str(ours, key);
    }
    fail_msg("header %s is missing", name);
    return NULL;
}

void testdata_assert_gateway_headers(json_t *ours, json_t *capture_headers, const char *ip,
                                     const char *port, const char *trace) {
    const char *key;
    json_t *v;
    json_object_foreach(capture_headers, key, v) {
        if (strncasecmp(key, "X-Forwarded-", 12) == 0 || strcasecmp(key, "X-Amzn-Trace-Id") == 0)
            continue;
        assert_string_equal(header_ci(ours, key), json_string_value(v));
    }
    assert_string_equal(header_ci(ours, "X-Forwarded-For"), ip);
    assert_string_equal(header_ci(ours, "X-Forwarded-Port"), port);
    assert_string_equal(header_ci(ours, "X-Forwarded-Proto"), "http");
    assert_string_equal(header_ci(ours, "X-Amzn-Trace-Id"), trace);
}
