/* xray.h — AWS X-Ray subsegments, sent to the X-Ray daemon over UDP.
 *
 * Lambda runs a daemon for a traced function and names it in AWS_XRAY_DAEMON_ADDRESS. Each
 * document is one datagram: the header {"format": "json", "version": 1}, a newline, then the
 * segment document. Sending never blocks and never resolves a name: the address must be
 * numeric (Lambda's is), read once at start; a datagram the socket cannot take is dropped, so
 * a missing or dead daemon costs an invocation nothing. */
#ifndef USERS_XRAY_H
#define USERS_XRAY_H

#include "buf.h"
#include "common.h"
#include "trace.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest datagram built (the daemon takes up to 64 KB; ours are a few hundred bytes). */
#define XRAY_MAX_DATAGRAM 4096u

typedef struct xray_daemon xray_daemon;

/* Opens a non-blocking UDP socket towards address: "127.0.0.1:2000", "[::1]:2000", or the
 * SDKs' "tcp:127.0.0.1:2000 udp:127.0.0.1:2000" (its udp: part). NULL when address is NULL
 * or "" (no daemon: nothing is sent), or when it is not a numeric address and port (why in
 * err) or the socket cannot be made. The caller frees it with xray_daemon_close. */
UA_WARN_UNUSED xray_daemon *xray_daemon_open(const char *address, char *err, size_t err_len);
void xray_daemon_close(xray_daemon *d);

/* Sends len bytes of datagram as one datagram, without waiting. false when it was dropped. */
bool xray_daemon_send(xray_daemon *d, const char *datagram, size_t len);

/* Datagrams sent and dropped since the daemon was opened (for tests and the start-up line). */
void xray_daemon_counts(const xray_daemon *d, unsigned long *sent, unsigned long *dropped);

/* One call to an AWS service, as a subsegment sent on its own. Strings are borrowed;
 * request_id may be NULL or "" (not known), table_names holds n_tables names (1 or more). */
typedef struct xray_subsegment {
    char id[TRACE_ID_LEN + 1];
    const char *trace_id;     /* the invocation's Root */
    const char *parent_id;    /* the invocation's Parent (Lambda's function segment) */
    int64_t start_us, end_us; /* epoch microseconds */
    const char *operation;    /* "GetItem", ... */
    const char *const *table_names;
    size_t n_tables;
    const char *region;
    unsigned retries;       /* attempts less one */
    const char *request_id; /* x-amzn-RequestId of the last answer */
    long http_status;       /* of the last attempt; 0 when none completed */
    bool error;             /* a 4xx: the request was refused */
    bool throttle;          /* throttled (429, or DynamoDB's throttling errors); error is set too */
    bool fault;             /* a 5xx, or no answer at all */
} xray_subsegment;

/* A fresh random id: 16 lowercase hex characters. */
void xray_new_id(char out[TRACE_ID_LEN + 1]);

/* The datagram for s (header line and document) into out (reset first). UA_ERR_TOO_BIG when it
 * would pass XRAY_MAX_DATAGRAM. Strings that are not plain (letters, digits, "-_.:") are
 * left out rather than escaped: every one comes from our own tables, DynamoDB or Lambda. */
UA_WARN_UNUSED ua_status xray_format_subsegment(const xray_subsegment *s, buf *out);

#endif
