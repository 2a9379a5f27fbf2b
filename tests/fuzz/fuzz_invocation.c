/* fuzz_invocation.c — one whole invocation: event bytes → apigw_parse → users_handle with a
 * fake DynamoDB → apigw_format_response, checking every invariant of the answer.
 *
 * Input: byte 0 picks the DynamoDB reply (low 3 bits) and ALLOWED_ORIGINS (the rest), byte 1
 * the reply's variant, and the remaining bytes are the event. scripts/fuzz.sh makes the seeds
 * by prefixing the shared events and tests/fuzz/seeds/event with such bytes. */
#include "fuzz_support.h"

#include <stdlib.h>

#define DEADLINE_MS 1795523706789LL /* ten seconds after the fake clock's now */

static const char *const origins[] = {NULL, "*", "https://a.example,https://b.example"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    apigw_event ev;
    if (apigw_parse((const char *)data + 2, size - 2, "lambda-request-id", &ev) != UA_OK)
        return 0; /* answered with an invocation error: fuzz_event covers the parser */

    fuzz_ddb ddb;
    fuzz_ddb_init(&ddb, data[0], data[1]);
    users_deps deps = fuzz_deps(&ddb, origins[(data[0] >> 3) % 3u]);
    api_response resp;
    users_outcome outcome;
    if (api_response_init(&resp) != UA_OK)
        abort();
    users_handle(&deps, &ev.req, DEADLINE_MS, &resp, &outcome);
    fuzz_check_answer(&deps, &ddb, &ev.req, &resp, &outcome, ev.format);

    api_response_free(&resp);
    fuzz_ddb_free(&ddb);
    apigw_event_free(&ev);
    return 0;
}
