/* apigw.h — API Gateway proxy events (REST payload 1.0; HTTP API and function URL payload
 * 2.0) to an api_request, and an api_response back to the proxy answer of the same format. */
#ifndef USERS_APIGW_H
#define USERS_APIGW_H

#include "api.h"
#include "buf.h"
#include "common.h"

typedef enum apigw_format {
    APIGW_V1 = 1, /* REST API proxy integration */
    APIGW_V2 = 2  /* HTTP API, Lambda function URL */
} apigw_format;

/* A parsed event: the request and what it borrows from. */
typedef struct apigw_event {
    apigw_format format;
    api_request req;
    json_t *root;    /* the event document, owned; req's strings borrow from it */
    buf body;        /* decoded base64 body when there was one, owned */
    char lambda_request_id[UA_MAX_REQUEST_ID];
} apigw_event;

/* Parses an event of len bytes. lambda_request_id is used when the event has no API Gateway
 * request id. UA_ERR_INVALID when the document is not a payload 1.0 or 2.0 proxy event (the
 * caller answers with an invocation error); on success free with apigw_event_free. A body
 * that is not valid base64 is not an error here: req.body_bad_base64 is set. */
UA_WARN_UNUSED ua_status apigw_parse(const char *event, size_t len, const char *lambda_request_id,
                                     apigw_event *out);
void apigw_event_free(apigw_event *ev);

/* Writes the proxy answer for resp in format into out: statusCode, headers, body,
 * isBase64Encoded (false: every body this API sends is UTF-8 JSON). */
UA_WARN_UNUSED ua_status apigw_format_response(apigw_format format, const api_response *resp,
                                               buf *out);

#endif
