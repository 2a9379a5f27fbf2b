/* gw_event.h — one HTTP request as API Gateway (REST API, Lambda proxy integration, payload
 * format 1.0) hands it to the function: the event the local gateway posts to the bootstrap.
 *
 * The shape follows captures of deployed REST APIs (../shared/testdata/events/): the same
 * top-level keys, requestContext keys and identity keys, with the same JSON types.
 *   resource, pathParameters  "/users" or "/users/{userId}" when the path matches (the
 *                             userId left percent-encoded, as REST v1 does), else the path
 *                             itself and null.
 *   path                      the request path as sent, never percent-decoded.
 *   headers, multiValueHeaders  names as received (the first spelling of a name wins when a
 *                             client repeats it in another case); headers holds the last
 *                             value, multiValueHeaders all of them. API Gateway's own
 *                             X-Forwarded-For (appended to the client's), X-Forwarded-Port,
 *                             X-Forwarded-Proto and X-Amzn-Trace-Id (when absent) are added.
 *   queryStringParameters, multiValueQueryStringParameters  decoded ('+' and %XX), last
 *                             value / all values; null when the URL has no parameter. A
 *                             component that does not decode to UTF-8 is passed as sent.
 *   body, isBase64Encoded     null/false when empty. Text (a string, false) when the bytes
 *                             are UTF-8 and the Content-Type is absent or text-like (text/-,
 *                             JSON, XML, form, JavaScript); base64 (true) otherwise — what a
 *                             REST API whose binaryMediaTypes lists every non-text type does.
 * Header bytes that are not UTF-8 are read as Latin-1. */
#ifndef USERS_GW_EVENT_H
#define USERS_GW_EVENT_H

#include "common.h"
#include "gw_request.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define GW_STAGE       "local"
#define GW_ACCOUNT_ID  "123456789012"
#define GW_API_ID      "local00api"
#define GW_RESOURCE_ID "l0c4l1"
/* Builds the event. *out is a new reference (json_decref it). UA_ERR_NOMEM, or UA_ERR_INVALID
 * when req lacks a method or a target that starts with '/'. */
UA_WARN_UNUSED ua_status gw_event_build(const gw_request *req, json_t **out);

#endif
