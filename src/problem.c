/* problem.c — RFC 9457 problem documents (see problem.h). */
#include "problem.h"

const char *problem_title(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 409:
            return "Conflict";
        case 412:
            return "Precondition Failed";
        case 413:
            return "Content Too Large"; /* RFC 9110's name for "Payload Too Large" */
        case 415:
            return "Unsupported Media Type";
        case 422:
            return "Unprocessable Content";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        default:
            return "Error";
    }
}

ua_status problem_write(api_response *resp, int status, const char *code, const char *detail,
                        const json_t *errors, const char *request_id) {
    json_t *doc =
        json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title",
                  problem_title(status), "status", status, "code", code, "detail", detail);
    if (!doc)
        return UA_ERR_NOMEM;
    ua_status st = UA_OK;
    if (errors && json_object_set(doc, "errors", (json_t *)errors) != 0)
        st = UA_ERR_NOMEM;
    /* An id that is not UTF-8 cannot go into JSON; the answer matters more than the id. */
    json_t *id = json_string(request_id ? request_id : "");
    if (st == UA_OK && json_object_set_new(doc, "requestId", id ? id : json_string("")) != 0)
        st = UA_ERR_NOMEM;
    if (st == UA_OK) {
        buf_reset(&resp->body);
        st = buf_append_json(&resp->body, doc);
    }
    json_decref(doc);
    if (st != UA_OK)
        return st;
    resp->status = status;
    return api_response_set_header(resp, "Content-Type", PROBLEM_CONTENT_TYPE);
}
