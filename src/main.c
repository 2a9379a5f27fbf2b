/* main.c — wires the modules into the Lambda bootstrap: configuration, then the loop
 * next → parse → route and handle → respond → log, one invocation at a time. */
#include "apigw.h"
#include "buf.h"
#include "ddb.h"
#include "http.h"
#include "log.h"
#include "runtime.h"
#include "users.h"

#include <openssl/crypto.h>

#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

/* Everything built once at start-up and kept across invocations. */
typedef struct app {
    rt_client *rt;
    ddb_client *ddb;
    users_deps deps;
    rt_invocation inv;
    buf answer; /* the proxy response document, reused */
} app;

static const char *env_or_null(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Wipes a secret's value where the environment holds it (also what /proc/self/environ shows),
 * then removes the variable: once the client holds its own copy, the process keeps no other. */
static void forget_secret(const char *name) {
    char *v = getenv(name);
    if (v)
        OPENSSL_cleanse(v, strlen(v));
    unsetenv(name);
}

static bool env_true(const char *name) {
    const char *v = env_or_null(name);
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

static double monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The handler's production collaborators (users_deps): the wall clock and libuuid. */
static int64_t wall_clock_ms(void *ctx) {
    (void)ctx;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void random_uuid_v4(char out[UA_UUID_LEN + 1], void *ctx) {
    (void)ctx;
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

/* Reads the configuration and builds the DynamoDB client; on failure reports an init error
 * (Lambda then fails the invocation and retries the start) and returns non-zero. */
static int configure(app *a) {
    const char *table = env_or_null("USERS_TABLE");
    const char *region = env_or_null("AWS_REGION");
    if (!region)
        region = env_or_null("AWS_DEFAULT_REGION");
    const char *missing = !table                                  ? "USERS_TABLE"
                          : !region                               ? "AWS_REGION"
                          : !env_or_null("AWS_ACCESS_KEY_ID")     ? "AWS_ACCESS_KEY_ID"
                          : !env_or_null("AWS_SECRET_ACCESS_KEY") ? "AWS_SECRET_ACCESS_KEY"
                                                                  : NULL;
    char err[256];
    if (missing) {
        snprintf(err, sizeof err, "%s is not set", missing);
        goto fail;
    }
    ddb_config cfg = {.region = region,
                      .endpoint = ddb_endpoint_from_env(),
                      .access_key_id = getenv("AWS_ACCESS_KEY_ID"),
                      .secret_access_key = getenv("AWS_SECRET_ACCESS_KEY"),
                      .session_token = env_or_null("AWS_SESSION_TOKEN"),
                      .ca_file = NULL,
                      .allow_plain_http = env_true("USERS_ALLOW_HTTP_ENDPOINT")};
    if (cfg.endpoint)
        log_message(LOG_WARN, NULL, "DynamoDB endpoint overridden: %s%s", cfg.endpoint,
                    cfg.allow_plain_http ? " (USERS_ALLOW_HTTP_ENDPOINT is set)" : "");
    err[0] = '\0';
    a->ddb = ddb_client_new(&cfg, err, sizeof err);
    forget_secret("AWS_SECRET_ACCESS_KEY");
    forget_secret("AWS_SESSION_TOKEN");
    if (!a->ddb)
        goto fail;
    a->deps = (users_deps){.table = table,
                           .allowed_origins = env_or_null("ALLOWED_ORIGINS"),
                           .ddb = ddb_client_port(a->ddb),
                           .now_ms = wall_clock_ms,
                           .new_id = random_uuid_v4};
    return 0;
fail:
    log_message(LOG_ERROR, NULL, "init failed: %s", err[0] ? err : "DynamoDB client");
    if (rt_init_error(a->rt, "Runtime.ConfigError", err[0] ? err : "DynamoDB client") != UA_OK)
        log_message(LOG_ERROR, NULL, "could not report the init error to the Runtime API");
    return 1;
}

/* jansson's blocks come from a bump arena, rewound whenever every block in it has been freed:
 * at the end of each invocation, since no JSON outlives one. An invocation's event, DynamoDB
 * reply and response are several hundred small blocks; serving them from the arena instead of
 * malloc and free cut a fifth of the CPU time of an invocation (BENCHMARKS.md). A block that does
 * not fit comes from malloc, so a large event costs no more memory than before and the arena never
 * grows. Debug and sanitizer builds keep plain malloc, so that ASan and Valgrind still see each
 * JSON block's lifetime. */
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
#define USE_JSON_ARENA 1
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#undef USE_JSON_ARENA
#endif
#endif
#endif

#ifdef USE_JSON_ARENA
#define JSON_ARENA_BYTES ((size_t)256 * 1024)

static struct {
    alignas(max_align_t) unsigned char bytes[JSON_ARENA_BYTES];
    size_t used; /* bytes handed out since the last rewind */
    size_t live; /* blocks handed out and not yet freed */
} json_arena;

static void *json_arena_malloc(size_t n) {
    if (n == 0)
        return NULL; /* as jansson's own jsonp_malloc: it never asks for 0 bytes */
    size_t need = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    if (need < n || need > JSON_ARENA_BYTES - json_arena.used)
        return malloc(n);
    void *p = json_arena.bytes + json_arena.used;
    json_arena.used += need;
    json_arena.live++;
    return p;
}

static void json_arena_free(void *p) {
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)json_arena.bytes;
    if (a < lo || a >= lo + JSON_ARENA_BYTES) {
        free(p);
        return;
    }
    if (--json_arena.live == 0)
        json_arena.used = 0;
}
#endif

/* Serves the invocation in a->inv: any failure here is reported and the loop goes on. */
static void serve(app *a) {
    double start = monotonic_ms();
    const char *id = a->inv.request_id;
    apigw_event ev;
    ua_status parsed = apigw_parse(buf_str(&a->inv.event), a->inv.event.len, id, &ev);
    if (parsed != UA_OK) {
        const char *type = parsed == UA_ERR_NOMEM ? "Runtime.OutOfMemory" : "InvalidEvent";
        const char *why = parsed == UA_ERR_NOMEM     ? "out of memory"
                          : parsed == UA_ERR_TOO_BIG ? "the event is larger than the limit"
                                                     : "expected an API Gateway REST (payload "
                                                       "1.0) or HTTP API (payload 2.0) proxy event";
        log_message(LOG_WARN, id, "invocation error: %s", why);
        if (rt_fail(a->rt, id, type, why) != UA_OK)
            log_message(LOG_ERROR, id, "could not post the invocation error");
        return;
    }

    api_response resp;
    users_outcome outcome = {0};
    if (api_response_init(&resp) != UA_OK) {
        apigw_event_free(&ev);
        if (rt_fail(a->rt, id, "Runtime.OutOfMemory", "out of memory") != UA_OK)
            log_message(LOG_ERROR, id, "could not post the invocation error");
        return;
    }
    users_handle(&a->deps, &ev.req, a->inv.deadline_ms, &resp, &outcome);

    buf_reset(&a->answer);
    if (apigw_format_response(ev.format, &resp, &a->answer) != UA_OK) {
        log_message(LOG_ERROR, id, "response could not be encoded");
        if (rt_fail(a->rt, id, "Runtime.ResponseTooLarge", "response could not be encoded") !=
            UA_OK)
            log_message(LOG_ERROR, id, "could not post the invocation error");
    } else if (rt_respond(a->rt, id, buf_str(&a->answer), a->answer.len) != UA_OK) {
        log_message(LOG_ERROR, id, "could not post the response to the Runtime API");
    }

    log_invocation line = {.request_id = ev.req.request_id,
                           .method = ev.req.method,
                           .route = outcome.route,
                           .status = resp.status,
                           .duration_ms = monotonic_ms() - start,
                           .ddb_attempts = outcome.ddb_attempts,
                           .ddb_error = outcome.ddb_error,
                           .code = outcome.code};
    log_invocation_line(&line);
    api_response_free(&resp);
    apigw_event_free(&ev);
}

int main(void) {
#ifdef USE_JSON_ARENA
    json_set_alloc_funcs(json_arena_malloc, json_arena_free);
#endif
    /* A peer closing a socket must be an error code, never a signal that kills the process. */
    signal(SIGPIPE, SIG_IGN);
    log_init_from_env();

    const char *api = env_or_null("AWS_LAMBDA_RUNTIME_API");
    if (!api) {
        log_message(LOG_ERROR, NULL, "AWS_LAMBDA_RUNTIME_API is not set: run me under Lambda");
        return 1;
    }
    if (http_global_init() != UA_OK) {
        log_message(LOG_ERROR, NULL, "libcurl could not be initialised");
        return 1;
    }
    app a = {0};
    a.rt = rt_client_new(api);
    if (!a.rt) {
        log_message(LOG_ERROR, NULL, "bad AWS_LAMBDA_RUNTIME_API or out of memory");
        return 1;
    }
    if (configure(&a) != 0) {
        rt_client_free(a.rt);
        return 1;
    }
    rt_invocation_init(&a.inv);
    buf_init(&a.answer, UA_MAX_RESPONSE_BYTES);

    int rc = 0;
    for (;;) {
        ua_status st = rt_next(a.rt, &a.inv);
        if (st == UA_ERR_TOO_BIG) {
            log_message(LOG_WARN, a.inv.request_id, "invocation error: event too large");
            if (rt_fail(a.rt, a.inv.request_id, "InvalidEvent",
                        "the event is larger than the limit") != UA_OK)
                log_message(LOG_ERROR, a.inv.request_id, "could not post the invocation error");
            continue;
        }
        if (st != UA_OK) {
            /* Lambda replaces an environment whose runtime exits: better than spinning. */
            log_message(LOG_ERROR, NULL, "Runtime API next failed (%s); exiting",
                        st == UA_ERR_INVALID ? "no request id" : "unreachable or error status");
            rc = 1;
            break;
        }
        serve(&a);
        if (ddb_client_credentials_dead(a.ddb)) {
            /* A fresh environment starts with fresh credentials; this one cannot recover. */
            log_message(LOG_ERROR, NULL,
                        "DynamoDB refused the credentials on %d calls in a row; exiting",
                        UA_DDB_CREDENTIAL_FAILURE_LIMIT);
            rc = 1;
            break;
        }
        /* One huge event must not pin its memory for the life of the process. */
        if (a.inv.event.cap > UA_KEEP_EVENT_BUFFER)
            buf_free(&a.inv.event);
        if (a.answer.cap > UA_KEEP_EVENT_BUFFER)
            buf_free(&a.answer);
    }

    buf_free(&a.answer);
    rt_invocation_free(&a.inv);
    ddb_client_free(a.ddb);
    rt_client_free(a.rt);
    http_global_cleanup();
    return rc;
}
