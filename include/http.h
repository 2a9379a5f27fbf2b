/* http.h — the one place that owns libcurl: a reusable client, timeouts, keep-alive.
 *
 * A client holds one curl easy handle whose connection stays open across calls, so the
 * Runtime API and DynamoDB each pay their TCP/TLS set-up once per process, not per
 * invocation. Responses are read into bounded buffers. */
#ifndef USERS_HTTP_H
#define USERS_HTTP_H

#include "buf.h"
#include "common.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct http_client http_client;

typedef struct http_header {
    const char *name;  /* borrowed */
    const char *value; /* borrowed */
} http_header;

typedef struct http_call {
    const char *method; /* "GET", "POST" */
    const char *url;    /* borrowed, absolute */
    const http_header *headers;
    size_t n_headers;
    const char *body; /* NULL for none */
    size_t body_len;
    long timeout_ms;         /* whole call; 0 = no limit (Runtime API /next waits forever) */
    long connect_timeout_ms; /* 0 = curl's default */
    size_t max_response;     /* body bytes kept at most; more is HTTP_TOO_BIG */
    bool secret_headers;     /* a header carries a credential: our copies are wiped after use */
} http_call;

/* How a call ended, from the transport's point of view (an HTTP 500 is HTTP_DONE). */
typedef enum http_outcome {
    HTTP_DONE = 0, /* a full response arrived: look at status */
    HTTP_NOT_SENT, /* failed before the request could reach the server (DNS, connect, TLS) */
    HTTP_TIMEOUT,  /* the time limit passed; the server may have acted on the request */
    HTTP_BROKEN,   /* connection reset, truncated response; the server may have acted */
    HTTP_TOO_BIG,  /* body over max_response, or headers over UA_MAX_HEADER_BLOCK */
    HTTP_FAILED    /* anything else (out of memory, peer not trusted, bad URL or header) */
} http_outcome;

/* curl's message kept in http_result.error, with its NUL; a longer one is cut. */
#define HTTP_MAX_ERROR 128u

typedef struct http_result {
    long status;    /* HTTP status when HTTP_DONE, else 0 */
    unsigned sends; /* times the request went out: 0 when no connection was made, 2 when curl
                       found a reused connection dead and sent the request again on a new one
                       (the first may have reached the server and been acted on) */
    buf body;       /* response body; owned, reused across calls */
    buf headers;    /* response headers as "name: value\n" lines; owned, reused */
    char error[HTTP_MAX_ERROR]; /* curl's message when not HTTP_DONE */
} http_result;

/* Once per process, before any client (curl_global_init). */
UA_WARN_UNUSED ua_status http_global_init(void);
void http_global_cleanup(void);

/* A client with its own connection cache. ca_file may be NULL (OpenSSL's default paths). */
UA_WARN_UNUSED http_client *http_client_new(const char *ca_file);
void http_client_free(http_client *c);

void http_result_init(http_result *r);
void http_result_free(http_result *r);

/* Performs one call; r is reset first. Never follows redirects. */
UA_WARN_UNUSED http_outcome http_perform(http_client *c, const http_call *call, http_result *r);

/* Value of response header name (case-insensitive), trimmed; false when absent. Borrowed from
 * r->headers until the next call. */
UA_WARN_UNUSED bool http_result_header(const http_result *r, const char *name, ua_span *value);

/* An HTTP date (IMF-fixdate, as in a Date header, or the obsolete forms) as epoch seconds;
 * false when it is not one. */
UA_WARN_UNUSED bool http_parse_date(ua_span date, int64_t *epoch_s);

/* The CA bundle to verify peers with: $SSL_CERT_FILE if set, else the first that exists of
 * Amazon Linux's and Debian's bundle paths, else NULL. */
const char *http_default_ca_file(void);

#endif
