/* fake_http.h — a scripted HTTP/1.1 server on 127.0.0.1 for tests: canned answers, faults,
 * and a record of every request it saw.
 *
 * The server runs in its own thread on an ephemeral port and keeps connections alive, so a
 * test can check that a client reuses its connection. A test queues responses (answered in
 * order; the default response once the queue is empty), runs the code under test, then reads
 * back the requests. All functions are safe to call while the server runs. */
#ifndef USERS_FAKE_HTTP_H
#define USERS_FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fake_http fake_http;

typedef enum fake_fault {
    FAKE_ANSWER = 0, /* answer normally (after stall_ms, when set) */
    FAKE_CLOSE,      /* read the request, close the connection without a word */
    FAKE_TRUNCATE,   /* announce the full Content-Length, send half the body, close */
    FAKE_BAD_CRC     /* answer with an x-amz-crc32 that does not match the body */
} fake_fault;

typedef struct fake_response {
    int status;          /* 200 when 0 */
    const char *headers; /* extra header lines, each ending "\r\n"; NULL for none. Copied. */
    const char *body;    /* NULL for none. Copied. */
    size_t body_len;     /* 0: strlen(body) */
    fake_fault fault;
    int stall_ms;   /* wait this long before answering (the client may give up) */
    bool crc;       /* add a correct x-amz-crc32 header, as DynamoDB does */
    bool close;     /* send "Connection: close" and close after answering */
    bool no_length; /* no Content-Length: the body ends when the connection closes */
} fake_response;

/* One request as received. Strings are NUL-terminated copies owned by the server. */
typedef struct fake_request {
    char method[16];
    char path[512];
    char *headers; /* the header lines, "Name: value\r\n" each, as sent */
    char *body;    /* body bytes plus a NUL */
    size_t body_len;
    unsigned connection; /* 1 for the first connection accepted, 2 for the next, ... */
} fake_request;

/* Starts a server; NULL on failure. */
fake_http *fake_http_start(void);
/* Stops the thread, closes every socket, frees everything (records included). */
void fake_http_stop(fake_http *f);

int fake_http_port(const fake_http *f);
/* "http://127.0.0.1:<port>", owned by f. */
const char *fake_http_url(const fake_http *f);

/* Queues r as the answer to the next unanswered request. */
void fake_http_push(fake_http *f, const fake_response *r);
/* The answer once the queue is empty (initially 404 with an empty body). */
void fake_http_set_default(fake_http *f, const fake_response *r);

size_t fake_http_request_count(fake_http *f);
size_t fake_http_connection_count(fake_http *f);
/* The i-th request (0-based), or NULL; valid until fake_http_stop or fake_http_reset. */
const fake_request *fake_http_request(fake_http *f, size_t i);
/* Forgets recorded requests, queued answers and counts; open connections stay open. */
void fake_http_reset(fake_http *f);

/* Value of header name (case-insensitive) in req, copied into out; false when absent. */
bool fake_request_header(const fake_request *req, const char *name, char *out, size_t out_len);

#endif
