/* gw_pool.c — bootstrap processes, their Runtime API listeners, and the invocation queue
 * (see gw_pool.h).
 *
 * One mutex guards everything shared; one condition variable (on the monotonic clock) wakes
 * every waiter: HTTP threads waiting for an outcome, /next handlers waiting for work, and the
 * supervisor thread, which alone spawns, reaps and kills processes. Handler threads block in
 * MHD's thread-per-connection mode, which is what a long-polling /next needs. */
#define _GNU_SOURCE /* prctl's PR_SET_PDEATHSIG, pipe2 */ // NOLINT(bugprone-reserved-identifier)
#include "gw_pool.h"

#include "clock.h"
#include "gw_log.h"
#include "gw_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define RT_PREFIX          "/2018-06-01/runtime/"
#define SUPERVISE_EVERY_MS 50
#define BACKOFF_FIRST_MS   100
#define BACKOFF_MAX_MS     5000
#define STOP_GRACE_MS      1000 /* between SIGTERM and SIGKILL at shutdown */

typedef enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE } job_state;

/* One invocation in flight; lives on the stack of the HTTP thread that waits for it. */
typedef struct job {
    gw_invocation *inv;
    job_state state;
    int64_t enqueued_ms;
    struct job *next;
} job;

typedef enum inst_state {
    INST_DOWN,     /* no process; respawn_at_ms says when the next starts */
    INST_STARTING, /* spawned, has not asked for an event yet */
    INST_IDLE,     /* blocked in /next */
    INST_BUSY,     /* running job */
    INST_AFTER     /* answered, not back in /next yet */
} inst_state;

struct instance;

/* What a listener's handlers know: its process generation. Freed after the listener stops. */
typedef struct rapi_ctx {
    gw_pool *pool;
    struct instance *inst;
    unsigned gen;
} rapi_ctx;

typedef struct instance {
    int index;
    pid_t pid; /* > 0 while a process runs */
    struct MHD_Daemon *daemon;
    rapi_ctx *ctx;
    unsigned gen; /* bumped at every spawn and teardown: older listeners are stale */
    inst_state state;
    bool ready;       /* reached /next since the spawn */
    bool init_failed; /* posted /runtime/init/error */
    job *job;
    int64_t started_ms, deadline_ms, respawn_at_ms;
    unsigned failures; /* consecutive failed starts */
} instance;

struct gw_pool {
    gw_pool_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    instance *inst;
    job *head, *tail;
    size_t queued;
    bool stopping;
    bool stopped;
    pthread_t supervisor;
    int devnull;
};

/* Per-request state of a Runtime API request: its body. */
typedef struct rapi_req {
    buf body;
    bool too_big;
} rapi_req;

const char *gw_outcome_name(gw_outcome o) {
    static const char *const names[] = {"response",  "function-error", "response-too-large",
                                        "died",      "timeout",        "init-failed",
                                        "throttled", "shutdown"};
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "unknown";
}

/* ---- queue and outcomes (all under p->mu) ---- */

static void finish(gw_pool *p, job *j, gw_outcome o) {
    j->inv->outcome = o;
    j->state = JOB_DONE;
    pthread_cond_broadcast(&p->cond);
}

static void enqueue(gw_pool *p, job *j) {
    j->next = NULL;
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
}

static job *dequeue(gw_pool *p) {
    job *j = p->head;
    if (j) {
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        j->next = NULL;
    }
    return j;
}

static void unqueue(gw_pool *p, job *j) {
    job **at = &p->head, *prev = NULL;
    while (*at && *at != j) {
        prev = *at;
        at = &(*at)->next;
    }
    if (!*at)
        return;
    *at = j->next;
    if (p->tail == j)
        p->tail = prev;
    p->queued--;
}

static void wait_until(gw_pool *p, int64_t mono_ms) {
    struct timespec ts = {.tv_sec = (time_t)(mono_ms / 1000),
                          .tv_nsec = (long)(mono_ms % 1000) * 1000000L};
    (void)pthread_cond_timedwait(&p->cond, &p->mu, &ts);
}

/* ---- the Runtime API (handler threads) ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    (void)MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static bool stale(const rapi_ctx *ctx) {
    return ctx->gen != ctx->inst->gen;
}

/* GET .../invocation/next: waits for a job, hands over its event. */
static enum MHD_Result handle_next(rapi_ctx *ctx, struct MHD_Connection *c) {
    gw_pool *p = ctx->pool;
    instance *in = ctx->inst;
    pthread_mutex_lock(&p->mu);
    if (!stale(ctx) && in->job) {
        gw_log("WARN", "bootstrap %d asked for the next event without answering %s", in->index,
               in->job->inv->request_id);
        finish(p, in->job, GW_OUT_FUNCTION_ERROR);
        in->job = NULL;
    }
    if (!stale(ctx)) {
        in->ready = true;
        in->failures = 0;
        in->state = INST_IDLE;
        pthread_cond_broadcast(&p->cond);
    }
    job *j = NULL;
    while (!stale(ctx) && !p->stopping && !(j = dequeue(p)))
        pthread_cond_wait(&p->cond, &p->mu);
    if (!j) {
        pthread_mutex_unlock(&p->mu);
        return reply(c, 500,
                     "{\"errorMessage\":\"the gateway is replacing or stopping this "
                     "process\",\"errorType\":\"Runtime.Stopping\"}");
    }
    gw_invocation *inv = j->inv;
    j->state = JOB_RUNNING;
    in->job = j;
    in->state = INST_BUSY;
    in->deadline_ms = ua_monotonic_ms() + (int64_t)p->cfg.timeout_s * 1000;
    inv->instance = in->index;
    char deadline[32];
    snprintf(deadline, sizeof deadline, "%" PRId64,
             ua_wall_ms() + (int64_t)p->cfg.timeout_s * 1000);
    /* Copied while the job cannot end: its event belongs to the waiting HTTP thread. */
    struct MHD_Response *r =
        MHD_create_response_from_buffer(inv->event_len, (void *)inv->event, MHD_RESPMEM_MUST_COPY);
    bool ok =
        r && MHD_add_response_header(r, "Content-Type", "application/json") == MHD_YES &&
        MHD_add_response_header(r, "Lambda-Runtime-Aws-Request-Id", inv->request_id) == MHD_YES &&
        MHD_add_response_header(r, "Lambda-Runtime-Deadline-Ms", deadline) == MHD_YES &&
        MHD_add_response_header(r, "Lambda-Runtime-Invoked-Function-Arn", p->cfg.function_arn) ==
            MHD_YES &&
        MHD_add_response_header(r, "Lambda-Runtime-Trace-Id", inv->trace_id ? inv->trace_id : "") ==
            MHD_YES;
    pthread_mutex_unlock(&p->mu);
    if (!ok) {
        if (r)
            MHD_destroy_response(r);
        return MHD_NO; /* the process sees a broken connection; its deadline still runs */
    }
    enum MHD_Result res = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return res;
}

/* Logs what a function's error document says, briefly. */
static void log_function_error(int index, const char *id, const rapi_req *rq, const char *type) {
    json_t *doc = json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, 0, NULL);
    const char *et = json_string_value(json_object_get(doc, "errorType"));
    const char *em = json_string_value(json_object_get(doc, "errorMessage"));
    gw_log("WARN", "bootstrap %d: invocation %s failed: %s: %s", index, id,
           et ? et : (type ? type : "(no errorType)"), em ? em : "(no errorMessage)");
    json_decref(doc);
}

/* POST .../invocation/{id}/response and .../error. */
static enum MHD_Result handle_answer(rapi_ctx *ctx, struct MHD_Connection *c, const char *id,
                                     bool is_error, rapi_req *rq) {
    gw_pool *p = ctx->pool;
    instance *in = ctx->inst;
    pthread_mutex_lock(&p->mu);
    job *j = stale(ctx) ? NULL : in->job;
    if (!j || strcmp(j->inv->request_id, id) != 0) {
        pthread_mutex_unlock(&p->mu);
        gw_log("WARN", "bootstrap %d answered unknown or finished invocation %s", in->index, id);
        return reply(c, 400,
                     "{\"errorMessage\":\"Invalid request ID\","
                     "\"errorType\":\"InvalidRequestID\"}");
    }
    in->job = NULL;
    in->state = INST_AFTER;
    unsigned status = 202;
    const char *body = "{\"status\":\"OK\"}";
    if (is_error) {
        log_function_error(
            in->index, id, rq,
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Lambda-Runtime-Function-Error-Type"));
        finish(p, j, GW_OUT_FUNCTION_ERROR);
    } else if (rq->too_big) {
        gw_log("WARN", "bootstrap %d: response to %s is over %zu bytes", in->index, id,
               GW_LAMBDA_MAX_RESPONSE);
        status = 413;
        body = "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291456 bytes).\","
               "\"errorType\":\"RequestEntityTooLarge\"}";
        finish(p, j, GW_OUT_TOO_LARGE);
    } else {
        buf_free(&j->inv->response);
        j->inv->response = rq->body; /* moved */
        buf_init(&rq->body, GW_LAMBDA_MAX_RESPONSE);
        finish(p, j, GW_OUT_RESPONSE);
    }
    pthread_mutex_unlock(&p->mu);
    return reply(c, status, body);
}

static enum MHD_Result handle_init_error(rapi_ctx *ctx, struct MHD_Connection *c, rapi_req *rq) {
    gw_pool *p = ctx->pool;
    json_t *doc = json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, 0, NULL);
    const char *et = json_string_value(json_object_get(doc, "errorType"));
    const char *em = json_string_value(json_object_get(doc, "errorMessage"));
    gw_log("ERROR", "init error: bootstrap %d: %s: %s", ctx->inst->index,
           et ? et : "(no errorType)", em ? em : "(no errorMessage)");
    json_decref(doc);
    pthread_mutex_lock(&p->mu);
    if (!stale(ctx)) {
        ctx->inst->init_failed = true;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->mu);
    return reply(c, 202, "{\"status\":\"OK\"}");
}

static enum MHD_Result rapi_handler(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_size, void **state) {
    (void)version;
    rapi_ctx *ctx = cls;
    rapi_req *rq = *state;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        buf_init(&rq->body, GW_LAMBDA_MAX_RESPONSE);
        *state = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_big && buf_append(&rq->body, upload_data, *upload_size) != UA_OK)
            rq->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    const size_t plen = sizeof RT_PREFIX - 1;
    if (strncmp(url, RT_PREFIX, plen) != 0)
        return reply(c, 404, "{\"errorMessage\":\"unknown path\",\"errorType\":\"NotFound\"}");
    const char *rest = url + plen;
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (get && strcmp(rest, "invocation/next") == 0)
        return handle_next(ctx, c);
    if (post && strcmp(rest, "init/error") == 0)
        return handle_init_error(ctx, c, rq);
    if (post && strncmp(rest, "invocation/", 11) == 0) {
        const char *id = rest + 11;
        const char *slash = strchr(id, '/');
        if (slash && slash > id && slash - id < 64 &&
            (strcmp(slash, "/response") == 0 || strcmp(slash, "/error") == 0)) {
            char rid[64];
            memcpy(rid, id, (size_t)(slash - id));
            rid[slash - id] = '\0';
            return handle_answer(ctx, c, rid, strcmp(slash, "/error") == 0, rq);
        }
    }
    return reply(c, 404, "{\"errorMessage\":\"unknown path\",\"errorType\":\"NotFound\"}");
}

static void rapi_completed(void *cls, struct MHD_Connection *c, void **state,
                           enum MHD_RequestTerminationCode why) {
    (void)cls;
    (void)c;
    (void)why;
    rapi_req *rq = *state;
    if (rq) {
        buf_free(&rq->body);
        free(rq);
        *state = NULL;
    }
}

/* ---- processes (supervisor thread, under p->mu unless said otherwise) ---- */

static int64_t backoff_ms(unsigned failures) {
    int64_t ms = BACKOFF_FIRST_MS;
    for (unsigned i = 1; i < failures && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

/* Stops a process's listener. Drops p->mu while MHD joins the handler threads, which need it;
 * they see their generation is stale and return. */
static void teardown(gw_pool *p, instance *in) {
    struct MHD_Daemon *d = in->daemon;
    rapi_ctx *ctx = in->ctx;
    in->daemon = NULL;
    in->ctx = NULL;
    in->pid = 0;
    in->gen++;
    in->state = INST_DOWN;
    in->ready = false;
    in->init_failed = false;
    pthread_cond_broadcast(&p->cond);
    if (d) {
        pthread_mutex_unlock(&p->mu);
        MHD_stop_daemon(d);
        pthread_mutex_lock(&p->mu);
    }
    free(ctx);
}

static void kill_and_reap(instance *in) {
    (void)kill(-in->pid, SIGKILL);
    (void)kill(in->pid, SIGKILL);
    int st;
    while (waitpid(in->pid, &st, 0) < 0 && errno == EINTR)
        ;
}

/* A start failed: the oldest waiting invocation fails with it, the next start waits. */
static void start_failed(gw_pool *p, instance *in, int64_t now) {
    in->failures++;
    in->respawn_at_ms = now + backoff_ms(in->failures);
    job *j = p->stopping ? NULL : dequeue(p);
    if (j)
        finish(p, j, GW_OUT_INIT_FAILED);
}

static void describe_exit(int status, char *out, size_t n) {
    if (WIFEXITED(status))
        snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, n, "was killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, n, "ended (status 0x%x)", (unsigned)status);
}

/* The process exited by itself. */
static void on_exit_seen(gw_pool *p, instance *in, int status, int64_t now) {
    char how[64];
    describe_exit(status, how, sizeof how);
    bool failed_start = !in->ready || in->init_failed;
    if (in->job) {
        gw_log("ERROR", "bootstrap %d (pid %ld) %s while running %s", in->index, (long)in->pid, how,
               in->job->inv->request_id);
        finish(p, in->job, p->stopping ? GW_OUT_SHUTDOWN : GW_OUT_DIED);
        in->job = NULL;
    } else {
        gw_log(p->stopping ? "INFO" : "WARN", "bootstrap %d (pid %ld) %s%s", in->index,
               (long)in->pid, how, failed_start ? " before it was ready" : "");
    }
    if (failed_start)
        start_failed(p, in, now);
    else
        in->respawn_at_ms = now;
    teardown(p, in);
}

static void child_exec(const char *path, char *const *envp, int devnull, int out, pid_t parent) {
    /* Only async-signal-safe calls between fork and exec: the parent has threads. */
    (void)setpgid(0, 0);
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127); /* the gateway died before prctl took effect */
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    (void)sigaction(SIGPIPE, &dfl, NULL);
    if (devnull >= 0)
        (void)dup2(devnull, 0);
    if (out >= 0)
        (void)dup2(out, 1);
    char *argv[] = {(char *)path, NULL};
    execve(path, argv, envp);
    static const char msg[] = "users-gateway: cannot execute the bootstrap\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(127);
}

/* envp plus AWS_LAMBDA_RUNTIME_API. The strings but the last are borrowed. */
static char **child_env(const gw_pool *p, char *api_var) {
    size_t n = 0;
    while (p->cfg.envp && p->cfg.envp[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(p->cfg.envp[i], "AWS_LAMBDA_RUNTIME_API=", 23) != 0)
            env[k++] = p->cfg.envp[i];
    }
    env[k++] = api_var;
    env[k] = NULL;
    return env;
}

/* The write end of a pipe whose read end the relay now holds, for a bootstrap's stdout; -1
 * when there is no relay, or it cannot take one more (the bootstrap then writes to ours). */
static int stdout_pipe(gw_pool *p, const instance *in) {
    int fds[2];
    if (!p->cfg.relay)
        return -1;
    if (pipe2(fds, O_CLOEXEC) != 0) {
        gw_log("WARN", "bootstrap %d: no pipe for its stdout (%s): it goes to ours unread",
               in->index, strerror(errno));
        return -1;
    }
    if (gw_relay_add(p->cfg.relay, fds[0]) != 0) {
        gw_log("WARN", "bootstrap %d: the stdout relay is full: its stdout goes to ours unread",
               in->index);
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    return fds[1];
}

static void spawn(gw_pool *p, instance *in, int64_t now) {
    pthread_mutex_unlock(&p->mu);
    char err[160];
    unsigned port = 0;
    struct MHD_Daemon *d = NULL;
    rapi_ctx *ctx = calloc(1, sizeof *ctx);
    int fd = ctx ? gw_listen("127.0.0.1", 0, &port, err, sizeof err) : -1;
    if (fd >= 0) {
        ctx->pool = p;
        ctx->inst = in;
        d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                 MHD_USE_ERROR_LOG,
                             0, NULL, NULL, rapi_handler, ctx, MHD_OPTION_LISTEN_SOCKET, fd,
                             MHD_OPTION_NOTIFY_COMPLETED, rapi_completed, NULL, MHD_OPTION_END);
        if (!d)
            close(fd);
    }
    char api_var[64];
    snprintf(api_var, sizeof api_var, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%u", port);
    char **env = d ? child_env(p, api_var) : NULL;
    pthread_mutex_lock(&p->mu);
    if (!env || p->stopping) {
        if (!p->stopping)
            gw_log("ERROR", "cannot start a Runtime API listener for bootstrap %d%s%s", in->index,
                   fd < 0 && ctx ? ": " : "", fd < 0 && ctx ? err : "");
        free(env);
        pthread_mutex_unlock(&p->mu);
        if (d)
            MHD_stop_daemon(d);
        pthread_mutex_lock(&p->mu);
        free(ctx);
        in->failures++;
        in->respawn_at_ms = now + backoff_ms(in->failures);
        return;
    }
    in->gen++;
    ctx->gen = in->gen;
    in->daemon = d;
    in->ctx = ctx;
    int out = stdout_pipe(p, in);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_exec(p->cfg.bootstrap, env, p->devnull, out, parent);
    if (out >= 0)
        close(out);
    free(env);
    if (pid < 0) {
        gw_log("ERROR", "fork: %s", strerror(errno));
        in->failures++;
        in->respawn_at_ms = now + backoff_ms(in->failures);
        teardown(p, in);
        return;
    }
    (void)setpgid(pid, pid); /* also here: whichever of parent and child runs first */
    in->pid = pid;
    in->state = INST_STARTING;
    in->ready = false;
    in->init_failed = false;
    in->started_ms = ua_monotonic_ms();
    gw_log("INFO", "bootstrap %d started (pid %ld, Runtime API 127.0.0.1:%u)", in->index, (long)pid,
           port);
}

static void supervise(gw_pool *p, instance *in, int64_t now) {
    if (in->pid <= 0) {
        if (in->state == INST_DOWN && now >= in->respawn_at_ms)
            spawn(p, in, now);
        return;
    }
    int status;
    pid_t r = waitpid(in->pid, &status, WNOHANG);
    if (r == in->pid) {
        on_exit_seen(p, in, status, now);
        return;
    }
    if (in->init_failed) {
        gw_log("WARN", "bootstrap %d (pid %ld) reported an init error: replacing it", in->index,
               (long)in->pid);
        kill_and_reap(in);
        start_failed(p, in, now);
        teardown(p, in);
    } else if ((in->state == INST_BUSY || in->state == INST_AFTER) && now >= in->deadline_ms) {
        gw_log("ERROR", "bootstrap %d (pid %ld): Task timed out after %u.00 seconds%s%s: killed",
               in->index, (long)in->pid, p->cfg.timeout_s, in->job ? " running " : "",
               in->job ? in->job->inv->request_id : "");
        kill_and_reap(in);
        if (in->job) {
            finish(p, in->job, GW_OUT_TIMEOUT);
            in->job = NULL;
        }
        in->respawn_at_ms = now;
        teardown(p, in);
    } else if (!in->ready && now - in->started_ms >= (int64_t)p->cfg.init_timeout_s * 1000) {
        gw_log("ERROR", "bootstrap %d (pid %ld) did not reach /next within %u s: killed", in->index,
               (long)in->pid, p->cfg.init_timeout_s);
        kill_and_reap(in);
        start_failed(p, in, now);
        teardown(p, in);
    }
}

/* At shutdown: SIGTERM every process group, SIGKILL what is left after the grace. */
static void stop_all(gw_pool *p) {
    for (unsigned i = 0; i < p->cfg.instances; i++) {
        if (p->inst[i].pid > 0) {
            (void)kill(-p->inst[i].pid, SIGTERM);
            (void)kill(p->inst[i].pid, SIGTERM);
        }
    }
    int64_t give_up = ua_monotonic_ms() + STOP_GRACE_MS;
    for (;;) {
        bool left = false;
        for (unsigned i = 0; i < p->cfg.instances; i++) {
            instance *in = &p->inst[i];
            int status;
            if (in->pid > 0 && waitpid(in->pid, &status, WNOHANG) == in->pid)
                on_exit_seen(p, in, status, ua_monotonic_ms());
            left = left || in->pid > 0;
        }
        if (!left || ua_monotonic_ms() >= give_up)
            break;
        wait_until(p, ua_monotonic_ms() + 20);
    }
    for (unsigned i = 0; i < p->cfg.instances; i++) {
        instance *in = &p->inst[i];
        if (in->pid > 0) {
            kill_and_reap(in);
            if (in->job) {
                finish(p, in->job, GW_OUT_SHUTDOWN);
                in->job = NULL;
            }
        }
        teardown(p, in);
    }
}

static void *supervisor_main(void *arg) {
    gw_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        for (unsigned i = 0; i < p->cfg.instances && !p->stopping; i++)
            supervise(p, &p->inst[i], ua_monotonic_ms());
        if (!p->stopping)
            wait_until(p, ua_monotonic_ms() + SUPERVISE_EVERY_MS);
    }
    stop_all(p);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the public side ---- */

/* Frees a pool whose supervisor is not running (never started, or joined). */
static void release(gw_pool *p) {
    if (p->devnull >= 0)
        close(p->devnull);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    free(p->inst);
    free(p);
}

gw_pool *gw_pool_start(const gw_pool_config *cfg) {
    gw_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cfg = *cfg;
    p->inst = calloc(cfg->instances, sizeof *p->inst);
    pthread_condattr_t ca;
    bool ok = p->inst && pthread_condattr_init(&ca) == 0;
    if (ok) {
        ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&p->cond, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!ok || pthread_mutex_init(&p->mu, NULL) != 0) {
        gw_log("ERROR", "cannot set up the bootstrap pool");
        free(p->inst);
        free(p);
        return NULL;
    }
    for (unsigned i = 0; i < cfg->instances; i++)
        p->inst[i].index = (int)i;
    p->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (pthread_create(&p->supervisor, NULL, supervisor_main, p) != 0) {
        gw_log("ERROR", "cannot start the supervisor thread");
        release(p);
        return NULL;
    }
    return p;
}

void gw_pool_invoke(gw_pool *p, gw_invocation *inv) {
    buf_init(&inv->response, GW_LAMBDA_MAX_RESPONSE);
    inv->instance = -1;
    job j = {.inv = inv, .state = JOB_QUEUED, .enqueued_ms = ua_monotonic_ms(), .next = NULL};
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        inv->outcome = GW_OUT_SHUTDOWN;
        inv->request_id[0] = '\0';
    } else if (p->queued >= p->cfg.queue_max) {
        inv->outcome = GW_OUT_THROTTLED;
        inv->request_id[0] = '\0';
    } else {
        if (!inv->request_id[0])
            gw_uuid(inv->request_id);
        enqueue(p, &j);
        pthread_cond_broadcast(&p->cond);
        int64_t give_up = j.enqueued_ms + (int64_t)p->cfg.timeout_s * 1000;
        while (j.state != JOB_DONE) {
            if (j.state == JOB_RUNNING) {
                pthread_cond_wait(&p->cond, &p->mu); /* the supervisor ends it, at the latest */
            } else if (p->stopping) {
                unqueue(p, &j);
                inv->outcome = GW_OUT_SHUTDOWN;
                break;
            } else if (ua_monotonic_ms() >= give_up) {
                unqueue(p, &j);
                inv->outcome = GW_OUT_TIMEOUT;
                break;
            } else {
                wait_until(p, give_up);
            }
        }
    }
    pthread_mutex_unlock(&p->mu);
}

size_t gw_pool_pids(gw_pool *p, long *pids, size_t max) {
    size_t n = 0;
    pthread_mutex_lock(&p->mu);
    for (unsigned i = 0; i < p->cfg.instances && n < max; i++) {
        if (p->inst[i].pid > 0)
            pids[n++] = (long)p->inst[i].pid;
    }
    pthread_mutex_unlock(&p->mu);
    return n;
}

void gw_pool_stop(gw_pool *p) {
    pthread_mutex_lock(&p->mu);
    bool first = !p->stopped;
    p->stopping = true;
    p->stopped = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    if (first)
        pthread_join(p->supervisor, NULL);
}

void gw_pool_free(gw_pool *p) {
    if (!p)
        return;
    gw_pool_stop(p);
    release(p);
}
