/* ddb.h — DynamoDB over its JSON 1.0 protocol: operations, replies, the port and the client.
 *
 * Callers build a request document with jansson (the DynamoDB API's own JSON shape, e.g.
 * {"TableName":..., "Key":{...}}, its AttributeValues made with ddb_value.h) and hand it to a
 * ddb_port. The real port signs it with SigV4, sends it over a kept-alive HTTPS connection,
 * retries what the contract says is retryable within the deadline (the policy is
 * ddb_retry.h), and returns the parsed reply. Handlers receive a ddb_port rather than the
 * client, so tests can pass a fake that records and answers requests. */
#ifndef USERS_DDB_H
#define USERS_DDB_H

#include "common.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum ddb_op {
    DDB_PUT_ITEM,
    DDB_GET_ITEM,
    DDB_UPDATE_ITEM,
    DDB_DELETE_ITEM,
    DDB_SCAN,
    DDB_QUERY,
    DDB_TRANSACT_WRITE_ITEMS,
    DDB_OP_COUNT
} ddb_op;

/* "PutItem", ... : the X-Amz-Target suffix. */
UA_WARN_UNUSED const char *ddb_op_name(ddb_op op);

typedef enum ddb_status {
    DDB_OK = 0,
    /* ConditionalCheckFailedException (reply->body may carry "Item"), or a transaction cancelled
     * because an item's condition failed (reply->body: its CancellationReasons, ddb_txn.h) */
    DDB_CONDITION_FAILED,
    DDB_UNAVAILABLE, /* retries ran out or the deadline neared; a write's outcome unknown */
    DDB_FAILED       /* not retryable: validation, access denied, no table, bad reply */
} ddb_status;

/* Longest x-amzn-RequestId kept, with its NUL (DynamoDB's are 52 characters). */
#define DDB_MAX_REQUEST_ID 64u

typedef struct ddb_reply {
    json_t *body; /* new reference: the parsed response or error document, or NULL */
    /* __type after its '#' (e.g. "ThrottlingException"); when no answer came or it could not be
     * read, what went wrong ("transport: " and curl's message, ...); "" on success */
    char error_type[UA_MAX_DDB_ERROR_TYPE];
    unsigned attempts; /* HTTP requests sent, retries (ours and libcurl's silent ones) included */
    long http_status;  /* of the last attempt, 0 when none completed */
    /* x-amzn-RequestId of the last answer ("" when none came or it was not plain): what AWS
     * support asks for, and what a trace records */
    char request_id[DDB_MAX_REQUEST_ID];
    /* A request of this call other than the one answered in body may have been applied: its
     * answer was lost (timeout, dropped connection, a 5xx, a damaged reply). A write's
     * condition failure is then not proof that the write did not happen. */
    bool maybe_applied;
} ddb_reply;

void ddb_reply_init(ddb_reply *r);
void ddb_reply_clear(ddb_reply *r); /* drops body, keeps nothing */

/* The seam between handlers and DynamoDB. request is borrowed. deadline_ms is the epoch
 * millisecond by which the caller must have its answer (retries stop before it). */
typedef struct ddb_port {
    ddb_status (*call)(void *ctx, ddb_op op, const json_t *request, int64_t deadline_ms,
                       ddb_reply *reply);
    void *ctx;
} ddb_port;

/* ---- The real client ---- */

typedef struct ddb_config {
    const char *region;            /* required */
    const char *endpoint;          /* NULL: https://dynamodb.{region}.amazonaws.com */
    const char *access_key_id;     /* required */
    const char *secret_access_key; /* required */
    const char *session_token;     /* NULL when none */
    const char *ca_file;           /* NULL: http_default_ca_file() */
    bool allow_plain_http; /* an http:// endpoint off loopback (USERS_ALLOW_HTTP_ENDPOINT) */
} ddb_config;

typedef struct ddb_client ddb_client;

/* The deadline ddb_client_call assumes when given none (deadline_ms <= 0): this long from now. */
#define DDB_DEFAULT_DEADLINE_MS 10000
/* Largest request document sent: TransactWriteItems carries up to 4 MB of items. */
#define DDB_MAX_REQUEST_BYTES ((size_t)4 * 1024 * 1024)

/* Copies what it needs from cfg (the caller may then wipe its secrets). NULL on bad config
 * (message in err) or out of memory. An endpoint must be https://, or http:// to a loopback
 * host (127.0.0.0/8, [::1], localhost) unless cfg->allow_plain_http. */
UA_WARN_UNUSED ddb_client *ddb_client_new(const ddb_config *cfg, char *err, size_t err_len);
void ddb_client_free(ddb_client *c); /* wipes the credentials and signing key it held */

/* Whether DynamoDB refused the credentials (UnrecognizedClient, InvalidSignature,
 * ExpiredToken, MissingAuthenticationToken) on UA_DDB_CREDENTIAL_FAILURE_LIMIT calls in a
 * row. The call that reached the limit returned DDB_UNAVAILABLE; the process should exit so
 * that Lambda starts a fresh environment with fresh credentials. */
bool ddb_client_credentials_dead(const ddb_client *c);

/* The endpoint the AWS SDKs would use: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL,
 * else NULL (the regional default). Borrowed from the environment. */
const char *ddb_endpoint_from_env(void);

/* The X-Amzn-Trace-Id sent with c's requests from now on (copied; NULL or "" sends none):
 * the invocation's trace, so that DynamoDB's own segment joins it, as the AWS SDKs do.
 * Not signed (SigV4 lets a request carry unsigned headers), so it changes no signature. */
void ddb_client_set_trace_header(ddb_client *c, const char *value);

/* A port backed by client c. */
ddb_port ddb_client_port(ddb_client *c);

/* Sends request as operation op, retrying per ddb_retry.h until deadline_ms (epoch ms; <= 0
 * means DDB_DEFAULT_DEADLINE_MS from now) less UA_DEADLINE_MARGIN_MS. reply must have been
 * initialised; its old body is dropped. On return reply->attempts and http_status describe
 * the attempts, and reply->body/error_type the last answer: the result on DDB_OK, the error
 * document otherwise (with "Item" on DDB_CONDITION_FAILED when asked for), NULL when the last
 * attempt got no parseable answer. */
UA_WARN_UNUSED ddb_status ddb_client_call(ddb_client *c, ddb_op op, const json_t *request,
                                          int64_t deadline_ms, ddb_reply *reply);

/* ---- Reading an answer: exposed for tests and the fuzzers ---- */

/* The error type of an error body (borrowed): the part of "__type" after '#', copied into
 * out[0..out_len). false, with out "" (when out_len > 0), when there is none or it does not
 * fit. */
UA_WARN_UNUSED bool ddb_parse_error_type(const json_t *body, char *out, size_t out_len);

/* CRC-32 (IEEE, as zlib) of data: what DynamoDB sends in x-amz-crc32, checked on every reply. */
uint32_t ddb_crc32(const void *data, size_t len);

#endif
