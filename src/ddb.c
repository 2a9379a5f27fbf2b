/* ddb.c — the DynamoDB client: signs JSON 1.0 requests, sends them, retries within a deadline. */
#include "ddb.h"
#include "clock.h"
#include "ddb_retry.h"
#include "ddb_txn.h"
#include "http.h"
#include "jparse.h"
#include "sigv4.h"
#include "span.h"

#include <openssl/crypto.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DDB_CONTENT_TYPE  "application/x-amz-json-1.0"
#define DDB_TARGET_PREFIX "DynamoDB_20120810."
#define DDB_MAX_AUTH      2048u /* an Authorization header value */
#define DDB_MAX_TARGET    64u   /* X-Amz-Target: the prefix and the longest operation name */
#define CRC32_MAX_DIGITS  10u   /* x-amz-crc32 is decimal: 4294967295 at most */
/* Longest X-Amzn-Trace-Id kept (Root, Parent, Sampled and some room), with its NUL. */
#define DDB_MAX_TRACE_HEADER 128u
/* The regional endpoint's URL, for the longest region the signer accepts. */
#define DDB_MAX_REGIONAL_URL                                                                       \
    (sizeof "https://dynamodb." - 1 + SIGV4_MAX_SCOPE_PART_LEN + sizeof ".amazonaws.com")

struct ddb_client {
    char *region;
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
    char *url;           /* where requests go: scheme://authority/path */
    char *host;          /* the Host header, signed and sent as is */
    char *path;          /* the request path, "/" unless the endpoint has one */
    http_client *http;
    sigv4_signer signer; /* caches the day's signing key */
    sigv4_output sig;    /* its authorization buf is reused across calls */
    char *req;           /* the request document of the current call, reused */
    size_t req_cap;
    http_result res;              /* reused: its bufs keep their memory */
    uint64_t rng;                 /* backoff jitter */
    int64_t clock_skew_s;         /* DynamoDB's clock less ours, learnt from its Date header */
    unsigned credential_failures; /* calls in a row whose answer refused our credentials */
    char trace_header[DDB_MAX_TRACE_HEADER]; /* X-Amzn-Trace-Id, "" for none */
};

/* How one attempt ended: a final status, or try again. */
typedef enum verdict {
    V_OK,
    V_CONDITION,
    V_FAILED,
    V_RETRY,      /* not applied (throttled, never sent): try again */
    V_RETRY_LOST, /* the answer was lost or damaged: it may have been applied; try again */
    V_SKEWED      /* refused for our clock, now corrected from the answer: sign again */
} verdict;

/* ---- Operations and replies ---- */

const char *ddb_op_name(ddb_op op) {
    static const char *const names[DDB_OP_COUNT] = {
        [DDB_PUT_ITEM] = "PutItem",
        [DDB_GET_ITEM] = "GetItem",
        [DDB_UPDATE_ITEM] = "UpdateItem",
        [DDB_DELETE_ITEM] = "DeleteItem",
        [DDB_SCAN] = "Scan",
        [DDB_QUERY] = "Query",
        [DDB_TRANSACT_WRITE_ITEMS] = "TransactWriteItems",
    };
    if ((unsigned)op >= DDB_OP_COUNT)
        return NULL;
    return names[op];
}

void ddb_reply_init(ddb_reply *r) {
    r->body = NULL;
    r->error_type[0] = '\0';
    r->attempts = 0;
    r->http_status = 0;
    r->request_id[0] = '\0';
    r->maybe_applied = false;
}

void ddb_reply_clear(ddb_reply *r) {
    json_decref(r->body);
    ddb_reply_init(r);
}

/* ---- Environment and configuration ---- */

const char *ddb_endpoint_from_env(void) {
    const char *v = getenv("AWS_ENDPOINT_URL_DYNAMODB");
    if (v && *v)
        return v;
    v = getenv("AWS_ENDPOINT_URL");
    return v && *v ? v : NULL;
}

static bool region_ok(const char *r) {
    size_t n = strlen(r);
    if (n == 0 || n > SIGV4_MAX_SCOPE_PART_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)r[i]) || isdigit((unsigned char)r[i]) || r[i] == '-'))
            return false;
    return true;
}

static bool printable(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
            return false;
    return true;
}

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Whether host (an authority without its port) names this machine: localhost, [::1], or an
 * IPv4 address in 127.0.0.0/8 written as a dotted quad. */
static bool loopback_host(const char *h, size_t n) {
    ua_span host = {h, n};
    if (ua_span_eq_ignore_case(host, "localhost") || ua_span_eq(host, ua_span_from_cstr("[::1]")))
        return true;
    if (n < 4 || memcmp(h, "127.", 4) != 0)
        return false;
    unsigned parts = 0, value = 0, digits = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || h[i] == '.') {
            if (digits == 0 || value > 255)
                return false;
            parts++, value = 0, digits = 0;
        } else if (isdigit((unsigned char)h[i]) && digits < 3) {
            value = value * 10 + (unsigned)(h[i] - '0'), digits++;
        } else {
            return false;
        }
    }
    return parts == 4;
}

/* Splits endpoint into the URL curl is given, the Host header and the request path. The Host
 * header is set explicitly (curl then sends ours), and it omits the scheme's default port as
 * curl and the SDKs do, so what is signed is what arrives. Plain http:// carries the signed
 * requests in the clear: it is taken only for loopback, unless the caller allows it. */
static bool parse_endpoint(ddb_client *c, const char *endpoint, bool allow_plain_http, char *err,
                           size_t err_len) {
    size_t scheme_len;
    bool https;
    ua_span url = ua_span_from_cstr(endpoint);
    if (ua_span_starts_with_ignore_case(url, "https://"))
        scheme_len = 8, https = true;
    else if (ua_span_starts_with_ignore_case(url, "http://"))
        scheme_len = 7, https = false;
    else {
        snprintf(err, err_len, "endpoint must start with http:// or https://");
        return false;
    }
    const char *auth = endpoint + scheme_len;
    size_t auth_len = strcspn(auth, "/?#");
    const char *path = auth + auth_len;
    size_t path_len = strlen(path);
    while (path_len > 0 && path[path_len - 1] == '/')
        path_len--;
    if (auth_len == 0 || memchr(auth, '@', auth_len) || !printable(endpoint) ||
        memchr(path, '?', path_len) || memchr(path, '#', path_len)) {
        snprintf(err, err_len, "endpoint is not scheme://host[:port][/path]");
        return false;
    }
    size_t host_len = auth_len, name_len = auth_len;
    const char *port = NULL;
    for (size_t i = auth_len; i > 0; i--) {
        if (auth[i - 1] == ':') {
            port = auth + i;
            break;
        }
        if (auth[i - 1] == ']' || !isdigit((unsigned char)auth[i - 1]))
            break;
    }
    if (port) {
        name_len = (size_t)(port - 1 - auth);
        size_t port_len = (size_t)(auth + auth_len - port);
        if ((https && port_len == 3 && memcmp(port, "443", 3) == 0) ||
            (!https && port_len == 2 && memcmp(port, "80", 2) == 0))
            host_len = name_len;
    }
    if (!https && !allow_plain_http && !loopback_host(auth, name_len)) {
        snprintf(err, err_len,
                 "endpoint %.*s is plain http:// off loopback (127.0.0.0/8, [::1], localhost); "
                 "use https:// or set USERS_ALLOW_HTTP_ENDPOINT=1",
                 (int)(scheme_len + auth_len), endpoint);
        return false;
    }
    c->host = dup_n(auth, host_len);
    c->path = path_len ? dup_n(path, path_len) : dup_n("/", 1);
    size_t url_len = scheme_len + auth_len + strlen(c->path ? c->path : "") + 1;
    c->url = malloc(url_len);
    if (!c->host || !c->path || !c->url) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    snprintf(c->url, url_len, "%.*s%s", (int)(scheme_len + auth_len), endpoint, c->path);
    return true;
}

/* The seed for backoff jitter: from the kernel, or failing that from the clock. */
static uint64_t random_seed(void) {
    uint64_t seed = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, &seed, sizeof seed);
        close(fd);
        if (n == (ssize_t)sizeof seed)
            return seed;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
}

/* splitmix64: jitter only needs to be spread out, not unpredictable. */
static uint32_t next_random(ddb_client *c) {
    uint64_t z = (c->rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static bool config_ok(const ddb_config *cfg, char *err, size_t err_len) {
    if (!cfg || !cfg->region || !region_ok(cfg->region)) {
        snprintf(err, err_len, "region missing or malformed");
        return false;
    }
    if (!cfg->access_key_id || !*cfg->access_key_id || !cfg->secret_access_key ||
        !*cfg->secret_access_key) {
        snprintf(err, err_len, "credentials missing");
        return false;
    }
    return true;
}

ddb_client *ddb_client_new(const ddb_config *cfg, char *err, size_t err_len) {
    char regional[DDB_MAX_REGIONAL_URL];
    if (!config_ok(cfg, err, err_len))
        return NULL;
    ddb_client *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    sigv4_signer_init(&c->signer);
    buf_init_secret(&c->sig.authorization, DDB_MAX_AUTH);
    http_result_init(&c->res);
    c->rng = random_seed();

    const char *endpoint = cfg->endpoint;
    if (!endpoint || !*endpoint) {
        snprintf(regional, sizeof regional, "https://dynamodb.%s.amazonaws.com", cfg->region);
        endpoint = regional;
    }
    if (!parse_endpoint(c, endpoint, cfg->allow_plain_http, err, err_len))
        goto fail;
    const char *ca = cfg->ca_file ? cfg->ca_file : http_default_ca_file();
    c->region = strdup(cfg->region);
    c->access_key_id = strdup(cfg->access_key_id);
    c->secret_access_key = strdup(cfg->secret_access_key);
    if (cfg->session_token && *cfg->session_token)
        c->session_token = strdup(cfg->session_token);
    c->http = http_client_new(ca);
    if (!c->region || !c->access_key_id || !c->secret_access_key || !c->http ||
        (cfg->session_token && *cfg->session_token && !c->session_token)) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    return c;
fail:
    ddb_client_free(c);
    return NULL;
}

/* Overwrites a secret before its memory goes back to the allocator. */
static void free_secret(char *s) {
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void ddb_client_free(ddb_client *c) {
    if (!c)
        return;
    http_client_free(c->http);
    http_result_free(&c->res);
    buf_free(&c->sig.authorization);
    OPENSSL_cleanse(c->sig.signature, sizeof c->sig.signature);
    sigv4_signer_init(&c->signer);
    free_secret(c->secret_access_key);
    free_secret(c->session_token);
    free(c->access_key_id);
    free(c->region);
    free(c->url);
    free(c->host);
    free(c->path);
    free(c->req);
    free(c);
}

/* ---- One call ---- */

static void sleep_ms(int64_t ms) {
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Serialises request into c->req, growing it when needed. Returns the length, 0 on failure. */
static size_t serialise(ddb_client *c, const json_t *request) {
    size_t n = json_dumpb(request, c->req, c->req_cap, JSON_COMPACT);
    if (n == 0 || n > DDB_MAX_REQUEST_BYTES)
        return 0;
    if (n > c->req_cap) {
        char *grown = realloc(c->req, n);
        if (!grown)
            return 0;
        c->req = grown;
        c->req_cap = n;
        if (json_dumpb(request, c->req, c->req_cap, JSON_COMPACT) != n)
            return 0;
    }
    return n;
}

bool ddb_parse_error_type(const json_t *body, char *out, size_t out_len) {
    const json_t *t = json_object_get(body, "__type");
    if (out_len == 0)
        return false;
    out[0] = '\0';
    if (!json_is_string(t))
        return false;
    const char *s = json_string_value(t);
    size_t len = json_string_length(t);
    const char *hash = memchr(s, '#', len);
    if (hash) {
        len -= (size_t)(hash + 1 - s);
        s = hash + 1;
    }
    if (len == 0 || len >= out_len || memchr(s, '\0', len))
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

/* CRC-32 (reflected polynomial 0xEDB88320) four bits at a time: a constant 16-entry table,
 * no initialisation, safe from any thread, and quick enough for a 1 MB page. */
uint32_t ddb_crc32(const void *data, size_t len) {
    static const uint32_t nibble[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
        0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
        0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
    };
    const unsigned char *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ nibble[crc & 0x0F];
        crc = (crc >> 4) ^ nibble[crc & 0x0F];
    }
    return crc ^ 0xFFFFFFFFu;
}

/* Whether the response carries an x-amz-crc32 that disagrees with its body. */
static bool crc_mismatch(const http_result *res) {
    ua_span v;
    if (!http_result_header(res, "x-amz-crc32", &v))
        return false;
    if (v.len == 0 || v.len > CRC32_MAX_DIGITS)
        return true;
    uint64_t want = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (!isdigit((unsigned char)v.ptr[i]))
            return true;
        want = want * 10 + (uint64_t)(v.ptr[i] - '0');
    }
    return want != ddb_crc32(res->body.data, res->body.len);
}

/* When DynamoDB gave no answer to name, error_type says what went wrong instead, for the log:
 * what, then curl's message when there is one. */
static void no_answer(ddb_reply *reply, const char *what, const char *detail) {
    const char *parts[] = {what, detail && *detail ? ": " : "", detail ? detail : ""};
    size_t n = 0, room = sizeof reply->error_type;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        for (const char *p = parts[i]; *p && n + 1 < room; p++) /* cut, never overrun */
            reply->error_type[n++] = *p;
    reply->error_type[n] = '\0';
}

/* Whether DynamoDB refused our credentials: a wrong key or signature, an expired or missing
 * token. A fresh environment gets fresh credentials; a retry here would not. */
static bool credentials_refused(const char *type) {
    static const char *const types[] = {"UnrecognizedClientException", "InvalidSignatureException",
                                        "ExpiredTokenException",
                                        "MissingAuthenticationTokenException"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return false;
}

/* When the refusal blames our clock ("Signature expired: ..." or "Signature not yet current:
 * ..."), learns DynamoDB's clock from the answer's Date header. true when that changed the
 * skew, so that signing again can succeed. */
static bool correct_clock(ddb_client *c, const char *type, const json_t *body) {
    const char *msg = json_string_value(json_object_get(body, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(body, "Message"));
    bool skewed = strcmp(type, "RequestTimeTooSkewed") == 0 ||
                  (strcmp(type, "InvalidSignatureException") == 0 && msg &&
                   (strstr(msg, "Signature expired") || strstr(msg, "Signature not yet current")));
    ua_span date;
    int64_t server_s;
    if (!skewed || !http_result_header(&c->res, "Date", &date) || !http_parse_date(date, &server_s))
        return false;
    int64_t skew = server_s - (int64_t)time(NULL);
    if (skew == c->clock_skew_s)
        return false;
    c->clock_skew_s = skew;
    return true;
}

/* Judges a complete answer: a result, a condition failure, or an error to retry or not. */
static verdict judge(ddb_client *c, ddb_reply *reply) {
    /* A damaged or unparseable body is treated like a dropped connection. */
    if (crc_mismatch(&c->res)) {
        no_answer(reply, "reply failed its CRC32 check", NULL);
        return V_RETRY_LOST;
    }
    /* Items written by other clients may hold U+0000; that is theirs to judge, not a bad reply. */
    reply->body =
        jparse(c->res.body.data ? c->res.body.data : "", c->res.body.len, JPARSE_ALLOW_NUL, NULL);
    if (!json_is_object(reply->body)) {
        json_decref(reply->body);
        reply->body = NULL;
        no_answer(reply, "reply is not a JSON object", NULL);
        return ddb_is_retryable(c->res.status, NULL) || c->res.status < 300 ? V_RETRY_LOST
                                                                            : V_FAILED;
    }
    if (c->res.status >= 200 && c->res.status < 300)
        return V_OK;
    /* An error without a readable __type (error_type is then "") is judged by its status. */
    bool typed = ddb_parse_error_type(reply->body, reply->error_type, sizeof reply->error_type);
    /* A 5xx may come after the write was applied (InternalServerError says so); a 4xx is
     * DynamoDB's refusal to act. */
    if (ddb_is_retryable(c->res.status, typed ? reply->error_type : NULL))
        return c->res.status >= 500 ? V_RETRY_LOST : V_RETRY;
    if (strcmp(reply->error_type, "ConditionalCheckFailedException") == 0)
        return V_CONDITION;
    if (strcmp(reply->error_type, "TransactionCanceledException") == 0) {
        static const verdict by_txn[] = {[DDB_TXN_CONDITION] = V_CONDITION,
                                         [DDB_TXN_RETRY] = V_RETRY,
                                         [DDB_TXN_FAILED] = V_FAILED};
        return by_txn[ddb_txn_judge(reply->body)];
    }
    if (correct_clock(c, reply->error_type, reply->body))
        return V_SKEWED;
    return V_FAILED;
}

/* The answer's x-amzn-RequestId into reply, when it is plain and fits; else "". */
static void keep_request_id(const ddb_client *c, http_outcome out, ddb_reply *reply) {
    ua_span v;
    reply->request_id[0] = '\0';
    if (out != HTTP_DONE || !http_result_header(&c->res, "x-amzn-RequestId", &v) ||
        v.len >= sizeof reply->request_id)
        return;
    for (size_t i = 0; i < v.len; i++) {
        char ch = v.ptr[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-'))
            return;
    }
    memcpy(reply->request_id, v.ptr, v.len);
    reply->request_id[v.len] = '\0';
}

/* Signs and sends the request once, then judges the answer. */
static verdict attempt(ddb_client *c, const char *target, size_t body_len, int64_t timeout_ms,
                       ddb_reply *reply) {
    const sigv4_credentials creds = {c->access_key_id, c->secret_access_key, c->session_token};
    const sigv4_header signed_headers[] = {
        {"Content-Type", DDB_CONTENT_TYPE}, {"Host", c->host}, {"X-Amz-Target", target}};
    const sigv4_request sreq = {.method = "POST",
                                .path = c->path,
                                .headers = signed_headers,
                                .n_headers = 3,
                                .body = c->req,
                                .body_len = body_len,
                                .normalize_path = true};
    time_t now = (time_t)((int64_t)time(NULL) + c->clock_skew_s);
    if (sigv4_sign(&c->signer, &creds, c->region, "dynamodb", now, &sreq, &c->sig) != UA_OK)
        return V_FAILED;

    http_header headers[8] = {
        {"Content-Type", DDB_CONTENT_TYPE},
        {"X-Amz-Target", target},
        {"Host", c->host},
        {"X-Amz-Date", c->sig.amz_date},
        {"Accept-Encoding", "identity"},
        {"Authorization", buf_str(&c->sig.authorization)},
    };
    size_t n_headers = 6;
    if (c->session_token)
        headers[n_headers++] = (http_header){"X-Amz-Security-Token", c->session_token};
    if (c->trace_header[0])
        headers[n_headers++] = (http_header){"X-Amzn-Trace-Id", c->trace_header};
    int64_t connect_ms =
        timeout_ms < UA_DDB_CONNECT_TIMEOUT_MS ? timeout_ms : UA_DDB_CONNECT_TIMEOUT_MS;
    const http_call call = {
        .method = "POST",
        .url = c->url,
        .headers = headers,
        .n_headers = n_headers,
        .body = c->req,
        .body_len = body_len,
        .timeout_ms = (long)timeout_ms,
        .connect_timeout_ms = (long)connect_ms,
        .max_response = UA_MAX_DDB_RESPONSE,
        .secret_headers = true,
    };
    http_outcome out = http_perform(c->http, &call, &c->res);
    /* The signature is done with: wipe it (the Authorization buf is wiped when next reset). */
    OPENSSL_cleanse(c->sig.signature, sizeof c->sig.signature);

    /* curl counts as one call a request it sent twice (a reused connection found dead): the
     * count is of requests that went out, and the first of two may have been applied. */
    reply->attempts += c->res.sends > 1 ? c->res.sends : 1;
    if (c->res.sends > 1)
        reply->maybe_applied = true;
    reply->http_status = out == HTTP_DONE ? c->res.status : 0;
    reply->error_type[0] = '\0';
    keep_request_id(c, out, reply);
    json_decref(reply->body);
    reply->body = NULL;
    switch (out) {
        case HTTP_DONE:
            return judge(c, reply);
        case HTTP_NOT_SENT:
        case HTTP_TIMEOUT:
        case HTTP_BROKEN:
            no_answer(reply, "transport", c->res.error);
            return c->res.sends > 0 ? V_RETRY_LOST : V_RETRY;
        case HTTP_TOO_BIG:
        case HTTP_FAILED:
            no_answer(reply, out == HTTP_TOO_BIG ? "reply too large" : "transport", c->res.error);
            if (c->res.sends > 0)
                reply->maybe_applied = true;
            return V_FAILED;
    }
    return V_FAILED;
}

/* Ends a call: counts credential refusals in a row (any other answer from DynamoDB resets the
 * count; no answer at all proves nothing), and past the limit answers DDB_UNAVAILABLE. */
static ddb_status finish(ddb_client *c, ddb_status st, const ddb_reply *reply) {
    if (st == DDB_FAILED && credentials_refused(reply->error_type))
        c->credential_failures++;
    else if (reply->http_status != 0)
        c->credential_failures = 0;
    if (st == DDB_FAILED && ddb_client_credentials_dead(c))
        return DDB_UNAVAILABLE;
    return st;
}

bool ddb_client_credentials_dead(const ddb_client *c) {
    return c && c->credential_failures >= UA_DDB_CREDENTIAL_FAILURE_LIMIT;
}

ddb_status ddb_client_call(ddb_client *c, ddb_op op, const json_t *request, int64_t deadline_ms,
                           ddb_reply *reply) {
    char target[DDB_MAX_TARGET];
    const char *name = ddb_op_name(op);

    ddb_reply_clear(reply);
    if (!c || !name || !request)
        return DDB_FAILED;
    snprintf(target, sizeof target, DDB_TARGET_PREFIX "%s", name);
    size_t body_len = serialise(c, request);
    if (body_len == 0)
        return DDB_FAILED;
    if (deadline_ms <= 0)
        deadline_ms = ua_wall_ms() + DDB_DEFAULT_DEADLINE_MS;
    const int64_t stop_at = deadline_ms - UA_DEADLINE_MARGIN_MS;
    bool resigned = false; /* the clock is corrected once per call at most */

    for (unsigned n = 1;; n++) {
        int64_t left = stop_at - ua_wall_ms();
        if (left <= 0) {
            if (n == 1)
                no_answer(reply, "no time left for a request", NULL);
            return DDB_UNAVAILABLE;
        }
        verdict v = attempt(c, target, body_len, ddb_attempt_timeout_ms(left), reply);
        switch (v) {
            case V_OK:
                return finish(c, DDB_OK, reply);
            case V_CONDITION:
                return finish(c, DDB_CONDITION_FAILED, reply);
            case V_SKEWED:
                if (resigned)
                    return finish(c, DDB_FAILED, reply);
                resigned = true;
                break;
            case V_FAILED:
                return finish(c, DDB_FAILED, reply);
            case V_RETRY_LOST:
                reply->maybe_applied = true;
                break;
            case V_RETRY:
                break;
        }
        if (n >= UA_DDB_MAX_ATTEMPTS)
            return DDB_UNAVAILABLE;
        if (v == V_SKEWED)
            continue; /* not a fault of DynamoDB's: no pause */
        /* A pause that would leave no time for another attempt is not worth taking. */
        int64_t pause = ddb_backoff_ms(n, next_random(c));
        if (pause >= stop_at - ua_wall_ms())
            return DDB_UNAVAILABLE;
        sleep_ms(pause);
    }
}

void ddb_client_set_trace_header(ddb_client *c, const char *value) {
    if (!c)
        return;
    c->trace_header[0] = '\0';
    if (value && strlen(value) < sizeof c->trace_header)
        snprintf(c->trace_header, sizeof c->trace_header, "%s", value);
}

static ddb_status port_call(void *ctx, ddb_op op, const json_t *request, int64_t deadline_ms,
                            ddb_reply *reply) {
    return ddb_client_call(ctx, op, request, deadline_ms, reply);
}

ddb_port ddb_client_port(ddb_client *c) {
    return (ddb_port){.call = port_call, .ctx = c};
}
