/* http.c — the one place that owns libcurl: a reusable easy handle per client (see http.h). */
#include "http.h"

#include "span.h"

#include <curl/curl.h>
#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct http_client {
    CURL *easy; /* kept across calls: its connection cache is the keep-alive */
    char *ca_file;
    buf line; /* one request header being formatted for curl; wiped when it may hold a secret */
    char errbuf[CURL_ERROR_SIZE];
};

/* Longest request header line we format: session tokens run past a kilobyte. */
#define HTTP_MAX_HEADER_LINE 16384u
/* TCP keep-alive on the kept connections: first probe after this long idle, then this often,
 * so a connection that died while the function was idle is found before it is reused. */
#define HTTP_KEEPALIVE_IDLE_S     30L
#define HTTP_KEEPALIVE_INTERVAL_S 15L
/* An HTTP date is 29 bytes ("Sun, 06 Nov 1994 08:49:37 GMT"); anything this long is not one. */
#define HTTP_MAX_DATE 64u

/* What the callbacks of one call write into. */
typedef struct call_state {
    http_result *r;
    unsigned sends;          /* times curl was about to send the request */
    ua_status body_status;   /* first failure appending the body */
    ua_status header_status; /* first failure appending a header */
} call_state;

ua_status http_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? UA_OK : UA_ERR_IO;
}

void http_global_cleanup(void) {
    curl_global_cleanup();
}

const char *http_default_ca_file(void) {
    static const char *const bundles[] = {
        "/etc/pki/tls/certs/ca-bundle.crt",   /* Amazon Linux, Lambda */
        "/etc/ssl/certs/ca-certificates.crt", /* Debian */
    };
    const char *env = getenv("SSL_CERT_FILE");
    if (env && *env)
        return env;
    for (size_t i = 0; i < sizeof bundles / sizeof bundles[0]; i++)
        if (access(bundles[i], R_OK) == 0)
            return bundles[i];
    return NULL;
}

/* Options that never change for the life of the handle. */
static bool setup_handle(http_client *c) {
    CURL *e = c->easy;
    bool ok = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, HTTP_KEEPALIVE_IDLE_S) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, HTTP_KEEPALIVE_INTERVAL_S) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) == CURLE_OK &&
              /* The body we read is the body the server checksummed (x-amz-crc32). */
              curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL) == CURLE_OK;
    if (ok && c->ca_file)
        ok = curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) == CURLE_OK;
    return ok;
}

http_client *http_client_new(const char *ca_file) {
    http_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    buf_init(&c->line, HTTP_MAX_HEADER_LINE);
    if (ca_file && !(c->ca_file = strdup(ca_file)))
        goto fail;
    if (!(c->easy = curl_easy_init()) || !setup_handle(c))
        goto fail;
    return c;
fail:
    http_client_free(c);
    return NULL;
}

void http_client_free(http_client *c) {
    if (!c)
        return;
    if (c->easy)
        curl_easy_cleanup(c->easy);
    buf_free(&c->line);
    free(c->ca_file);
    free(c);
}

void http_result_init(http_result *r) {
    r->status = 0;
    r->sends = 0;
    buf_init(&r->body, 0);
    buf_init(&r->headers, UA_MAX_HEADER_BLOCK);
    r->error[0] = '\0';
}

void http_result_free(http_result *r) {
    buf_free(&r->body);
    buf_free(&r->headers);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
    call_state *st = userdata;
    size_t n = size * nmemb;
    ua_status s = buf_append(&st->r->body, ptr, n);
    if (s != UA_OK) {
        st->body_status = s;
        return 0; /* anything but n makes curl abort with CURLE_WRITE_ERROR */
    }
    return n;
}

/* curl hands over one raw header line at a time, the status line included. A status line
 * starts a new response (after a 100 Continue, say): only the last response's headers stay. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata) {
    call_state *st = userdata;
    size_t n = size * nmemb, len = n;
    if (len >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        buf_reset(&st->r->headers);
        return n;
    }
    while (len > 0 && (ptr[len - 1] == '\r' || ptr[len - 1] == '\n'))
        len--;
    if (len == 0 || !memchr(ptr, ':', len))
        return n; /* the blank line ending the block, or a line we cannot use */
    ua_status s = buf_append(&st->r->headers, ptr, len);
    if (s == UA_OK)
        s = buf_append_char(&st->r->headers, '\n');
    if (s != UA_OK) {
        st->header_status = s;
        return 0;
    }
    return n;
}

/* curl calls this each time it is about to send the request: once, or twice when it found a
 * reused connection dead after sending and silently sent the request again on a new one. */
static int on_send(void *userdata, char *primary_ip, char *local_ip, int primary_port,
                   int local_port) {
    (void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
    ((call_state *)userdata)->sends++;
    return CURL_PREREQFUNC_OK;
}

/* Frees a header list, wiping each line first when one may hold a secret (Authorization,
 * X-Amz-Security-Token). (curl's own copy of the request, in its send buffer, is not ours to
 * wipe.) */
static void free_headers(struct curl_slist *list, bool wipe) {
    for (struct curl_slist *l = list; wipe && l; l = l->next)
        OPENSSL_cleanse(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

/* No CR or LF may reach the wire from a header we were given. */
static bool header_safe(const char *s) {
    return strpbrk(s, "\r\n") == NULL;
}

/* One "Name: value" line for curl into line; "Name;" is curl's way to send an empty value. */
static ua_status format_header(buf *line, const char *name, const char *value) {
    buf_reset(line);
    if (!name || !value || !*name || strpbrk(name, ": \t") || !header_safe(name) ||
        !header_safe(value))
        return UA_ERR_INVALID;
    return *value ? buf_appendf(line, "%s: %s", name, value) : buf_appendf(line, "%s;", name);
}

/* The request headers as curl wants them. curl's own Expect and Accept are switched off. */
static ua_status build_headers(http_client *c, const http_call *call, struct curl_slist **out) {
    static const http_header off[] = {{"Expect", NULL}, {"Accept", NULL}};
    struct curl_slist *list = NULL, *next;
    *out = NULL;
    c->line.wipe = call->secret_headers; /* each reset below then wipes the line before */
    for (size_t i = 0; i < call->n_headers + 2; i++) {
        ua_status s;
        if (i < call->n_headers)
            s = format_header(&c->line, call->headers[i].name, call->headers[i].value);
        else {
            buf_reset(&c->line);
            s = buf_appendf(&c->line, "%s:", off[i - call->n_headers].name);
        }
        if (s == UA_OK && !(next = curl_slist_append(list, buf_str(&c->line))))
            s = UA_ERR_NOMEM;
        if (s != UA_OK) {
            buf_reset(&c->line);
            free_headers(list, call->secret_headers);
            return s;
        }
        list = next;
    }
    buf_reset(&c->line); /* wiped: the last line formatted may be a secret */
    *out = list;
    return UA_OK;
}

/* max_response as curl's early size check wants it (0 there means no limit; the write
 * callback enforces the exact bound either way). */
static curl_off_t size_limit(size_t max) {
    return max > (size_t)INT64_MAX ? 0 : (curl_off_t)max;
}

/* Sets what differs between calls. The handle keeps options from the previous call, so every
 * per-call option is set every time. */
static bool set_call_options(CURL *e, const http_call *call, struct curl_slist *headers,
                             call_state *st) {
    bool post = strcmp(call->method, "POST") == 0;
    bool get = strcmp(call->method, "GET") == 0;
    bool ok =
        curl_easy_setopt(e, CURLOPT_URL, call->url) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, call->timeout_ms) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, call->connect_timeout_ms) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, size_limit(call->max_response)) ==
            CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_WRITEDATA, st) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_HEADERDATA, st) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_send) == CURLE_OK &&
        curl_easy_setopt(e, CURLOPT_PREREQDATA, st) == CURLE_OK;
    if (!ok)
        return false;
    if (get)
        return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK &&
               curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL) == CURLE_OK;
    /* POST and anything else carry the body (possibly empty) as given. */
    return curl_easy_setopt(e, CURLOPT_POST, 1L) == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->body ? call->body : "") == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                            (curl_off_t)(call->body ? call->body_len : 0)) == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, post ? NULL : call->method) == CURLE_OK;
}

static http_outcome outcome_of(CURLcode rc, const call_state *st) {
    switch (rc) {
        case CURLE_OK:
            return HTTP_DONE;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SSL_CONNECT_ERROR: /* the handshake broke: no request was sent */
            return HTTP_NOT_SENT;
        case CURLE_OPERATION_TIMEDOUT:
            return HTTP_TIMEOUT;
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
            return HTTP_BROKEN;
        case CURLE_FILESIZE_EXCEEDED:
            return HTTP_TOO_BIG;
        case CURLE_WRITE_ERROR:
            if (st->body_status == UA_ERR_TOO_BIG || st->header_status == UA_ERR_TOO_BIG)
                return HTTP_TOO_BIG;
            return HTTP_FAILED;
        default:
            return HTTP_FAILED;
    }
}

/* Keeps the start of curl's message: a cut message is still useful, so no truncation check. */
static void set_error(http_result *r, const char *msg) {
    size_t n = strnlen(msg, sizeof r->error - 1);
    memcpy(r->error, msg, n);
    r->error[n] = '\0';
}

http_outcome http_perform(http_client *c, const http_call *call, http_result *r) {
    call_state st = {.r = r, .body_status = UA_OK, .header_status = UA_OK};
    struct curl_slist *headers = NULL;

    r->status = 0;
    r->sends = 0;
    r->error[0] = '\0';
    buf_reset(&r->body);
    buf_reset(&r->headers);
    r->body.max = call->max_response;
    r->headers.max = UA_MAX_HEADER_BLOCK;

    if (!call->url || !call->method || build_headers(c, call, &headers) != UA_OK) {
        set_error(r, "bad request description");
        return HTTP_FAILED;
    }
    c->errbuf[0] = '\0';
    if (!set_call_options(c->easy, call, headers, &st)) {
        free_headers(headers, call->secret_headers);
        set_error(r, "curl refused an option");
        return HTTP_FAILED;
    }
    CURLcode rc = curl_easy_perform(c->easy);
    /* The list must not outlive this call but the handle still points at it. */
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
    free_headers(headers, call->secret_headers);
    r->sends = st.sends;

    http_outcome out = outcome_of(rc, &st);
    if (out == HTTP_DONE) {
        long status = 0;
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
        r->status = status;
    } else {
        set_error(r, c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    }
    return out;
}

bool http_parse_date(ua_span date, int64_t *epoch_s) {
    char text[HTTP_MAX_DATE];
    if (date.len == 0 || date.len >= sizeof text || memchr(date.ptr, '\0', date.len))
        return false;
    memcpy(text, date.ptr, date.len);
    text[date.len] = '\0';
    time_t t = curl_getdate(text, NULL);
    if (t == (time_t)-1)
        return false;
    *epoch_s = (int64_t)t;
    return true;
}

bool http_result_header(const http_result *r, const char *name, ua_span *value) {
    const char *p = r->headers.data, *end = p + r->headers.len;
    size_t name_len = strlen(name);
    /* memchr over the block rather than span.h's split: this runs several times per call. */
    for (const char *eol; p && p < end; p = eol + 1) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon && (size_t)(colon - p) == name_len &&
            ua_span_eq_ignore_case((ua_span){p, name_len}, name)) {
            *value = ua_span_trim((ua_span){colon + 1, (size_t)(eol - colon - 1)}, UA_OWS "\r");
            return true;
        }
    }
    return false;
}
