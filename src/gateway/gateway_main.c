/* gateway_main.c — users-gateway: the local stack's API Gateway and Lambda in one process.
 * Reads the flags, builds the bootstraps' environment, starts the pool and the HTTP server
 * (and with --trace the X-Ray listener and the stdout relay), and waits for SIGINT or SIGTERM
 * to stop them all cleanly. */
#include "gw_docs.h"
#include "gw_env.h"
#include "gw_log.h"
#include "gw_pool.h"
#include "gw_relay.h"
#include "gw_server.h"
#include "gw_sys.h"
#include "gw_trace.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#define MAX_SETS  64
#define XRAY_SETS 3 /* the variables --trace sets */

typedef struct options {
    const char *host;
    unsigned port;
    const char *bootstrap;
    unsigned instances, timeout_s, init_timeout_s, queue_max;
    unsigned sampled;           /* 0 or 1 */
    bool trace;                 /* --trace */
    gw_api api;                 /* --api rest|http */
    unsigned trace_port;        /* 0: a free one */
    const char *sets[MAX_SETS]; /* "NAME=value" for the bootstraps */
    size_t nsets;
    char *owned[MAX_SETS]; /* the entries of sets this program allocated */
    size_t nowned;
    const char *openapi_dir, *docs_dir; /* --openapi-dir, --docs-dir: gw_docs.h */
} options;

static void usage(FILE *to) {
    fputs("usage: users-gateway [options]\n"
          "  API Gateway (REST API, Lambda proxy) and Lambda for the unmodified bootstrap.\n"
          "  --api rest|http      play a REST API (payload 1.0) or an HTTP API (payload 2.0,\n"
          "                       CORS configured at the API from ALLOWED_ORIGINS) (rest)\n"
          "  --port N             HTTP port (3000)\n"
          "  --host ADDR          IPv4 address to listen on (127.0.0.1)\n"
          "  --bootstrap PATH     the bootstrap executable (./bootstrap beside this program)\n"
          "  --instances N        bootstrap processes, one invocation each at a time (2)\n"
          "  --timeout S          function timeout in seconds, also the longest queue wait "
          "(29)\n"
          "  --init-timeout S     a bootstrap must ask for work within this (10)\n"
          "  --queue N            invocations that may wait for a bootstrap (100)\n"
          "  --table NAME         USERS_TABLE for the bootstraps (inherited, else Users)\n"
          "  --region NAME        AWS_REGION (inherited, else us-east-1)\n"
          "  --endpoint URL       AWS_ENDPOINT_URL_DYNAMODB (inherited)\n"
          "  --allowed-origins S  ALLOWED_ORIGINS (inherited)\n"
          "  --log-level LEVEL    LOG_LEVEL (inherited)\n"
          "  --env NAME=VALUE     any other variable for the bootstraps (repeatable)\n"
          "  --sampled 0|1        the X-Ray sampling decision in Lambda-Runtime-Trace-Id, when\n"
          "                       the client's X-Amzn-Trace-Id makes none (1)\n"
          "  --trace              receive the bootstraps' X-Ray subsegments on UDP\n"
          "                       (AWS_XRAY_DAEMON_ADDRESS) and print each invocation's metrics\n"
          "                       and DynamoDB calls readably on stderr\n"
          "  --trace-port N       the UDP port for --trace (a free one); implies --trace\n"
          "  --openapi-dir DIR    serve DIR/openapi.json and DIR/openapi.yaml at /openapi.json\n"
          "                       and /openapi.yaml (with --docs-dir)\n"
          "  --docs-dir DIR       serve Swagger UI (swagger-ui-dist's files) at /docs\n"
          "Bootstraps inherit this program's environment (less AWS_XRAY_DAEMON_ADDRESS and\n"
          "_X_AMZN_TRACE_ID: only --trace or --env sets those); AWS_ACCESS_KEY_ID and\n"
          "AWS_SECRET_ACCESS_KEY default to \"local\" when unset.\n",
          to);
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int add_set(options *o, const char *name, const char *value) {
    if (o->nsets >= MAX_SETS)
        return -1;
    size_t n = strlen(name) + strlen(value) + 2;
    char *e = malloc(n);
    if (!e)
        return -1;
    snprintf(e, n, "%s=%s", name, value);
    o->owned[o->nowned++] = e;
    o->sets[o->nsets++] = e;
    return 0;
}

/* The bootstrap beside this executable, the default for --bootstrap. */
static char *default_bootstrap(void) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    size_t len = (size_t)(slash - self) + sizeof "/bootstrap";
    char *path = malloc(len);
    if (path)
        snprintf(path, len, "%.*s/bootstrap", (int)(slash - self), self);
    return path;
}

static int parse(int argc, char **argv, options *o) {
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(flag, "--trace") == 0) {
            o->trace = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "users-gateway: %s needs a value (or is unknown)\n", flag);
            return -1;
        }
        const char *v = argv[++i];
        int bad = 0;
        if (strcmp(flag, "--port") == 0)
            bad = parse_uint(v, 1, 65535, &o->port);
        else if (strcmp(flag, "--api") == 0) {
            if (strcmp(v, "rest") == 0)
                o->api = GW_API_REST;
            else if (strcmp(v, "http") == 0)
                o->api = GW_API_HTTP;
            else
                bad = -1;
        } else if (strcmp(flag, "--host") == 0)
            o->host = v;
        else if (strcmp(flag, "--openapi-dir") == 0)
            o->openapi_dir = v;
        else if (strcmp(flag, "--docs-dir") == 0)
            o->docs_dir = v;
        else if (strcmp(flag, "--bootstrap") == 0)
            o->bootstrap = v;
        else if (strcmp(flag, "--instances") == 0)
            bad = parse_uint(v, 1, GW_MAX_INSTANCES, &o->instances);
        else if (strcmp(flag, "--timeout") == 0)
            bad = parse_uint(v, 1, 900, &o->timeout_s);
        else if (strcmp(flag, "--init-timeout") == 0)
            bad = parse_uint(v, 1, 600, &o->init_timeout_s);
        else if (strcmp(flag, "--queue") == 0)
            bad = parse_uint(v, 1, 100000, &o->queue_max);
        else if (strcmp(flag, "--sampled") == 0)
            bad = parse_uint(v, 0, 1, &o->sampled);
        else if (strcmp(flag, "--trace-port") == 0) {
            bad = parse_uint(v, 1, 65535, &o->trace_port);
            o->trace = true;
        } else if (strcmp(flag, "--table") == 0)
            bad = add_set(o, "USERS_TABLE", v);
        else if (strcmp(flag, "--region") == 0)
            bad = add_set(o, "AWS_REGION", v);
        else if (strcmp(flag, "--endpoint") == 0)
            bad = add_set(o, "AWS_ENDPOINT_URL_DYNAMODB", v);
        else if (strcmp(flag, "--allowed-origins") == 0)
            bad = add_set(o, "ALLOWED_ORIGINS", v);
        else if (strcmp(flag, "--log-level") == 0)
            bad = add_set(o, "LOG_LEVEL", v);
        else if (strcmp(flag, "--env") == 0) {
            if (!strchr(v, '=') || v[0] == '=' || o->nsets >= MAX_SETS)
                bad = -1;
            else
                o->sets[o->nsets++] = v;
        } else {
            fprintf(stderr, "users-gateway: unknown option %s (see --help)\n", flag);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "users-gateway: bad value for %s: %s\n", flag, v);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    options o = {.host = "127.0.0.1",
                 .port = 3000,
                 .instances = 2,
                 .timeout_s = 29,
                 .init_timeout_s = 10,
                 .queue_max = 100,
                 .sampled = 1};
    int rc = 1;
    char *found = NULL;
    char **env = NULL;
    gw_pool *pool = NULL;
    gw_server *server = NULL;
    gw_trace *trace = NULL;
    gw_relay *relay = NULL;
    gw_docs *docs = NULL;
    char err[160];
    unsigned trace_port = 0;
    char xray_env[XRAY_SETS][64];
    if (parse(argc, argv, &o) != 0)
        goto out;
    if (!o.openapi_dir != !o.docs_dir) {
        fprintf(stderr, "users-gateway: --openapi-dir and --docs-dir go together\n");
        goto out;
    }
    if (o.openapi_dir && !(docs = gw_docs_open(o.openapi_dir, o.docs_dir, err, sizeof err))) {
        fprintf(stderr, "users-gateway: %s\n", err);
        goto out;
    }
    if (!o.bootstrap)
        o.bootstrap = found = default_bootstrap();
    if (!o.bootstrap || access(o.bootstrap, X_OK) != 0) {
        fprintf(stderr, "users-gateway: bootstrap %s is not an executable file (see --bootstrap)\n",
                o.bootstrap ? o.bootstrap : "(beside this program)");
        goto out;
    }

    /* SIGINT and SIGTERM are taken by sigwait below, so every thread must block them: the mask
     * is set before the first thread starts, as threads inherit it. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* With --trace, the UDP port first: the bootstraps' environment names it. */
    if (o.trace) {
        trace = gw_trace_start(o.trace_port, &trace_port, err, sizeof err);
        if (!trace) {
            fprintf(stderr, "users-gateway: --trace: %s\n", err);
            goto out;
        }
        /* As Lambda sets them for a function with active tracing; after --env, so they win. */
        snprintf(xray_env[0], sizeof xray_env[0], "AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:%u",
                 trace_port);
        snprintf(xray_env[1], sizeof xray_env[1], "_AWS_XRAY_DAEMON_ADDRESS=127.0.0.1");
        snprintf(xray_env[2], sizeof xray_env[2], "_AWS_XRAY_DAEMON_PORT=%u", trace_port);
        if (o.nsets + XRAY_SETS > MAX_SETS) {
            fprintf(stderr, "users-gateway: too many --env settings\n");
            goto out;
        }
        for (size_t i = 0; i < XRAY_SETS; i++)
            o.sets[o.nsets++] = xray_env[i];
        relay = gw_relay_start(1, gw_trace_on_line, trace);
        if (!relay)
            goto out;
    }

    /* What Lambda sets, and what the local stack needs when the caller did not say. */
    static const char *const defaults[] = {"USERS_TABLE=Users",
                                           "AWS_REGION=us-east-1",
                                           "AWS_DEFAULT_REGION=us-east-1",
                                           "AWS_ACCESS_KEY_ID=local",
                                           "AWS_SECRET_ACCESS_KEY=local",
                                           "AWS_LAMBDA_FUNCTION_NAME=users-api-local",
                                           "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
                                           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
                                           "TZ=:UTC"};
    /* The X-Ray daemon is ours to name (--trace), and a trace id belongs to one invocation:
     * none is inherited from the shell. */
    static const char *const drop[] = {"AWS_LAMBDA_RUNTIME_API", "AWS_XRAY_DAEMON_ADDRESS",
                                       "_AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_PORT",
                                       "_X_AMZN_TRACE_ID"};
    env = gw_env_build(environ, o.sets, o.nsets, defaults, sizeof defaults / sizeof defaults[0],
                       drop, sizeof drop / sizeof drop[0]);
    if (!env) {
        fprintf(stderr, "users-gateway: out of memory\n");
        goto out;
    }
    char arn[256];
    const char *region = gw_env_get(env, "AWS_REGION");
    snprintf(arn, sizeof arn, "arn:aws:lambda:%s:123456789012:function:%s", region,
             gw_env_get(env, "AWS_LAMBDA_FUNCTION_NAME"));

    /* The port first: when it is taken, say so before any bootstrap starts. */
    unsigned port = 0;
    int fd = gw_listen(o.host, o.port, &port, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "users-gateway: %s\n", err);
        goto out;
    }

    gw_pool_config cfg = {.bootstrap = o.bootstrap,
                          .envp = env,
                          .instances = o.instances,
                          .timeout_s = o.timeout_s,
                          .init_timeout_s = o.init_timeout_s,
                          .queue_max = o.queue_max,
                          .function_arn = arn,
                          .relay = relay};
    pool = gw_pool_start(&cfg);
    if (!pool) {
        close(fd);
        goto out;
    }
    gw_server_config scfg = {.port = port,
                             .pool = pool,
                             .sampled = o.sampled == 1,
                             .trace = trace,
                             .api = o.api,
                             .allowed_origins = gw_env_get(env, "ALLOWED_ORIGINS"),
                             .docs = docs};
    server = gw_server_start(fd, &scfg);
    if (!server)
        goto out;
    char tracing[96];
    if (trace)
        snprintf(tracing, sizeof tracing, "X-Ray subsegments on UDP 127.0.0.1:%u", trace_port);
    else
        snprintf(tracing, sizeof tracing, "no X-Ray daemon");
    gw_log("INFO",
           "listening on http://%s:%u as %s (%u x %s, timeout %u s, table %s, DynamoDB %s, %s, %s)",
           o.host, port,
           o.api == GW_API_HTTP ? "an HTTP API (payload 2.0)" : "a REST API (payload 1.0)",
           o.instances, o.bootstrap, o.timeout_s, gw_env_get(env, "USERS_TABLE"),
           gw_env_get(env, "AWS_ENDPOINT_URL_DYNAMODB")
               ? gw_env_get(env, "AWS_ENDPOINT_URL_DYNAMODB")
               : "(AWS)",
           o.sampled ? "sampled" : "not sampled", tracing);
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    gw_log("INFO", "%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;
out:
    gw_server_quiesce(server);
    if (pool)
        gw_pool_stop(pool);
    gw_server_stop(server);
    gw_relay_stop(relay); /* after the bootstraps: what they wrote last is passed on */
    gw_trace_stop(trace); /* after the server and the relay: every block is complete */
    gw_docs_close(docs);  /* after the server: no request reads it any more */
    gw_pool_free(pool);
    gw_env_free(env);
    free(found);
    for (size_t i = 0; i < o.nowned; i++)
        free(o.owned[i]);
    if (rc == 0)
        gw_log("INFO", "stopped");
    return rc;
}
