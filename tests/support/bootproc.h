/* bootproc.h — runs the real bootstrap binary as a child process for process-level tests:
 * a fake_http plays the Lambda Runtime API (and another one DynamoDB), the binary runs until
 * it exits, and the test reads its exit status, its log lines and what it posted.
 *
 * The binary's path comes from the USERS_BOOTSTRAP compile definition (tests/CMakeLists.txt).
 * Sanitizer settings (*SAN_OPTIONS) in the test's environment reach the child. */
#ifndef USERS_BOOTPROC_H
#define USERS_BOOTPROC_H

#include "fake_http.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct bootproc {
    int status;        /* exit code; 128 + signal when killed; -1 when it had to be killed */
    char *out;         /* stdout (the JSON log lines), NUL-terminated, owned */
    char *err;         /* stderr, owned */
    double elapsed_ms; /* from start to exit */
} bootproc;

/* Runs bootstrap (path) with AWS_LAMBDA_RUNTIME_API pointing at runtime, DynamoDB at ddb
 * (NULL: an unreachable port), test credentials and table, and the extra "NAME=value"
 * strings in env (NULL-terminated, may be NULL; "NAME=" alone removes NAME). Waits for the
 * exit at most timeout_ms, killing the process after. false when it could not be started. */
bool bootproc_run(const char *path, fake_http *runtime, fake_http *ddb, const char *const *env,
                  int timeout_ms, bootproc *out);
void bootproc_free(bootproc *p);

/* Whether the child's stderr shows a sanitizer report (ASan, UBSan, LeakSanitizer). */
bool bootproc_sanitizer_report(const bootproc *p);

/* Queues on runtime the answer to one `next`: event as the body (len 0: strlen), with a
 * request id and a deadline deadline_ms from now. */
void bootproc_push_event(fake_http *runtime, const char *request_id, const char *event, size_t len,
                         long deadline_ms);

/* Queues the Runtime API's 202 for a response or error POST. */
void bootproc_push_accepted(fake_http *runtime);

/* The i-th request runtime saw whose path ends with suffix (e.g. "/response"), or NULL. */
const fake_request *bootproc_find(fake_http *runtime, const char *suffix, size_t nth);

#endif
