/* test_badinput.c — the bad-input catalogue: malformed requests, each with the exact status and
 * problem `code` (and the field named first) that users-api.md ("Requests that are wrong",
 * "Decisions that settle the edges") and docs/decisions.md give it.
 *
 * Every case is an API Gateway event. It runs twice: through apigw_parse and users_handle with
 * a fake DynamoDB (checking how many DynamoDB calls it cost), and end to end through the real
 * bootstrap binary, one process serving the whole catalogue in a row, with fake_http playing
 * the Runtime API and DynamoDB: it must answer each the same way and never crash or stop.
 * A few valid edge cases sit among the bad ones, so that a rule cannot pass by refusing all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "apigw.h"
#include "bootproc.h"
#include "cors.h"
#include "fake_ddb.h"
#include "fake_http.h"
#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef USERS_BOOTSTRAP
#error "USERS_BOOTSTRAP (the bootstrap binary's path) must be defined by tests/CMakeLists.txt"
#endif

#define ID       "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define ID_UPPER "3F0C8A9E-8D1B-4C2A-9F5E-2B7D3C1A4E6F"
#define NOW_MS   1795523696789LL

/* Bodies. */
#define NAME_OK       "\"name\":\"Ada Lovelace\""
#define EMAIL_OK      "\"email\":\"ada@example.com\""
#define VALID         "{" NAME_OK "," EMAIL_OK "}"
#define WITH_NAME(v)  "{\"name\":" v "," EMAIL_OK "}"
#define WITH_EMAIL(v) "{" NAME_OK ",\"email\":" v "}"
#define WITH_AGE(v)   "{" NAME_OK "," EMAIL_OK ",\"age\":" v "}"
#define NUL_BODY      "{\"name\":\"A\0da\"," EMAIL_OK "}" /* a raw NUL byte inside */

/* DynamoDB's replies for the cases that get that far: a create's transaction (CREATED), a
 * read, an update, a page of the list or of the lookup, and a delete's transaction (DELETED),
 * which follows its read (GOT). */
#define STORED                                                                                     \
    "{\"userId\":{\"S\":\"" ID "\"},\"name\":{\"S\":\"Ada\"},\"email\":{\"S\":\"a@b.co\"},"        \
    "\"emailLower\":{\"S\":\"a@b.co\"},\"createdAt\":{\"S\":\"2026-11-24T12:34:56.789Z\"},"        \
    "\"updatedAt\":{\"S\":\"2026-11-24T12:34:56.789Z\"},\"version\":{\"N\":\"2\"}}"
#define CREATED "{}"
#define GOT     "{\"Item\":" STORED "}"
#define UPDATED "{\"Attributes\":" STORED "}"
#define PAGE    "{\"Items\":[" STORED "],\"Count\":1}"
#define DELETED "{}"

/* base64url of {"userId":{"S":"<ID>"}}, the token the API issues for ID, and variants. */
#define TOKEN_OK "eyJ1c2VySWQiOnsiUyI6IjNmMGM4YTllLThkMWItNGMyYS05ZjVlLTJiN2QzYzFhNGU2ZiJ9fQ"
/* {"userId": {"S": "<ID>"}} with blanks: the same key, spelt otherwise (accepted). */
#define TOKEN_BLANKS "eyJ1c2VySWQiOiB7IlMiOiAiM2YwYzhhOWUtOGQxYi00YzJhLTlmNWUtMmI3ZDNjMWE0ZTZmIn19"
/* {"userId":{"S":"<ID>"},"x":{"S":"y"}} */
#define TOKEN_EXTRA                                                                                \
    "eyJ1c2VySWQiOnsiUyI6IjNmMGM4YTllLThkMWItNGMyYS05ZjVlLTJiN2QzYzFhNGU2ZiJ9LCJ4Ijp7IlMiOiJ5In19"
/* {"userId":{"S":"<ID_UPPER>"}} */
#define TOKEN_UPPER "eyJ1c2VySWQiOnsiUyI6IjNGMEM4QTlFLThEMUItNEMyQS05RjVFLTJCN0QzQzFBNEU2RiJ9fQ"
/* {"userId":{"S":"\u0033f0c8a9e-..."}}: an escaped digit */
#define TOKEN_ESCAPED                                                                              \
    "eyJ1c2VySWQiOnsiUyI6Ilx1MDAzM2YwYzhhOWUtOGQxYi00YzJhLTlmNWUtMmI3ZDNjMWE0ZTZmIn19"

/* Large inputs, made at run time. */
typedef enum gen {
    GEN_NONE = 0,
    GEN_BODY_16384,    /* a valid create padded to exactly 16,384 bytes */
    GEN_BODY_16385,    /* the same, one byte more */
    GEN_BODY_10MB,     /* 10 MB of a JSON object */
    GEN_NEST_DEEP,     /* a name nested 5,000 arrays deep */
    GEN_NAME_101,      /* 101 code points */
    GEN_NAME_100,      /* 100 two-byte code points: valid */
    GEN_LOCAL_65,      /* an email local part of 65 octets */
    GEN_LOCAL_64,      /* 64: valid */
    GEN_LABEL_64,      /* a domain label of 64 octets */
    GEN_EMAIL_255,     /* 255 octets in all */
    GEN_IF_MATCH_17,   /* seventeen entity tags */
    GEN_TOKEN_257,     /* a 257-character nextToken */
    GEN_GARBAGE_20000, /* 20,000 bytes that are not JSON */
} gen;

typedef struct bad_case {
    const char *name;
    int v; /* 2: HTTP API payload 2.0; else REST payload 1.0 */
    const char *method;
    const char *path;    /* v1 path, v2 rawPath */
    const char *headers; /* JSON {name: [values]}; NULL: Content-Type json with a body */
    const char *query;   /* v1: JSON {name: [values]}; v2: rawQueryString */
    const char *body;
    size_t body_len; /* 0: strlen(body) */
    bool b64;        /* send the body base64-encoded (how bytes that are not UTF-8 arrive) */
    gen g;
    const char *event;    /* a whole event instead of the fields above */
    const char *ddb;      /* DynamoDB's reply, when the request must get that far; else no call */
    const char *ddb_then; /* the reply to a second call (a delete's transaction), if any */
    int status;           /* 0: not an event, answered with an invocation error */
    const char *code;
    const char *field; /* the first errors[].field, for VALIDATION_FAILED */
    int n_errors;      /* errors[] length when checked */
} bad_case;

#define JSON_CT "{\"Content-Type\":[\"application/json\"]}"
/* A JSON create's headers with Idempotency-Key v (JSON string content). */
#define KEY_HEADER(v) "{\"Content-Type\":[\"application/json\"],\"Idempotency-Key\":[\"" v "\"]}"
#define KEY_16        "kkkkkkkkkkkkkkkk"
#define KEY_128       KEY_16 KEY_16 KEY_16 KEY_16 KEY_16 KEY_16 KEY_16 KEY_16
#define CT(v)         "{\"Content-Type\":[\"" v "\"]}"

/* clang-format off */
static const bad_case cases[] = {
    /* ---- Routes and methods: 404 / 405 before anything else ---- */
    {"root path", .method = "GET", .path = "/", .status = 404, .code = "NOT_FOUND"},
    {"empty path", .method = "GET", .path = "", .status = 404, .code = "NOT_FOUND"},
    {"trailing slash", .method = "GET", .path = "/users/", .status = 404, .code = "NOT_FOUND"},
    {"deeper path", .method = "GET", .path = "/users/" ID "/x", .status = 404, .code = "NOT_FOUND"},
    {"id then slash", .method = "GET", .path = "/users/" ID "/", .status = 404, .code = "NOT_FOUND"},
    {"capital Users", .method = "GET", .path = "/Users", .status = 404, .code = "NOT_FOUND"},
    {"double slash", .method = "GET", .path = "//users", .status = 404, .code = "NOT_FOUND"},
    {"users double slash", .method = "GET", .path = "/users//", .status = 404, .code = "NOT_FOUND"},
    {"dot dot segment", .method = "GET", .path = "/users/..", .status = 404, .code = "NOT_FOUND"},
    {"dot dot climb", .method = "GET", .path = "/users/../users", .status = 404, .code = "NOT_FOUND"},
    {"dot dot to root", .method = "DELETE", .path = "/x/../users/" ID, .status = 404, .code = "NOT_FOUND"},
    {"encoded dot dot", .method = "GET", .path = "/users/%2e%2e", .status = 404, .code = "NOT_FOUND"},
    {"encoded slash after users", .method = "GET", .path = "/users%2F", .status = 404, .code = "NOT_FOUND"},
    {"encoded slash in id", .method = "GET", .path = "/users/a%2Fb", .status = 404, .code = "NOT_FOUND"},
    {"encoded slash lower", .method = "GET", .path = "/users%2f" ID, .status = 404, .code = "NOT_FOUND"},
    {"encoded NUL after id", .method = "GET", .path = "/users/" ID "%00", .status = 404, .code = "NOT_FOUND"},
    {"encoded NUL as id", .method = "GET", .path = "/users/%00", .status = 404, .code = "NOT_FOUND"},
    {"escaped NUL in path", .event = "{\"httpMethod\":\"GET\",\"path\":\"/users\\u0000/x\"}",
     .status = 404, .code = "NOT_FOUND"},
    {"query in the path", .method = "GET", .path = "/users?limit=1", .status = 404, .code = "NOT_FOUND"},
    {"unknown path preflight", .method = "OPTIONS", .path = "/nowhere", .status = 404, .code = "NOT_FOUND"},
    {"HEAD on users", .method = "HEAD", .path = "/users", .status = 405, .code = "METHOD_NOT_ALLOWED"},
    {"lower-case get", .method = "get", .path = "/users", .status = 405, .code = "METHOD_NOT_ALLOWED"},
    {"TRACE on a user", .method = "TRACE", .path = "/users/" ID, .status = 405, .code = "METHOD_NOT_ALLOWED"},
    {"PATCH on users", .method = "PATCH", .path = "/users", .body = VALID, .status = 405, .code = "METHOD_NOT_ALLOWED"},
    {"DELETE on users", .method = "DELETE", .path = "/users", .status = 405, .code = "METHOD_NOT_ALLOWED"},
    {"POST on a user", .method = "POST", .path = "/users/" ID, .body = VALID, .status = 405, .code = "METHOD_NOT_ALLOWED"},
    {"PUT on users", .method = "PUT", .path = "/users", .body = VALID, .status = 405, .code = "METHOD_NOT_ALLOWED"},
    {"method with a blank", .method = "GET ", .path = "/users", .status = 405, .code = "METHOD_NOT_ALLOWED"},
    {"405 before a bad id", .method = "HEAD", .path = "/users/nope", .status = 405, .code = "METHOD_NOT_ALLOWED"},
    {"preflight on any id", .method = "OPTIONS", .path = "/users/not-an-id", .status = 204},

    /* ---- The path id: 404 without a DynamoDB request ---- */
    {"upper-case id", .method = "GET", .path = "/users/" ID_UPPER, .status = 404, .code = "NOT_FOUND"},
    {"id without dashes", .method = "GET", .path = "/users/3f0c8a9e8d1b4c2a9f5e2b7d3c1a4e6f", .status = 404, .code = "NOT_FOUND"},
    {"id one short", .method = "GET", .path = "/users/3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6", .status = 404, .code = "NOT_FOUND"},
    {"id one long", .method = "GET", .path = "/users/" ID "0", .status = 404, .code = "NOT_FOUND"},
    {"id not hex", .method = "GET", .path = "/users/3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6g", .status = 404, .code = "NOT_FOUND"},
    {"id in braces", .method = "GET", .path = "/users/{" ID "}", .status = 404, .code = "NOT_FOUND"},
    {"id percent-encoded", .method = "GET", .path = "/users/%33f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f", .status = 404, .code = "NOT_FOUND"},
    {"id with encoded blank", .method = "GET", .path = "/users/" ID "%20", .status = 404, .code = "NOT_FOUND"},
    {"id with a blank", .method = "GET", .path = "/users/ " ID, .status = 404, .code = "NOT_FOUND"},
    {"id then dot dot", .method = "GET", .path = "/users/" ID "/..", .status = 404, .code = "NOT_FOUND"},
    {"bad id before a bad body", .method = "PUT", .path = "/users/nope", .headers = CT("text/plain"), .body = "x", .status = 404, .code = "NOT_FOUND"},
    {"bad id on delete", .method = "DELETE", .path = "/users/nope", .status = 404, .code = "NOT_FOUND"},

    /* ---- Media type: 415 before size and JSON ---- */
    {"no Content-Type", .method = "POST", .path = "/users", .headers = "{}", .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"text/plain", .method = "POST", .path = "/users", .headers = CT("text/plain"), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"latin1 charset", .method = "POST", .path = "/users", .headers = CT("application/json; charset=latin1"), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"json suffix type", .method = "POST", .path = "/users", .headers = CT("application/jsonx"), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"merge-patch on POST", .method = "POST", .path = "/users", .headers = CT("application/merge-patch+json"), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"Content-Type repeated", .method = "POST", .path = "/users", .headers = "{\"Content-Type\":[\"application/json\",\"application/json\"]}", .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"Content-Type empty", .method = "POST", .path = "/users", .headers = CT(""), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"Content-Type with CR", .method = "POST", .path = "/users", .headers = CT("application/json\\r"), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"parameter without value", .method = "POST", .path = "/users", .headers = CT("application/json; charset"), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"blank inside the type", .method = "POST", .path = "/users", .headers = CT("application/ json"), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"any type", .method = "POST", .path = "/users", .headers = CT("*/*"), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"a list of types", .method = "POST", .path = "/users", .headers = CT("application/json, text/plain"), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"charset too long", .method = "POST", .path = "/users", .headers = CT("application/json; charset=utf-8-and-then-some-more-text"), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"unterminated quoted charset", .method = "POST", .path = "/users", .headers = CT("application/json; charset=\\\"utf-8"), .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"Content-Type null", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":null},\"body\":\"{}\"}", .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"Content-Type a number", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":7},\"body\":\"{}\"}", .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"headers null", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":null,\"multiValueHeaders\":null,\"body\":\"{}\"}", .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"headers a string", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":\"Content-Type: application/json\",\"body\":\"{}\"}", .status = 0},
    {"v2 Content-Type comma-joined", .v = 2, .method = "POST", .path = "/users", .headers = "{\"content-type\":[\"application/json\",\"application/json\"]}", .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"415 before 413", .method = "POST", .path = "/users", .headers = CT("text/plain"), .g = GEN_BODY_16385, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"415 before bad JSON", .method = "PATCH", .path = "/users/" ID, .headers = CT("text/json"), .body = "{", .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"upper-case type", .method = "POST", .path = "/users", .headers = CT("APPLICATION/JSON"), .body = VALID, .ddb = CREATED, .status = 201},
    {"quoted UTF-8 charset", .method = "POST", .path = "/users", .headers = CT("application/json; charset=\\\"UTF-8\\\""), .body = VALID, .ddb = CREATED, .status = 201},
    {"mixed-case header name", .method = "POST", .path = "/users", .headers = "{\"cOnTeNt-TyPe\":[\"application/json;charset=utf-8\"]}", .body = VALID, .ddb = CREATED, .status = 201},
    {"merge-patch on PATCH", .method = "PATCH", .path = "/users/" ID, .headers = CT("application/merge-patch+json"), .body = "{\"age\":null}", .ddb = UPDATED, .status = 200},

    /* ---- Size: 16,384 bytes pass, 16,385 are 413, before JSON ---- */
    {"16385 bytes", .method = "POST", .path = "/users", .g = GEN_BODY_16385, .status = 413, .code = "PAYLOAD_TOO_LARGE"},
    {"16385 bytes base64", .method = "POST", .path = "/users", .b64 = true, .g = GEN_BODY_16385, .status = 413, .code = "PAYLOAD_TOO_LARGE"},
    {"16385 bytes on PUT", .method = "PUT", .path = "/users/" ID, .g = GEN_BODY_16385, .status = 413, .code = "PAYLOAD_TOO_LARGE"},
    {"10 MB body", .method = "POST", .path = "/users", .g = GEN_BODY_10MB, .status = 413, .code = "PAYLOAD_TOO_LARGE"},
    {"413 before bad JSON", .method = "POST", .path = "/users", .g = GEN_GARBAGE_20000, .status = 413, .code = "PAYLOAD_TOO_LARGE"},
    {"16384 bytes", .method = "POST", .path = "/users", .g = GEN_BODY_16384, .ddb = CREATED, .status = 201},
    {"16384 bytes base64", .method = "POST", .path = "/users", .b64 = true, .g = GEN_BODY_16384, .ddb = CREATED, .status = 201},

    /* ---- Bodies that are not a JSON object: 400 INVALID_JSON ---- */
    {"empty body", .method = "POST", .path = "/users", .body = "", .status = 400, .code = "INVALID_JSON"},
    {"no body", .method = "POST", .path = "/users", .headers = JSON_CT, .status = 400, .code = "INVALID_JSON"},
    {"blank body", .method = "PUT", .path = "/users/" ID, .body = "  \n ", .status = 400, .code = "INVALID_JSON"},
    {"not JSON", .method = "POST", .path = "/users", .body = "name=Ada", .status = 400, .code = "INVALID_JSON"},
    {"truncated object", .method = "POST", .path = "/users", .body = "{\"name\":\"Ada\"", .status = 400, .code = "INVALID_JSON"},
    {"an array", .method = "POST", .path = "/users", .body = "[" VALID "]", .status = 400, .code = "INVALID_JSON"},
    {"a string", .method = "POST", .path = "/users", .body = "\"Ada\"", .status = 400, .code = "INVALID_JSON"},
    {"a number", .method = "POST", .path = "/users", .body = "42", .status = 400, .code = "INVALID_JSON"},
    {"null", .method = "PATCH", .path = "/users/" ID, .body = "null", .status = 400, .code = "INVALID_JSON"},
    {"two objects", .method = "POST", .path = "/users", .body = VALID VALID, .status = 400, .code = "INVALID_JSON"},
    {"trailing comma", .method = "POST", .path = "/users", .body = "{" NAME_OK "," EMAIL_OK ",}", .status = 400, .code = "INVALID_JSON"},
    {"single quotes", .method = "POST", .path = "/users", .body = "{'name':'Ada','email':'a@b.co'}", .status = 400, .code = "INVALID_JSON"},
    {"a comment", .method = "POST", .path = "/users", .body = "{/* hi */" NAME_OK "," EMAIL_OK "}", .status = 400, .code = "INVALID_JSON"},
    {"NaN", .method = "POST", .path = "/users", .body = WITH_AGE("NaN"), .status = 400, .code = "INVALID_JSON"},
    {"Infinity", .method = "POST", .path = "/users", .body = WITH_AGE("Infinity"), .status = 400, .code = "INVALID_JSON"},
    {"byte order mark", .method = "POST", .path = "/users", .body = "\xef\xbb\xbf" VALID, .status = 400, .code = "INVALID_JSON"},
    {"duplicate name", .method = "POST", .path = "/users", .body = "{" NAME_OK "," NAME_OK "," EMAIL_OK "}", .status = 400, .code = "INVALID_JSON"},
    {"duplicate email", .method = "POST", .path = "/users", .body = "{" NAME_OK "," EMAIL_OK ",\"email\":\"b@c.de\"}", .status = 400, .code = "INVALID_JSON"},
    {"duplicate unknown key", .method = "PATCH", .path = "/users/" ID, .body = "{\"x\":1,\"x\":1}", .status = 400, .code = "INVALID_JSON"},
    {"duplicate nested key", .method = "POST", .path = "/users", .body = WITH_AGE("{\"a\":1,\"a\":2}"), .status = 400, .code = "INVALID_JSON"},
    {"age 1e400", .method = "POST", .path = "/users", .body = WITH_AGE("1e400"), .status = 400, .code = "INVALID_JSON"},
    {"age -1e400", .method = "POST", .path = "/users", .body = WITH_AGE("-1e400"), .status = 400, .code = "INVALID_JSON"},
    {"age past 64 bits", .method = "POST", .path = "/users", .body = WITH_AGE("99999999999999999999"), .status = 400, .code = "INVALID_JSON"},
    {"age 2^63", .method = "PATCH", .path = "/users/" ID, .body = "{\"age\":9223372036854775808}", .status = 400, .code = "INVALID_JSON"},
    {"deep nesting", .method = "POST", .path = "/users", .g = GEN_NEST_DEEP, .status = 400, .code = "INVALID_JSON"},
    {"raw NUL in the body", .method = "POST", .path = "/users", .body = NUL_BODY, .body_len = sizeof NUL_BODY - 1, .status = 400, .code = "INVALID_JSON"},
    {"raw NUL base64", .method = "POST", .path = "/users", .b64 = true, .body = VALID "\0", .body_len = sizeof VALID, .status = 400, .code = "INVALID_JSON"},
    {"escaped NUL in a key", .method = "POST", .path = "/users", .body = "{\"na\\u0000me\":\"Ada\"," EMAIL_OK "}", .status = 400, .code = "INVALID_JSON"},
    {"lone high surrogate", .method = "POST", .path = "/users", .body = WITH_NAME("\"\\ud800\""), .status = 400, .code = "INVALID_JSON"},
    {"lone low surrogate", .method = "POST", .path = "/users", .body = WITH_NAME("\"a\\udc00b\""), .status = 400, .code = "INVALID_JSON"},
    {"reversed surrogates", .method = "PATCH", .path = "/users/" ID, .body = "{\"name\":\"\\ude00\\ud83d\"}", .status = 400, .code = "INVALID_JSON"},
    {"bad escape", .method = "POST", .path = "/users", .body = WITH_NAME("\"\\x41\""), .status = 400, .code = "INVALID_JSON"},
    {"raw control in a string", .method = "POST", .path = "/users", .body = WITH_NAME("\"A\tda\""), .status = 400, .code = "INVALID_JSON"},
    {"invalid UTF-8 in name", .method = "POST", .path = "/users", .b64 = true, .body = WITH_NAME("\"Ad\xff\""), .status = 400, .code = "INVALID_JSON"},
    {"invalid UTF-8 in email", .method = "POST", .path = "/users", .b64 = true, .body = WITH_EMAIL("\"a\xc3@b.co\""), .status = 400, .code = "INVALID_JSON"},
    {"invalid UTF-8 in age", .method = "POST", .path = "/users", .b64 = true, .body = WITH_AGE("\"\xfe\""), .status = 400, .code = "INVALID_JSON"},
    {"invalid UTF-8 in a key", .method = "PATCH", .path = "/users/" ID, .b64 = true, .body = "{\"n\xe9me\":\"Ada\"}", .status = 400, .code = "INVALID_JSON"},
    {"invalid UTF-8 outside strings", .method = "POST", .path = "/users", .b64 = true, .body = "{\x80" NAME_OK "}", .status = 400, .code = "INVALID_JSON"},
    {"overlong slash", .method = "POST", .path = "/users", .b64 = true, .body = WITH_NAME("\"\xc0\xaf\""), .status = 400, .code = "INVALID_JSON"},
    {"overlong NUL", .method = "POST", .path = "/users", .b64 = true, .body = WITH_NAME("\"\xc0\x80\""), .status = 400, .code = "INVALID_JSON"},
    {"encoded surrogate", .method = "POST", .path = "/users", .b64 = true, .body = WITH_NAME("\"\xed\xa0\x80\""), .status = 400, .code = "INVALID_JSON"},
    {"past U+10FFFF", .method = "POST", .path = "/users", .b64 = true, .body = WITH_NAME("\"\xf4\x90\x80\x80\""), .status = 400, .code = "INVALID_JSON"},
    {"truncated sequence", .method = "POST", .path = "/users", .b64 = true, .body = WITH_NAME("\"\xe2\x82\""), .status = 400, .code = "INVALID_JSON"},
    {"Latin-1 body", .method = "PUT", .path = "/users/" ID, .b64 = true, .body = "{\"name\":\"Andr\xe9\"}", .status = 400, .code = "INVALID_JSON"},
    {"base64 not base64", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"@@@@\",\"isBase64Encoded\":true}", .status = 400, .code = "INVALID_JSON"},
    {"base64 with a blank", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"e30 \",\"isBase64Encoded\":true}", .status = 400, .code = "INVALID_JSON"},
    {"base64 bad length", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"e30\",\"isBase64Encoded\":true}", .status = 400, .code = "INVALID_JSON"},
    {"base64 padding inside", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"e3==e30=\",\"isBase64Encoded\":true}", .status = 400, .code = "INVALID_JSON"},
    {"base64 url alphabet", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"e3-_\",\"isBase64Encoded\":true}", .status = 400, .code = "INVALID_JSON"},
    {"base64 unused bits", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"e31=\",\"isBase64Encoded\":true}", .status = 400, .code = "INVALID_JSON"},
    {"v2 base64 not base64", .event = "{\"version\":\"2.0\",\"rawPath\":\"/users/" ID "\",\"headers\":{\"content-type\":\"application/json\"},\"requestContext\":{\"http\":{\"method\":\"PATCH\"}},\"body\":\"!!!!\",\"isBase64Encoded\":true}", .status = 400, .code = "INVALID_JSON"},
    {"base64 of nothing", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"\",\"isBase64Encoded\":true}", .status = 400, .code = "INVALID_JSON"},

    /* ---- Field rules: 400 VALIDATION_FAILED naming the field ---- */
    {"missing name", .method = "POST", .path = "/users", .body = "{" EMAIL_OK "}", .status = 400, .code = "VALIDATION_FAILED", .field = "name", .n_errors = 1},
    {"missing email", .method = "POST", .path = "/users", .body = "{" NAME_OK "}", .status = 400, .code = "VALIDATION_FAILED", .field = "email", .n_errors = 1},
    {"empty object on create", .method = "POST", .path = "/users", .body = "{}", .status = 400, .code = "VALIDATION_FAILED", .field = "name", .n_errors = 2},
    {"name empty", .method = "POST", .path = "/users", .body = WITH_NAME("\"\""), .status = 400, .code = "VALIDATION_FAILED", .field = "name", .n_errors = 1},
    {"name blanks only", .method = "POST", .path = "/users", .body = WITH_NAME("\" \\t\\r\\n \""), .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name 101 code points", .method = "POST", .path = "/users", .g = GEN_NAME_101, .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name escaped NUL", .method = "POST", .path = "/users", .body = WITH_NAME("\"A\\u0000da\""), .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name U+001F", .method = "POST", .path = "/users", .body = WITH_NAME("\"Ada\\u001f\""), .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name DEL", .method = "POST", .path = "/users", .body = WITH_NAME("\"A\\u007fda\""), .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name inner tab", .method = "POST", .path = "/users", .body = WITH_NAME("\"Ada\\tLovelace\""), .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name inner newline", .method = "PATCH", .path = "/users/" ID, .body = "{\"name\":\"Ada\\nLovelace\"}", .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name a number", .method = "POST", .path = "/users", .body = WITH_NAME("42"), .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name null on create", .method = "POST", .path = "/users", .body = WITH_NAME("null"), .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name null on update", .method = "PATCH", .path = "/users/" ID, .body = "{\"name\":null}", .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name true", .method = "POST", .path = "/users", .body = WITH_NAME("true"), .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name an array", .method = "POST", .path = "/users", .body = WITH_NAME("[\"Ada\"]"), .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"name an object", .method = "POST", .path = "/users", .body = WITH_NAME("{\"first\":\"Ada\"}"), .status = 400, .code = "VALIDATION_FAILED", .field = "name"},
    {"email empty", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email without @", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"ada.example.com\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email two @", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"a@b@c.de\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email one label", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"ada@localhost\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email numeric TLD", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"ada@b.123\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email leading dot", .method = "POST", .path = "/users", .body = WITH_EMAIL("\".ada@b.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email trailing dot in local", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"ada.@b.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email double dot", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"a..da@b.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email trailing dot in domain", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"ada@b.co.\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email empty label", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"ada@b..co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email label leading hyphen", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"ada@-b.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email label trailing hyphen", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"ada@b-.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email underscore in domain", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"ada@b_c.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email blank in local", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"a da@b.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email quote in local", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"a\\\"da@b.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email parenthesis", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"a(d)a@b.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email backslash", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"a\\\\da@b.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email non-ASCII local", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"\\u00e4da@b.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email non-ASCII domain", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"ada@b\\u00fc.co\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email escaped NUL", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"ada@b.co\\u0000\""), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email local 65 octets", .method = "POST", .path = "/users", .g = GEN_LOCAL_65, .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email label 64 octets", .method = "POST", .path = "/users", .g = GEN_LABEL_64, .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email 255 octets", .method = "POST", .path = "/users", .g = GEN_EMAIL_255, .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email a number", .method = "POST", .path = "/users", .body = WITH_EMAIL("7"), .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email null", .method = "PUT", .path = "/users/" ID, .body = "{\"email\":null}", .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"age a string", .method = "POST", .path = "/users", .body = WITH_AGE("\"36\""), .status = 400, .code = "VALIDATION_FAILED", .field = "age"},
    {"age 36.0", .method = "POST", .path = "/users", .body = WITH_AGE("36.0"), .status = 400, .code = "VALIDATION_FAILED", .field = "age"},
    {"age 36.5", .method = "POST", .path = "/users", .body = WITH_AGE("36.5"), .status = 400, .code = "VALIDATION_FAILED", .field = "age"},
    {"age 1e2", .method = "POST", .path = "/users", .body = WITH_AGE("1e2"), .status = 400, .code = "VALIDATION_FAILED", .field = "age"},
    {"age -1", .method = "POST", .path = "/users", .body = WITH_AGE("-1"), .status = 400, .code = "VALIDATION_FAILED", .field = "age"},
    {"age 151", .method = "POST", .path = "/users", .body = WITH_AGE("151"), .status = 400, .code = "VALIDATION_FAILED", .field = "age"},
    {"age int64 max", .method = "POST", .path = "/users", .body = WITH_AGE("9223372036854775807"), .status = 400, .code = "VALIDATION_FAILED", .field = "age"},
    {"age true", .method = "POST", .path = "/users", .body = WITH_AGE("true"), .status = 400, .code = "VALIDATION_FAILED", .field = "age"},
    {"age null on create", .method = "POST", .path = "/users", .body = WITH_AGE("null"), .status = 400, .code = "VALIDATION_FAILED", .field = "age"},
    {"age an array", .method = "PATCH", .path = "/users/" ID, .body = "{\"age\":[36]}", .status = 400, .code = "VALIDATION_FAILED", .field = "age"},
    {"age an object", .method = "PATCH", .path = "/users/" ID, .body = "{\"age\":{\"years\":36}}", .status = 400, .code = "VALIDATION_FAILED", .field = "age"},
    {"unknown field", .method = "POST", .path = "/users", .body = "{" NAME_OK "," EMAIL_OK ",\"nickname\":\"A\"}", .status = 400, .code = "VALIDATION_FAILED", .field = "nickname", .n_errors = 1},
    {"field name in capitals", .method = "POST", .path = "/users", .body = "{\"Name\":\"Ada\"," EMAIL_OK "}", .status = 400, .code = "VALIDATION_FAILED", .field = "Name", .n_errors = 2},
    {"userId from the client", .method = "POST", .path = "/users", .body = "{\"userId\":\"" ID "\"," NAME_OK "," EMAIL_OK "}", .status = 400, .code = "VALIDATION_FAILED", .field = "userId", .n_errors = 1},
    {"createdAt from the client", .method = "POST", .path = "/users", .body = "{" NAME_OK "," EMAIL_OK ",\"createdAt\":\"2020-01-01T00:00:00.000Z\"}", .status = 400, .code = "VALIDATION_FAILED", .field = "createdAt"},
    {"updatedAt on update", .method = "PATCH", .path = "/users/" ID, .body = "{\"updatedAt\":\"x\"}", .status = 400, .code = "VALIDATION_FAILED", .field = "updatedAt", .n_errors = 2},
    {"version on update", .method = "PUT", .path = "/users/" ID, .body = "{\"name\":\"Ada\",\"version\":9}", .status = 400, .code = "VALIDATION_FAILED", .field = "version", .n_errors = 1},
    {"every field wrong", .method = "POST", .path = "/users", .body = "{\"name\":\"\",\"email\":\"x\",\"age\":-1}", .status = 400, .code = "VALIDATION_FAILED", .field = "name", .n_errors = 3},
    {"empty object on update", .method = "PATCH", .path = "/users/" ID, .body = "{}", .status = 400, .code = "VALIDATION_FAILED", .field = "body", .n_errors = 1},
    {"only unknown on update", .method = "PUT", .path = "/users/" ID, .body = "{\"foo\":1}", .status = 400, .code = "VALIDATION_FAILED", .field = "foo", .n_errors = 2},
    {"name 100 code points", .method = "POST", .path = "/users", .g = GEN_NAME_100, .ddb = CREATED, .status = 201},
    {"name trimmed of blanks", .method = "POST", .path = "/users", .body = WITH_NAME("\"\\n\\t Ada \\r\\n\""), .ddb = CREATED, .status = 201},
    {"name with C1 control", .method = "POST", .path = "/users", .body = WITH_NAME("\"Ada\\u0085\""), .ddb = CREATED, .status = 201},
    {"name with emoji", .method = "POST", .path = "/users", .body = WITH_NAME("\"Ada \\ud83d\\ude00\""), .ddb = CREATED, .status = 201},
    {"email local 64 octets", .method = "POST", .path = "/users", .g = GEN_LOCAL_64, .ddb = CREATED, .status = 201},
    {"email trimmed", .method = "POST", .path = "/users", .body = WITH_EMAIL("\"  Ada@Example.COM \""), .ddb = CREATED, .status = 201},
    {"age -0", .method = "POST", .path = "/users", .body = WITH_AGE("-0"), .ddb = CREATED, .status = 201},
    {"age 0", .method = "POST", .path = "/users", .body = WITH_AGE("0"), .ddb = CREATED, .status = 201},
    {"age 150", .method = "POST", .path = "/users", .body = WITH_AGE("150"), .ddb = CREATED, .status = 201},
    {"age null on update", .method = "PATCH", .path = "/users/" ID, .body = "{\"age\":null}", .ddb = UPDATED, .status = 200},

    /* ---- If-Match ---- */
    {"If-Match empty", .method = "PATCH", .path = "/users/" ID, .headers = "{\"Content-Type\":[\"application/json\"],\"If-Match\":[\"\"]}", .body = "{\"age\":3}", .status = 400, .code = "VALIDATION_FAILED", .field = "If-Match"},
    {"If-Match unquoted", .method = "PATCH", .path = "/users/" ID, .headers = "{\"Content-Type\":[\"application/json\"],\"If-Match\":[\"2\"]}", .body = "{\"age\":3}", .status = 400, .code = "VALIDATION_FAILED", .field = "If-Match"},
    {"If-Match unterminated", .method = "PUT", .path = "/users/" ID, .headers = "{\"Content-Type\":[\"application/json\"],\"If-Match\":[\"\\\"2\"]}", .body = "{\"age\":3}", .status = 400, .code = "VALIDATION_FAILED", .field = "If-Match"},
    {"If-Match star and a tag", .method = "PATCH", .path = "/users/" ID, .headers = "{\"Content-Type\":[\"application/json\"],\"If-Match\":[\"*, \\\"2\\\"\"]}", .body = "{\"age\":3}", .status = 400, .code = "VALIDATION_FAILED", .field = "If-Match"},
    {"If-Match repeated star and tag", .method = "DELETE", .path = "/users/" ID, .headers = "{\"If-Match\":[\"\\\"2\\\"\",\"*\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "If-Match"},
    {"If-Match two stars", .method = "DELETE", .path = "/users/" ID, .headers = "{\"If-Match\":[\"*, *\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "If-Match"},
    {"If-Match seventeen tags", .method = "DELETE", .path = "/users/" ID, .g = GEN_IF_MATCH_17, .status = 400, .code = "VALIDATION_FAILED", .field = "If-Match"},
    {"If-Match with a CR", .method = "DELETE", .path = "/users/" ID, .headers = "{\"If-Match\":[\"\\\"2\\\"\\r\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "If-Match"},
    {"If-Match and a bad field", .method = "PATCH", .path = "/users/" ID, .headers = "{\"Content-Type\":[\"application/json\"],\"IF-MATCH\":[\"nope\"]}", .body = "{\"age\":-3}", .status = 400, .code = "VALIDATION_FAILED", .field = "age", .n_errors = 2},
    {"If-Match repeated tags", .method = "DELETE", .path = "/users/" ID, .headers = "{\"If-Match\":[\"\\\"1\\\"\",\"\\\"2\\\"\"]}", .ddb = GOT, .ddb_then = DELETED, .status = 200},
    {"If-Match no longer the version", .method = "DELETE", .path = "/users/" ID, .headers = "{\"If-Match\":[\"\\\"1\\\"\"]}", .ddb = GOT, .status = 412, .code = "PRECONDITION_FAILED"},
    {"If-Match on create is ignored", .method = "POST", .path = "/users", .headers = "{\"Content-Type\":[\"application/json\"],\"If-Match\":[\"nonsense\"]}", .body = VALID, .ddb = CREATED, .status = 201},

    /* ---- List: limit and nextToken ---- */
    {"limit 0", .method = "GET", .path = "/users", .query = "{\"limit\":[\"0\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"limit 101", .method = "GET", .path = "/users", .query = "{\"limit\":[\"101\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"limit -1", .method = "GET", .path = "/users", .query = "{\"limit\":[\"-1\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"limit +5", .method = "GET", .path = "/users", .query = "{\"limit\":[\"+5\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"limit 5.0", .method = "GET", .path = "/users", .query = "{\"limit\":[\"5.0\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"limit 1e1", .method = "GET", .path = "/users", .query = "{\"limit\":[\"1e1\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"limit empty", .method = "GET", .path = "/users", .query = "{\"limit\":[\"\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"limit a word", .method = "GET", .path = "/users", .query = "{\"limit\":[\"ten\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"limit with a blank", .method = "GET", .path = "/users", .query = "{\"limit\":[\" 5\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"limit huge", .method = "GET", .path = "/users", .query = "{\"limit\":[\"99999999999999999999999\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"limit repeated", .method = "GET", .path = "/users", .query = "{\"limit\":[\"5\",\"6\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"limit repeated the same", .method = "GET", .path = "/users", .query = "{\"limit\":[\"5\",\"5\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"v2 limit repeated", .v = 2, .method = "GET", .path = "/users", .query = "limit=5&limit=6", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"v2 limit encoded NUL", .v = 2, .method = "GET", .path = "/users", .query = "limit=1%00", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"v2 limit bad UTF-8", .v = 2, .method = "GET", .path = "/users", .query = "limit=%ff", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"v2 limit from the joined map", .event = "{\"version\":\"2.0\",\"rawPath\":\"/users\",\"rawQueryString\":\"\",\"queryStringParameters\":{\"limit\":\"5,6\"},\"requestContext\":{\"http\":{\"method\":\"GET\"}}}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"v1 limit in the single map only", .event = "{\"httpMethod\":\"GET\",\"path\":\"/users\",\"queryStringParameters\":{\"limit\":\"0\"},\"multiValueQueryStringParameters\":null}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit"},
    {"nextToken garbage", .method = "GET", .path = "/users", .query = "{\"nextToken\":[\"!!!\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "nextToken"},
    {"nextToken empty", .method = "GET", .path = "/users", .query = "{\"nextToken\":[\"\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "nextToken"},
    {"nextToken repeated", .method = "GET", .path = "/users", .query = "{\"nextToken\":[\"" TOKEN_OK "\",\"" TOKEN_OK "\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "nextToken"},
    {"nextToken padded", .method = "GET", .path = "/users", .query = "{\"nextToken\":[\"" TOKEN_OK "==\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "nextToken"},
    {"nextToken standard alphabet", .method = "GET", .path = "/users", .query = "{\"nextToken\":[\"eyJ1c2VySWQiOnsiUyI6IjNmMGM4YTllLThkMWItNGMyYS05ZjVlLTJiN2QzYzFhNGU2ZiJ9fQ+/\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "nextToken"},
    {"nextToken extra attribute", .method = "GET", .path = "/users", .query = "{\"nextToken\":[\"" TOKEN_EXTRA "\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "nextToken"},
    {"nextToken upper-case id", .method = "GET", .path = "/users", .query = "{\"nextToken\":[\"" TOKEN_UPPER "\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "nextToken"},
    {"nextToken of {}", .method = "GET", .path = "/users", .query = "{\"nextToken\":[\"e30\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "nextToken"},
    {"nextToken too long", .method = "GET", .path = "/users", .g = GEN_TOKEN_257, .status = 400, .code = "VALIDATION_FAILED", .field = "nextToken"},
    {"v2 nextToken encoded NUL", .v = 2, .method = "GET", .path = "/users", .query = "nextToken=%00", .status = 400, .code = "VALIDATION_FAILED", .field = "nextToken"},
    {"limit and nextToken both bad", .method = "GET", .path = "/users", .query = "{\"limit\":[\"0\"],\"nextToken\":[\"x\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit", .n_errors = 2},
    {"limit 007", .method = "GET", .path = "/users", .query = "{\"limit\":[\"007\"]}", .ddb = PAGE, .status = 200},
    {"limit null", .event = "{\"httpMethod\":\"GET\",\"path\":\"/users\",\"queryStringParameters\":{\"limit\":null},\"multiValueQueryStringParameters\":{\"limit\":null}}", .ddb = PAGE, .status = 200},
    {"v2 limit percent-encoded", .v = 2, .method = "GET", .path = "/users", .query = "limit=%31%30", .ddb = PAGE, .status = 200},
    {"unknown parameters", .v = 2, .method = "GET", .path = "/users", .query = "foo&=x&&Email=x", .ddb = PAGE, .status = 200},
    {"nextToken the API issued", .method = "GET", .path = "/users", .query = "{\"nextToken\":[\"" TOKEN_OK "\"]}", .ddb = PAGE, .status = 200},
    {"nextToken of the same key with blanks", .method = "GET", .path = "/users", .query = "{\"nextToken\":[\"" TOKEN_BLANKS "\"]}", .ddb = PAGE, .status = 200},
    {"nextToken of the same key escaped", .method = "GET", .path = "/users", .query = "{\"nextToken\":[\"" TOKEN_ESCAPED "\"]}", .ddb = PAGE, .status = 200},

    /* ---- Lookup by email (phase 2): the address by the create's rules, one page ---- */
    {"email lookup", .v = 2, .method = "GET", .path = "/users", .query = "email=%20Ada%40Example.COM&foo", .ddb = PAGE, .status = 200},
    {"email lookup with a limit", .method = "GET", .path = "/users", .query = "{\"email\":[\"a@b.co\"],\"limit\":[\"1\"]}", .ddb = PAGE, .status = 200},
    {"email not an address", .method = "GET", .path = "/users", .query = "{\"email\":[\"nope\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "email", .n_errors = 1},
    {"email empty", .v = 2, .method = "GET", .path = "/users", .query = "email=", .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email blank", .method = "GET", .path = "/users", .query = "{\"email\":[\"   \"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email repeated", .method = "GET", .path = "/users", .query = "{\"email\":[\"a@b.co\",\"a@b.co\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"v2 email encoded NUL", .v = 2, .method = "GET", .path = "/users", .query = "email=a%00%40b.co", .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"v2 email bad UTF-8", .v = 2, .method = "GET", .path = "/users", .query = "email=%ff%40b.co", .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"v2 email two addresses", .v = 2, .method = "GET", .path = "/users", .query = "email=a%40b.co,c%40d.co", .status = 400, .code = "VALIDATION_FAILED", .field = "email"},
    {"email query null is no lookup", .event = "{\"httpMethod\":\"GET\",\"path\":\"/users\",\"queryStringParameters\":{\"email\":null},\"multiValueQueryStringParameters\":{\"email\":[null]}}", .ddb = PAGE, .status = 200},
    {"email with nextToken", .method = "GET", .path = "/users", .query = "{\"email\":[\"a@b.co\"],\"nextToken\":[\"" TOKEN_OK "\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "nextToken", .n_errors = 1},
    {"email and limit both bad", .method = "GET", .path = "/users", .query = "{\"limit\":[\"0\"],\"email\":[\"x\"]}", .status = 400, .code = "VALIDATION_FAILED", .field = "limit", .n_errors = 2},

    /* ---- Idempotency-Key (phase 2): one line of 1..128 printable ASCII, on POST ---- */
    {"Idempotency-Key empty", .method = "POST", .path = "/users", .headers = KEY_HEADER(""), .body = VALID, .status = 400, .code = "VALIDATION_FAILED", .field = "Idempotency-Key", .n_errors = 1},
    {"Idempotency-Key 129 characters", .method = "POST", .path = "/users", .headers = KEY_HEADER(KEY_128 "k"), .body = VALID, .status = 400, .code = "VALIDATION_FAILED", .field = "Idempotency-Key"},
    {"Idempotency-Key with a tab", .method = "POST", .path = "/users", .headers = KEY_HEADER("a\\tb"), .body = VALID, .status = 400, .code = "VALIDATION_FAILED", .field = "Idempotency-Key"},
    {"Idempotency-Key with DEL", .method = "POST", .path = "/users", .headers = KEY_HEADER("a\\u007fb"), .body = VALID, .status = 400, .code = "VALIDATION_FAILED", .field = "Idempotency-Key"},
    {"Idempotency-Key not ASCII", .method = "POST", .path = "/users", .headers = KEY_HEADER("caf\\u00e9"), .body = VALID, .status = 400, .code = "VALIDATION_FAILED", .field = "Idempotency-Key"},
    {"Idempotency-Key holding a NUL is dropped with the event's other such values", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":\"application/json\",\"Idempotency-Key\":\"a\\u0000b\"},\"body\":\"{\\\"name\\\":\\\"Ada\\\",\\\"email\\\":\\\"a@b.co\\\"}\"}", .ddb = CREATED, .status = 201},
    {"Idempotency-Key repeated", .method = "POST", .path = "/users", .headers = "{\"Content-Type\":[\"application/json\"],\"Idempotency-Key\":[\"k\",\"k\"]}", .body = VALID, .status = 400, .code = "VALIDATION_FAILED", .field = "Idempotency-Key"},
    {"Idempotency-Key and a bad field", .method = "POST", .path = "/users", .headers = KEY_HEADER(""), .body = WITH_AGE("-1"), .status = 400, .code = "VALIDATION_FAILED", .field = "age", .n_errors = 2},
    {"Idempotency-Key after 415", .method = "POST", .path = "/users", .headers = "{\"Content-Type\":[\"text/plain\"],\"Idempotency-Key\":[\"\"]}", .body = VALID, .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"Idempotency-Key 128 characters", .method = "POST", .path = "/users", .headers = KEY_HEADER(KEY_128), .body = VALID, .ddb = CREATED, .status = 201},
    {"Idempotency-Key of punctuation", .method = "POST", .path = "/users", .headers = KEY_HEADER(" !#$%&'()*+,-./:;<=>?@[]^_`{|}~"), .body = VALID, .ddb = CREATED, .status = 201},
    {"Idempotency-Key on update is ignored", .method = "PATCH", .path = "/users/" ID, .headers = KEY_HEADER(""), .body = "{\"age\":3}", .ddb = UPDATED, .status = 200},

    /* ---- Events: not API Gateway events, or only just ---- */
    {"not JSON", .event = "this is not json", .status = 0},
    {"a JSON array", .event = "[{\"httpMethod\":\"GET\"}]", .status = 0},
    {"an empty object", .event = "{}", .status = 0},
    {"version 1.0 without httpMethod", .event = "{\"version\":\"1.0\",\"path\":\"/users\"}", .status = 0},
    {"a stream record", .event = "{\"Records\":[{\"eventName\":\"INSERT\",\"dynamodb\":{}}]}", .status = 0},
    {"invalid UTF-8 in a header", .event = "{\"httpMethod\":\"GET\",\"path\":\"/users\",\"headers\":{\"X-Name\":\"\xff\"}}", .status = 0},
    {"invalid UTF-8 in the path", .event = "{\"httpMethod\":\"GET\",\"path\":\"/users/\xc0\xaf\"}", .status = 0},
    {"invalid UTF-8 in a query", .event = "{\"httpMethod\":\"GET\",\"path\":\"/users\",\"queryStringParameters\":{\"limit\":\"\xe2\x82\"}}", .status = 0},
    {"lone surrogate in the event", .event = "{\"httpMethod\":\"GET\",\"path\":\"/users\\ud800\"}", .status = 0},
    {"truncated event", .event = "{\"httpMethod\":\"GET\",\"path\":\"/us", .status = 0},
    {"httpMethod null", .event = "{\"httpMethod\":null}", .status = 0},
    {"method null on a known path", .event = "{\"httpMethod\":null,\"path\":\"/users\"}", .status = 0},
    {"method a number on a user", .event = "{\"httpMethod\":5,\"path\":\"/users/" ID "\"}", .status = 0},
    {"v2 method missing", .event = "{\"version\":\"2.0\",\"rawPath\":\"/users\",\"requestContext\":{\"http\":{}}}", .status = 405, .code = "METHOD_NOT_ALLOWED"},
    {"v2 method a list", .event = "{\"version\":\"2.0\",\"rawPath\":\"/users\",\"requestContext\":{\"http\":{\"method\":[\"GET\"]}}}", .status = 0},
    {"path missing", .event = "{\"httpMethod\":\"GET\"}", .status = 404, .code = "NOT_FOUND"},
    {"path null", .event = "{\"httpMethod\":\"GET\",\"path\":null}", .status = 0},
    {"path a number", .event = "{\"httpMethod\":\"GET\",\"path\":42}", .status = 0},
    {"method, path and headers ill-typed", .event = "{\"httpMethod\":5,\"path\":[],\"headers\":\"x\"}", .status = 0},
    {"body an object", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":{\"name\":\"N\"}}", .status = 0},
    {"v2 with nothing else", .event = "{\"version\":\"2.0\"}", .status = 404, .code = "NOT_FOUND"},
    {"v2 stage prefix", .event = "{\"version\":\"2.0\",\"rawPath\":\"/prod/users/nope\",\"requestContext\":{\"stage\":\"prod\",\"http\":{\"method\":\"GET\"}}}", .status = 404, .code = "NOT_FOUND"},
    {"escaped NUL in a query name", .event = "{\"httpMethod\":\"GET\",\"path\":\"/users\",\"multiValueQueryStringParameters\":{\"li\\u0000mit\":[\"0\"]}}", .ddb = PAGE, .status = 200},
    {"escaped NUL in a header name", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\\u0000\":\"application/json\"},\"body\":\"{}\"}", .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"escaped NUL in Content-Type", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"headers\":{\"Content-Type\":\"application/json\\u0000\"},\"body\":\"{}\"}", .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
    {"escaped NUL in the method", .event = "{\"httpMethod\":\"GET\\u0000\",\"path\":\"/nowhere\"}", .status = 404, .code = "NOT_FOUND"},
    {"header values of every type", .event = "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"multiValueHeaders\":{\"Content-Type\":[null,1,true,{},[]]},\"body\":\"{}\"}", .status = 415, .code = "UNSUPPORTED_MEDIA_TYPE"},
};
/* clang-format on */
#define N_CASES (sizeof cases / sizeof cases[0])

/* ---- Building the events ---- */

static void b64_encode(const char *p, size_t n, buf *out) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)(unsigned char)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)(unsigned char)p[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)p[i + 2];
        char q[4] = {a[v >> 18], a[(v >> 12) & 63], i + 1 < n ? a[(v >> 6) & 63] : '=',
                     i + 2 < n ? a[v & 63] : '='};
        assert_int_equal(buf_append(out, q, 4), UA_OK);
    }
}

static void repeat(buf *b, const char *s, size_t times) {
    for (size_t i = 0; i < times; i++)
        assert_int_equal(buf_append_str(b, s), UA_OK);
}

/* A create body of exactly total bytes: a valid object padded with blanks. */
static void padded_body(buf *b, size_t total) {
    assert_int_equal(buf_append_str(b, VALID), UA_OK);
    while (b->len < total)
        assert_int_equal(buf_append_char(b, ' '), UA_OK);
}

/* The generated body (or header, or query) of c. */
static void generate(const bad_case *c, buf *body, buf *extra) {
    switch (c->g) {
        case GEN_BODY_16384:
            padded_body(body, UA_MAX_BODY_BYTES);
            break;
        case GEN_BODY_16385:
            padded_body(body, UA_MAX_BODY_BYTES + 1);
            break;
        case GEN_BODY_10MB:
            padded_body(body, (size_t)10 * 1000 * 1000);
            break;
        case GEN_GARBAGE_20000:
            repeat(body, "garbage!", 2500);
            break;
        case GEN_NEST_DEEP:
            assert_int_equal(buf_append_str(body, "{" EMAIL_OK ",\"name\":"), UA_OK);
            repeat(body, "[", 5000);
            repeat(body, "]", 5000);
            assert_int_equal(buf_append_char(body, '}'), UA_OK);
            break;
        case GEN_NAME_101:
        case GEN_NAME_100:
            assert_int_equal(buf_append_str(body, "{" EMAIL_OK ",\"name\":\""), UA_OK);
            repeat(body, c->g == GEN_NAME_100 ? "\xc3\xa9" : "a", c->g == GEN_NAME_100 ? 100 : 101);
            assert_int_equal(buf_append_str(body, "\"}"), UA_OK);
            break;
        case GEN_LOCAL_65:
        case GEN_LOCAL_64:
            assert_int_equal(buf_append_str(body, "{" NAME_OK ",\"email\":\""), UA_OK);
            repeat(body, "a", c->g == GEN_LOCAL_65 ? 65 : 64);
            assert_int_equal(buf_append_str(body, "@example.com\"}"), UA_OK);
            break;
        case GEN_LABEL_64:
            assert_int_equal(buf_append_str(body, "{" NAME_OK ",\"email\":\"a@"), UA_OK);
            repeat(body, "b", 64);
            assert_int_equal(buf_append_str(body, ".com\"}"), UA_OK);
            break;
        case GEN_EMAIL_255: /* 64 + '@' + (62 + 61 + 61 + 3 dots) + "com" = 255 */
            assert_int_equal(buf_append_str(body, "{" NAME_OK ",\"email\":\""), UA_OK);
            repeat(body, "a", 64);
            assert_int_equal(buf_append_char(body, '@'), UA_OK);
            for (int i = 0; i < 3; i++) {
                repeat(body, "b", i == 0 ? 62 : 61);
                assert_int_equal(buf_append_char(body, '.'), UA_OK);
            }
            assert_int_equal(buf_append_str(body, "com\"}"), UA_OK);
            break;
        case GEN_IF_MATCH_17:
            assert_int_equal(buf_append_str(extra, "{\"If-Match\":[\""), UA_OK);
            for (int i = 1; i <= 17; i++)
                assert_int_equal(buf_appendf(extra, "%s\\\"%d\\\"", i > 1 ? ", " : "", i), UA_OK);
            assert_int_equal(buf_append_str(extra, "\"]}"), UA_OK);
            break;
        case GEN_TOKEN_257:
            assert_int_equal(buf_append_str(extra, "{\"nextToken\":[\""), UA_OK);
            repeat(extra, "A", 257);
            assert_int_equal(buf_append_str(extra, "\"]}"), UA_OK);
            break;
        case GEN_NONE:
            break;
    }
}

static json_t *parse_fragment(const char *text, const char *what, const bad_case *c) {
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j)
        fail_msg("case '%s': %s does not parse: %s", c->name, what, err.text);
    return j;
}

/* The event of case i as JSON text, into out. */
static void build_event(size_t i, buf *out) {
    const bad_case *c = &cases[i];
    buf_reset(out);
    if (c->event) {
        assert_int_equal(buf_append_str(out, c->event), UA_OK);
        return;
    }
    buf body, extra;
    buf_init(&body, (size_t)32 * 1024 * 1024);
    buf_init(&extra, 64 * 1024);
    generate(c, &body, &extra);
    const char *headers_text = c->g == GEN_IF_MATCH_17 ? buf_str(&extra) : c->headers;
    const char *query_text = c->g == GEN_TOKEN_257 ? buf_str(&extra) : c->query;
    bool has_body = c->body || body.len > 0;
    if (c->body)
        assert_int_equal(buf_append(&body, c->body, c->body_len ? c->body_len : strlen(c->body)),
                         UA_OK);
    if (!headers_text)
        headers_text = has_body ? JSON_CT : "{}";

    json_t *multi = parse_fragment(headers_text, "headers", c);
    json_t *ev = json_object();
    char rid[32];
    snprintf(rid, sizeof rid, "apigw-%03zu", i);
    json_t *body_value = json_null();
    if (has_body) {
        if (c->b64) {
            buf enc;
            buf_init(&enc, (size_t)64 * 1024 * 1024);
            b64_encode(body.data, body.len, &enc);
            body_value = json_stringn(buf_str(&enc), enc.len);
            buf_free(&enc);
        } else {
            body_value = json_stringn(buf_str(&body), body.len);
        }
        if (!body_value)
            fail_msg("case '%s': a body that is not UTF-8 must be sent base64", c->name);
    }

    if (c->v == 2) {
        json_t *joined = json_object();
        const char *name;
        json_t *vals;
        json_object_foreach(multi, name, vals) {
            buf j;
            buf_init(&j, 4096);
            size_t k;
            json_t *v;
            json_array_foreach(vals, k, v) {
                assert_int_equal(buf_appendf(&j, "%s%s", k ? "," : "", json_string_value(v)),
                                 UA_OK);
            }
            json_object_set_new(joined, name, json_string(buf_str(&j)));
            buf_free(&j);
        }
        json_object_set_new(ev, "version", json_string("2.0"));
        json_object_set_new(ev, "rawPath", json_string(c->path));
        json_object_set_new(ev, "rawQueryString", json_string(query_text ? query_text : ""));
        json_object_set_new(ev, "headers", joined);
        json_object_set_new(ev, "requestContext",
                            json_pack("{s:s, s:s, s:{s:s, s:s}}", "requestId", rid, "stage",
                                      "$default", "http", "method", c->method, "path", c->path));
    } else {
        json_t *single = json_object();
        const char *name;
        json_t *vals;
        json_object_foreach(multi, name, vals) {
            json_object_set(single, name, json_array_get(vals, json_array_size(vals) - 1));
        }
        json_t *mq = query_text ? parse_fragment(query_text, "query", c) : json_null();
        json_t *sq = json_object();
        json_object_foreach(mq, name, vals) {
            json_object_set(sq, name, json_array_get(vals, json_array_size(vals) - 1));
        }
        json_object_set_new(ev, "httpMethod", json_string(c->method));
        json_object_set_new(ev, "path", json_string(c->path));
        json_object_set_new(ev, "resource", json_string("/{proxy+}"));
        json_object_set_new(ev, "headers", single);
        json_object_set(ev, "multiValueHeaders", multi);
        json_object_set_new(ev, "queryStringParameters", query_text ? sq : json_null());
        if (!query_text)
            json_decref(sq);
        json_object_set_new(ev, "multiValueQueryStringParameters", mq);
        json_object_set_new(ev, "requestContext",
                            json_pack("{s:s, s:s}", "requestId", rid, "stage", "prod"));
    }
    json_object_set_new(ev, "body", body_value);
    json_object_set_new(ev, "isBase64Encoded", json_boolean(c->b64));
    char *text = json_dumps(ev, JSON_COMPACT);
    assert_non_null(text);
    assert_int_equal(buf_append_str(out, text), UA_OK);
    free(text);
    json_decref(ev);
    json_decref(multi);
    buf_free(&body);
    buf_free(&extra);
}

/* ---- Checking an answer ---- */

/* How many DynamoDB calls case c costs. */
static size_t calls_of(const bad_case *c) {
    return (c->ddb ? 1u : 0u) + (c->ddb_then ? 1u : 0u);
}

/* Checks status, code and fields of an answer against case c; a message on mismatch. */
static bool answer_matches(const bad_case *c, int status, const char *body, size_t len, char *why,
                           size_t why_len) {
    if (status != c->status) {
        snprintf(why, why_len, "status %d, want %d: %.300s", status, c->status, body);
        return false;
    }
    json_t *doc = len ? json_loadb(body, len, JSON_ALLOW_NUL, NULL) : NULL;
    const char *code = json_string_value(json_object_get(doc, "code"));
    const json_t *errors = json_object_get(doc, "errors");
    const char *field = json_string_value(json_object_get(json_array_get(errors, 0), "field"));
    bool ok = true;
    if (c->code && (!code || strcmp(code, c->code) != 0)) {
        snprintf(why, why_len, "code %s, want %s: %.300s", code ? code : "(none)", c->code, body);
        ok = false;
    } else if (!c->code && status >= 400) {
        snprintf(why, why_len, "the case names no code for a %d", status);
        ok = false;
    } else if (c->field && (!field || strcmp(field, c->field) != 0)) {
        snprintf(why, why_len, "first field %s, want %s: %.300s", field ? field : "(none)",
                 c->field, body);
        ok = false;
    } else if (c->n_errors && json_array_size(errors) != (size_t)c->n_errors) {
        snprintf(why, why_len, "%zu errors, want %d: %.300s", json_array_size(errors), c->n_errors,
                 body);
        ok = false;
    } else if (status >= 400 && json_integer_value(json_object_get(doc, "status")) != status) {
        snprintf(why, why_len, "the problem's status is not the answer's: %.300s", body);
        ok = false;
    }
    json_decref(doc);
    return ok;
}

static void test_catalogue_is_large_enough(void **state) {
    (void)state;
    size_t bad = 0;
    for (size_t i = 0; i < N_CASES; i++)
        bad += cases[i].status == 0 || cases[i].status >= 400;
    print_message("%zu cases, %zu of them bad input\n", N_CASES, bad);
    assert_true(bad >= 150);
}

/* Every case through apigw_parse and users_handle, with a fake DynamoDB. */
static void test_catalogue_through_the_handler(void **state) {
    (void)state;
    buf event;
    buf_init(&event, (size_t)64 * 1024 * 1024);
    size_t failures = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        const bad_case *c = &cases[i];
        char why[512] = "";
        build_event(i, &event);
        apigw_event ev;
        ua_status st = apigw_parse(buf_str(&event), event.len, "lambda-id", &ev);
        if (c->status == 0) {
            if (st != UA_ERR_INVALID) {
                print_error("case %zu '%s': parsed (status %d), want an invocation error\n", i,
                            c->name, (int)st);
                failures++;
            }
            apigw_event_free(&ev);
            continue;
        }
        if (st != UA_OK) {
            print_error("case %zu '%s': the event does not parse (%d)\n", i, c->name, (int)st);
            failures++;
            continue;
        }
        int64_t now = NOW_MS;
        fake_ids ids = {0};
        fake_ddb ddb;
        fake_ddb_init(&ddb);
        if (c->ddb)
            fake_ddb_push_json(&ddb, DDB_OK, c->ddb, NULL);
        if (c->ddb_then)
            fake_ddb_push_json(&ddb, DDB_OK, c->ddb_then, NULL);
        users_deps deps = {.table = "UsersTable",
                           .claims_table = "UsersTable-claims",
                           .ddb = fake_ddb_port(&ddb),
                           .now_ms = fake_clock_now_ms,
                           .clock_ctx = &now,
                           .new_id = fake_ids_next,
                           .id_ctx = &ids};
        api_response resp;
        users_outcome out;
        assert_int_equal(api_response_init(&resp), UA_OK);
        users_handle(&deps, &ev.req, NOW_MS + 10000, &resp, &out);
        buf proxy;
        buf_init(&proxy, UA_MAX_RESPONSE_BYTES);
        bool ok =
            answer_matches(c, resp.status, buf_str(&resp.body), resp.body.len, why, sizeof why);
        if (ok && ddb.n_calls != calls_of(c)) {
            snprintf(why, sizeof why, "%zu DynamoDB calls, want %zu", ddb.n_calls, calls_of(c));
            ok = false;
        }
        if (ok && apigw_format_response(ev.format, &resp, &proxy) != UA_OK) {
            snprintf(why, sizeof why, "the answer cannot be written as a proxy response");
            ok = false;
        }
        if (!ok) {
            print_error("case %zu '%s': %s\n", i, c->name, why);
            failures++;
        }
        buf_free(&proxy);
        api_response_free(&resp);
        fake_ddb_free(&ddb);
        apigw_event_free(&ev);
    }
    buf_free(&event);
    if (failures)
        fail_msg("%zu of %zu cases answered otherwise", failures, N_CASES);
}

/* The whole catalogue through one real bootstrap process, in a row. */
static void test_catalogue_end_to_end(void **state) {
    (void)state;
    fake_http *rt = fake_http_start(), *ddb = fake_http_start();
    assert_non_null(rt);
    assert_non_null(ddb);
    buf event;
    buf_init(&event, (size_t)64 * 1024 * 1024);
    for (size_t i = 0; i < N_CASES; i++) {
        char id[32];
        snprintf(id, sizeof id, "case-%03zu", i);
        build_event(i, &event);
        bootproc_push_event(rt, id, buf_str(&event), event.len, 600000);
        bootproc_push_accepted(rt);
        const char *replies[] = {cases[i].ddb, cases[i].ddb_then};
        for (size_t k = 0; k < 2 && replies[k]; k++)
            fake_http_push(ddb, &(fake_response){.headers = "Content-Type: "
                                                            "application/x-amz-json-1.0\r\n",
                                                 .body = replies[k],
                                                 .crc = true});
    }
    buf_free(&event);
    bootproc p;
    if (!bootproc_run(USERS_BOOTSTRAP, rt, ddb, NULL, 240000, &p))
        fail_msg("could not start %s", USERS_BOOTSTRAP);
    size_t failures = 0, want_calls = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        const bad_case *c = &cases[i];
        char path[64], why[512] = "";
        want_calls += calls_of(c);
        snprintf(path, sizeof path, "/invocation/case-%03zu/%s", i,
                 c->status ? "response" : "error");
        const fake_request *r = bootproc_find(rt, path, 0);
        if (!r) {
            print_error("case %zu '%s': no %s posted\n", i, c->name, path);
            failures++;
            continue;
        }
        if (c->status == 0)
            continue;
        json_t *proxy = json_loadb(r->body, r->body_len, 0, NULL);
        const json_t *body = json_object_get(proxy, "body");
        if (!answer_matches(c, (int)json_integer_value(json_object_get(proxy, "statusCode")),
                            json_string_value(body), json_string_length(body), why, sizeof why)) {
            print_error("case %zu '%s' (end to end): %s\n", i, c->name, why);
            failures++;
        }
        json_decref(proxy);
    }
    print_message("%zu cases through one bootstrap in %.0f ms (exit %d)\n", N_CASES, p.elapsed_ms,
                  p.status);
    if (p.status != 1) { /* 1: the Runtime API's final 404, after the last case */
        print_error("bootstrap exit status %d\n%s", p.status, p.err);
        failures++;
    }
    if (bootproc_sanitizer_report(&p)) {
        print_error("sanitizer report from bootstrap:\n%s", p.err);
        failures++;
    }
    size_t calls = fake_http_request_count(ddb);
    bootproc_free(&p);
    fake_http_stop(rt);
    fake_http_stop(ddb);
    assert_int_equal(calls, want_calls);
    if (failures)
        fail_msg("%zu of %zu cases answered otherwise end to end", failures, N_CASES);
}

/* Nothing a client sends can put a control character into a response header: the one place
 * headers are set refuses them (api_response_set_header), and the one header that can carry
 * request data (Access-Control-Allow-Origin) only ever echoes an exactly listed origin. */
static void test_response_headers_refuse_control_characters(void **state) {
    (void)state;
    static const char *const bad_values[] = {
        "a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "\x01", "a\x1f", "\x7f", "a\vb"};
    static const char *const bad_names[] = {"", "X Y", "X:Y", "X\r\nY", "X\nY", "(X)", "X\x7f"};
    api_response r;
    assert_int_equal(api_response_init(&r), UA_OK);
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++)
        assert_int_equal(api_response_set_header(&r, "X-Test", bad_values[i]), UA_ERR_INVALID);
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        assert_int_equal(api_response_set_header(&r, bad_names[i], "v"), UA_ERR_INVALID);
    assert_int_equal(api_response_set_header(&r, "X-Test", "\xff\xfe"), UA_ERR_INVALID);
    assert_int_equal(api_response_set_header(&r, "X-Test", NULL), UA_ERR_INVALID);
    assert_int_equal(json_object_size(r.headers), 0);
    assert_int_equal(api_response_set_header(&r, "X-Test", "tab\tis field content"), UA_OK);
    api_response_free(&r);

    /* An Origin built to split the header is never echoed, listed origins or not. */
    static const char *const configs[] = {NULL, "*", "https://a.example,https://b.example"};
    json_t *headers =
        json_pack("{s:[s]}", "origin", "https://a.example\r\nSet-Cookie: session=stolen");
    api_request req = {.method = "GET", .path = "/", .headers = headers, .request_id = "r"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(api_response_init(&r), UA_OK);
        assert_int_equal(cors_set_headers(&r, &req, configs[i]), UA_OK);
        const char *origin =
            json_string_value(json_object_get(r.headers, "Access-Control-Allow-Origin"));
        assert_non_null(origin);
        assert_null(strpbrk(origin, "\r\n"));
        assert_string_equal(origin, i < 2 ? "*" : "https://a.example");
        api_response_free(&r);
    }
    json_decref(headers);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue_is_large_enough),
        cmocka_unit_test(test_response_headers_refuse_control_characters),
        cmocka_unit_test(test_catalogue_through_the_handler),
        cmocka_unit_test(test_catalogue_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
