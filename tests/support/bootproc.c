/* bootproc.c — the real bootstrap as a child process, for tests (see bootproc.h). */
#include "bootproc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_ENV 64

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads the whole file at fd from the start, NUL-terminated. */
static char *slurp(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0 || lseek(fd, 0, SEEK_SET) != 0)
        return NULL;
    size_t n = (size_t)st.st_size;
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    p[got] = '\0';
    return p;
}

static int temp_file(void) {
    char name[] = "/tmp/bootproc-XXXXXX";
    int fd = mkstemp(name);
    if (fd >= 0)
        unlink(name);
    return fd;
}

/* Adds "NAME=value" to env, replacing an entry of the same name; "NAME=" alone removes it. */
static void env_set(char **env, size_t *n, char *entry) {
    size_t name_len = strcspn(entry, "=");
    for (size_t i = 0; i < *n; i++) {
        if (strncmp(env[i], entry, name_len + 1) == 0) {
            if (entry[name_len + 1] == '\0') {
                env[i] = env[--*n];
                env[*n] = NULL;
            } else {
                env[i] = entry;
            }
            return;
        }
    }
    if (entry[name_len] == '=' && entry[name_len + 1] != '\0' && *n + 1 < MAX_ENV)
        env[(*n)++] = entry;
    env[*n] = NULL;
}

bool bootproc_run(const char *path, fake_http *runtime, fake_http *ddb, const char *const *extra,
                  int timeout_ms, bootproc *out) {
    static char api[64], endpoint[96];
    memset(out, 0, sizeof *out);
    snprintf(api, sizeof api, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", fake_http_port(runtime));
    snprintf(endpoint, sizeof endpoint, "AWS_ENDPOINT_URL_DYNAMODB=%s",
             ddb ? fake_http_url(ddb) : "http://127.0.0.1:9");
    char *env[MAX_ENV + 1] = {NULL};
    size_t n = 0;
    static char *const base[] = {"USERS_TABLE=UsersTable",
                                 "AWS_REGION=eu-west-1",
                                 "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
                                 "AWS_SECRET_ACCESS_KEY=bootprocSecretNeverLogged",
                                 "LOG_LEVEL=INFO",
                                 NULL};
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0 || strstr(*e, "SAN_OPTIONS="))
            env_set(env, &n, *e);
    for (size_t i = 0; base[i]; i++)
        env_set(env, &n, base[i]);
    env_set(env, &n, api);
    env_set(env, &n, endpoint);
    for (size_t i = 0; extra && extra[i]; i++)
        env_set(env, &n, (char *)extra[i]);

    int fd_out = temp_file(), fd_err = temp_file();
    if (fd_out < 0 || fd_err < 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fd_out, 1);
    posix_spawn_file_actions_adddup2(&fa, fd_err, 2);
    char *argv[] = {(char *)path, NULL};
    pid_t pid;
    double start = now_ms();
    int rc = posix_spawn(&pid, path, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        close(fd_out);
        close(fd_err);
        return false;
    }

    int wstatus = 0;
    out->status = -1;
    for (;;) {
        pid_t w = waitpid(pid, &wstatus, WNOHANG);
        if (w == pid) {
            out->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
        if (now_ms() - start > timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &wstatus, 0);
            break;
        }
        struct timespec pause = {0, 2000000};
        nanosleep(&pause, NULL);
    }
    out->elapsed_ms = now_ms() - start;
    out->out = slurp(fd_out);
    out->err = slurp(fd_err);
    close(fd_out);
    close(fd_err);
    return true;
}

void bootproc_free(bootproc *p) {
    free(p->out);
    free(p->err);
    p->out = p->err = NULL;
}

bool bootproc_sanitizer_report(const bootproc *p) {
    return p->err && (strstr(p->err, "Sanitizer") || strstr(p->err, "runtime error:"));
}

void bootproc_push_event(fake_http *runtime, const char *request_id, const char *event, size_t len,
                         long deadline_ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long deadline = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + deadline_ms;
    char headers[512];
    snprintf(headers, sizeof headers,
             "Content-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: %s\r\n"
             "Lambda-Runtime-Deadline-Ms: %lld\r\n"
             "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:123456789012:"
             "function:users\r\n",
             request_id, deadline);
    fake_http_push(
        runtime,
        &(fake_response){.headers = headers, .body = event, .body_len = len ? len : strlen(event)});
}

void bootproc_push_accepted(fake_http *runtime) {
    fake_http_push(runtime, &(fake_response){.status = 202,
                                             .headers = "Content-Type: application/json\r\n",
                                             .body = "{\"status\":\"OK\"}"});
}

const fake_request *bootproc_find(fake_http *runtime, const char *suffix, size_t nth) {
    size_t n = fake_http_request_count(runtime), len = strlen(suffix);
    for (size_t i = 0; i < n; i++) {
        const fake_request *r = fake_http_request(runtime, i);
        size_t plen = strlen(r->path);
        if (plen >= len && strcmp(r->path + plen - len, suffix) == 0 && nth-- == 0)
            return r;
    }
    return NULL;
}
