/* main.c — wires the modules into the Lambda bootstrap: configuration, then the loop
 * next → parse → route and handle → respond → log, one invocation at a time. */
#include "apigw.h"
#include "backfill.h"
#include "buf.h"
#include "clock.h"
#include "ddb.h"
#include "ddb_observe.h"
#include "emf.h"
#include "http.h"
#include "json_arena.h"
#include "log.h"
#include "runtime.h"
#include "trace.h"
#include "users.h"
#include "xray.h"

#include <openssl/crypto.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

/* Everything built once at start-up and kept across invocations. */
/* Each back-fill DynamoDB call's deadline: retries included, as an invocation's would be. */
#define BACKFILL_CALL_TIMEOUT_MS 20000

/* The claims table's name when USERS_CLAIMS_TABLE is not set: the users table's and this. */
#define CLAIMS_SUFFIX "-claims"

typedef struct app {
    rt_client *rt;
    ddb_client *ddb;
    xray_daemon *xray;    /* NULL when AWS_XRAY_DAEMON_ADDRESS names none */
    ddb_observer ddb_obs; /* in front of ddb: each call's time, attempts and subsegment */
    emf_config metrics;
    bool warm;                    /* an invocation has been served: the next is not a cold start */
    const char *function_name;    /* AWS_LAMBDA_FUNCTION_NAME, NULL when unset */
    const char *function_version; /* AWS_LAMBDA_FUNCTION_VERSION */
    users_deps deps;
    rt_invocation inv;
    buf answer; /* the proxy response document, reused */
    char claims_table[UA_MAX_TABLE_NAME + sizeof CLAIMS_SUFFIX]; /* USERS_CLAIMS_TABLE or default */
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

/* The handler's production collaborators (users_deps): the wall clock and libuuid. */
static int64_t wall_clock_ms(void *ctx) {
    (void)ctx;
    return ua_wall_ms();
}

static void random_uuid_v4(char out[UA_UUID_LEN + 1], void *ctx) {
    (void)ctx;
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

/* The metrics' names and the X-Ray daemon: a bad setting is a warning and a default, never a
 * failed start (the API works without them). The daemon's address is read here, once: no
 * name is resolved on the hot path. */
static void configure_observability(app *a, const char *region) {
    char warn[128];
    emf_config_from_env(&a->metrics, warn, sizeof warn);
    if (warn[0])
        log_message(LOG_LEVEL_WARN, NULL,
                    "metrics: ignoring %s (not a CloudWatch name): defaults used", warn);
    const char *daemon = env_or_null("AWS_XRAY_DAEMON_ADDRESS");
    a->xray = xray_daemon_open(daemon, warn, sizeof warn);
    if (daemon && !a->xray)
        log_message(LOG_LEVEL_WARN, NULL, "tracing off: AWS_XRAY_DAEMON_ADDRESS %s", warn);
    ddb_observer_init(&a->ddb_obs, ddb_client_port(a->ddb), a->ddb, a->xray, region);
    a->function_name = env_or_null("AWS_LAMBDA_FUNCTION_NAME");
    a->function_version = env_or_null("AWS_LAMBDA_FUNCTION_VERSION");
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
    const char *claims = env_or_null("USERS_CLAIMS_TABLE");
    if (strlen(table) > UA_MAX_TABLE_NAME || (claims && strlen(claims) > UA_MAX_TABLE_NAME)) {
        snprintf(err, sizeof err, "a table name is longer than %u characters", UA_MAX_TABLE_NAME);
        goto fail;
    }
    snprintf(a->claims_table, sizeof a->claims_table, "%s%s", claims ? claims : table,
             claims ? "" : CLAIMS_SUFFIX);
    ddb_config cfg = {.region = region,
                      .endpoint = ddb_endpoint_from_env(),
                      .access_key_id = getenv("AWS_ACCESS_KEY_ID"),
                      .secret_access_key = getenv("AWS_SECRET_ACCESS_KEY"),
                      .session_token = env_or_null("AWS_SESSION_TOKEN"),
                      .ca_file = NULL,
                      .allow_plain_http = env_true("USERS_ALLOW_HTTP_ENDPOINT")};
    if (cfg.endpoint)
        log_message(LOG_LEVEL_WARN, NULL, "DynamoDB endpoint overridden: %s%s", cfg.endpoint,
                    cfg.allow_plain_http ? " (USERS_ALLOW_HTTP_ENDPOINT is set)" : "");
    err[0] = '\0';
    a->ddb = ddb_client_new(&cfg, err, sizeof err);
    forget_secret("AWS_SECRET_ACCESS_KEY");
    forget_secret("AWS_SESSION_TOKEN");
    if (!a->ddb)
        goto fail;
    configure_observability(a, region);
    a->deps = (users_deps){.table = table,
                           .claims_table = a->claims_table,
                           .allowed_origins = env_or_null("ALLOWED_ORIGINS"),
                           .ddb = ddb_observer_port(&a->ddb_obs),
                           .now_ms = wall_clock_ms,
                           .new_id = random_uuid_v4};
    return 0;
fail:
    log_message(LOG_LEVEL_ERROR, NULL, "init failed: %s", err[0] ? err : "DynamoDB client");
    if (a->rt &&
        rt_init_error(a->rt, "Runtime.ConfigError", err[0] ? err : "DynamoDB client") != UA_OK)
        log_message(LOG_LEVEL_ERROR, NULL, "could not report the init error to the Runtime API");
    return 1;
}

/* Frees what configure built. */
static void free_app(app *a) {
    ddb_observer_free(&a->ddb_obs);
    xray_daemon_close(a->xray);
    ddb_client_free(a->ddb);
}

/* Serves the invocation in a->inv: any failure here is reported and the loop goes on. */
static void serve(app *a) {
    int64_t start_us = ua_monotonic_us();
    const char *id = a->inv.request_id;
    apigw_event ev;
    ua_status parsed = apigw_parse(buf_str(&a->inv.event), a->inv.event.len, id, &ev);
    if (parsed != UA_OK) {
        const char *type = parsed == UA_ERR_NOMEM ? "Runtime.OutOfMemory" : "InvalidEvent";
        const char *why = parsed == UA_ERR_NOMEM     ? "out of memory"
                          : parsed == UA_ERR_TOO_BIG ? "the event is larger than the limit"
                                                     : "expected an API Gateway REST (payload "
                                                       "1.0) or HTTP API (payload 2.0) proxy event";
        log_message(LOG_LEVEL_WARN, id, "invocation error: %s", why);
        if (rt_fail(a->rt, id, type, why) != UA_OK)
            log_message(LOG_LEVEL_ERROR, id, "could not post the invocation error");
        return;
    }

    api_response resp;
    users_outcome outcome = {0};
    if (api_response_init(&resp) != UA_OK) {
        apigw_event_free(&ev);
        if (rt_fail(a->rt, id, "Runtime.OutOfMemory", "out of memory") != UA_OK)
            log_message(LOG_LEVEL_ERROR, id, "could not post the invocation error");
        return;
    }
    trace_context trace;
    trace_parse(a->inv.trace_id, &trace);
    ddb_observer_begin(&a->ddb_obs, &trace);
    users_handle(&a->deps, &ev.req, a->inv.deadline_ms, &resp, &outcome);

    buf_reset(&a->answer);
    if (apigw_format_response(ev.format, &resp, &a->answer) != UA_OK) {
        log_message(LOG_LEVEL_ERROR, id, "response could not be encoded");
        if (rt_fail(a->rt, id, "Runtime.ResponseTooLarge", "response could not be encoded") !=
            UA_OK)
            log_message(LOG_LEVEL_ERROR, id, "could not post the invocation error");
    } else if (rt_respond(a->rt, id, buf_str(&a->answer), a->answer.len) != UA_OK) {
        log_message(LOG_LEVEL_ERROR, id, "could not post the response to the Runtime API");
    }

    double duration_ms = (double)(ua_monotonic_us() - start_us) / 1000.0;
    const ddb_observed *calls = &a->ddb_obs.totals;
    emf_values metrics = {.timestamp_ms = ua_wall_ms(),
                          .operation = outcome.operation,
                          .latency_ms = duration_ms,
                          .called_ddb = calls->calls > 0,
                          .ddb_latency_ms = (double)calls->busy_us / 1000.0,
                          .ddb_retries = calls->retries,
                          .client_error = resp.status >= 400 && resp.status < 500,
                          .server_error = resp.status >= 500,
                          .cold_start = !a->warm};
    log_invocation line = {.request_id = ev.req.request_id,
                           .aws_request_id = id,
                           .trace_id = trace.root,
                           .cold_start = !a->warm,
                           .function_name = a->function_name,
                           .function_version = a->function_version,
                           .method = ev.req.method,
                           .route = outcome.route,
                           .status = resp.status,
                           .duration_ms = duration_ms,
                           .ddb_attempts = outcome.ddb_attempts,
                           .ddb_error = outcome.ddb_error,
                           .code = outcome.code,
                           .metrics_config = &a->metrics,
                           .metrics = &metrics};
    log_invocation_line(&line);
    a->warm = true;
    api_response_free(&resp);
    apigw_event_free(&ev);
}

/* `bootstrap --backfill-emails`: the function's configuration, no Runtime API (backfill.h). */
static int backfill(void) {
    if (http_global_init() != UA_OK) {
        log_message(LOG_LEVEL_ERROR, NULL, "libcurl could not be initialised");
        return BACKFILL_EXIT_FAILED;
    }
    app a = {0};
    int rc = BACKFILL_EXIT_FAILED;
    if (configure(&a) == 0) {
        backfill_counts counts;
        ua_status st = backfill_emails(&a.deps.ddb, a.deps.table, a.deps.claims_table,
                                       BACKFILL_CALL_TIMEOUT_MS, stdout, &counts);
        rc = st != UA_OK        ? BACKFILL_EXIT_FAILED
             : counts.conflicts ? BACKFILL_EXIT_CONFLICTS
                                : BACKFILL_EXIT_OK;
    }
    free_app(&a);
    http_global_cleanup();
    return rc;
}

int main(int argc, char **argv) {
    /* A peer closing a socket must be an error code, never a signal that kills the process. */
    signal(SIGPIPE, SIG_IGN);
    log_init_from_env();
    if (argc > 1) {
        if (strcmp(argv[1], "--backfill-emails") == 0 && argc == 2)
            return backfill();
        fprintf(stderr,
                "usage: %s            (the Lambda function, under the Runtime API)\n"
                "       %s --backfill-emails   (claim the addresses of existing users)\n",
                argv[0], argv[0]);
        return 2;
    }
    /* Release builds serve jansson from a per-invocation arena; see json_arena.h. */
    json_arena_install();

    const char *api = env_or_null("AWS_LAMBDA_RUNTIME_API");
    if (!api) {
        log_message(LOG_LEVEL_ERROR, NULL,
                    "AWS_LAMBDA_RUNTIME_API is not set: run me under Lambda");
        return 1;
    }
    if (http_global_init() != UA_OK) {
        log_message(LOG_LEVEL_ERROR, NULL, "libcurl could not be initialised");
        return 1;
    }
    app a = {0};
    a.rt = rt_client_new(api);
    if (!a.rt) {
        log_message(LOG_LEVEL_ERROR, NULL, "bad AWS_LAMBDA_RUNTIME_API or out of memory");
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
            log_message(LOG_LEVEL_WARN, a.inv.request_id, "invocation error: event too large");
            if (rt_fail(a.rt, a.inv.request_id, "InvalidEvent",
                        "the event is larger than the limit") != UA_OK)
                log_message(LOG_LEVEL_ERROR, a.inv.request_id,
                            "could not post the invocation error");
            continue;
        }
        if (st != UA_OK) {
            /* Lambda replaces an environment whose runtime exits: better than spinning. */
            log_message(LOG_LEVEL_ERROR, NULL, "Runtime API next failed (%s); exiting",
                        st == UA_ERR_INVALID ? "no request id" : "unreachable or error status");
            rc = 1;
            break;
        }
        serve(&a);
        if (ddb_client_credentials_dead(a.ddb)) {
            /* A fresh environment starts with fresh credentials; this one cannot recover. */
            log_message(LOG_LEVEL_ERROR, NULL,
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
    free_app(&a);
    rt_client_free(a.rt);
    http_global_cleanup();
    return rc;
}
