/* api.c — accessors for the plain request and response (see api.h). */
#include "api.h"

#include <string.h>

static size_t first_of(json_t *map, const char *name, const char **value) {
    json_t *vals = map ? json_object_get(map, name) : NULL;
    size_t n = json_is_array(vals) ? json_array_size(vals) : 0;
    if (value)
        *value = n ? json_string_value(json_array_get(vals, 0)) : NULL;
    return n;
}

size_t api_header(const api_request *r, const char *name, const char **value) {
    return first_of(r->headers, name, value);
}

size_t api_query(const api_request *r, const char *name, const char **value) {
    return first_of(r->query, name, value);
}

ua_status api_response_init(api_response *r) {
    r->status = 0;
    buf_init(&r->body, UA_MAX_RESPONSE_BYTES);
    r->headers = json_object();
    return r->headers ? UA_OK : UA_ERR_NOMEM;
}

void api_response_free(api_response *r) {
    json_decref(r->headers);
    r->headers = NULL;
    buf_free(&r->body);
}

ua_status api_response_set_header(api_response *r, const char *name, const char *value) {
    if (!name || !*name || !value)
        return UA_ERR_INVALID;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!ua_is_tchar(*p))
            return UA_ERR_INVALID;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return UA_ERR_INVALID;
    json_t *v = json_string(value);
    if (!v)
        return UA_ERR_INVALID; /* not UTF-8 */
    return json_object_set_new(r->headers, name, v) == 0 ? UA_OK : UA_ERR_NOMEM;
}
