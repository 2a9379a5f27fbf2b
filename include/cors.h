/* cors.h — the CORS headers every response carries, errors included (users-api.md, "CORS").
 *
 * ALLOWED_ORIGINS decides Access-Control-Allow-Origin: any origin ("*") by default, or a
 * comma-separated list matched exactly against the request's Origin. The preflight's own
 * headers (Allow-Methods, Allow-Headers, Max-Age) are the handler's: they answer OPTIONS only. */
#ifndef USERS_CORS_H
#define USERS_CORS_H

#include "api.h"
#include "common.h"

/* The response headers a browser may read besides the safelisted ones. */
#define CORS_EXPOSE_HEADERS "ETag, Location"

/* Sets Access-Control-Allow-Origin, Vary and Access-Control-Expose-Headers on resp.
 * allowed_origins is ALLOWED_ORIGINS: NULL, blank, "*" or nothing but commas allows any origin
 * ("*", no Vary); otherwise a comma-separated list (entries trimmed of spaces and tabs)
 * matched exactly (no case folding, no wildcards) against req's one Origin header: a match is
 * echoed, anything else (no match, no Origin, a repeated Origin) gets the first listed origin,
 * and Vary: Origin is added so caches keep the answers apart. All arguments are borrowed; an
 * origin that is not on the list is never echoed. UA_ERR_NOMEM, or UA_ERR_INVALID when a
 * listed origin cannot be a header value (api_response_set_header refused it). */
UA_WARN_UNUSED ua_status cors_set_headers(api_response *resp, const api_request *req,
                                          const char *allowed_origins);

#endif
