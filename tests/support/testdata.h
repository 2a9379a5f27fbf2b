/* testdata.h — reading the shared captures ($USERS_TESTDATA/events/...) in cmocka tests, and
 * comparing what a test built with them: shared by the gateway's event and answer tests of
 * both payload formats. Every helper fails the running test instead of returning an error. */
#ifndef USERS_TESTDATA_H
#define USERS_TESTDATA_H

#include <jansson.h>

/* The JSON document $USERS_TESTDATA/events/<name> (name may hold a folder:
 * "gateway-observed/x.json"). New reference. */
json_t *testdata_event(const char *name);

/* ours has exactly the keys of theirs, each of the same JSON type (true and false count as
 * one type). where names the object in failure messages. */
void testdata_assert_same_shape(json_t *ours, json_t *theirs, const char *where);

/* obj[key], which must be a string. Borrowed. */
const char *testdata_str(json_t *obj, const char *key);

/* ours (an event's headers) holds every header of capture_headers (a capture's) with the same
 * value, API Gateway's own excepted (X-Forwarded-*, X-Amzn-Trace-Id), and the ones API Gateway
 * adds with these values: X-Forwarded-For ip, X-Forwarded-Port port, X-Forwarded-Proto "http",
 * X-Amzn-Trace-Id trace. Names are matched ignoring case. */
void testdata_assert_gateway_headers(json_t *ours, json_t *capture_headers, const char *ip,
                                     const char *port, const char *trace);

#endif
