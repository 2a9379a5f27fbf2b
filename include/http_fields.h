/* http_fields.h — the grammar of the two request header fields the API reads itself (RFC 9110):
 * Content-Type's media type with its parameters, and If-Match's entity tags.
 *
 * Field values are untrusted (pointer, length) views, never assumed NUL-terminated; nothing here
 * allocates or keeps a pointer to them. */
#ifndef USERS_HTTP_FIELDS_H
#define USERS_HTTP_FIELDS_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>

/* ---- Content-Type ---- */

/* Whether value is one of the media types in accepted (lowercase "type/subtype" strings, the
 * list ended by NULL; borrowed), compared case-insensitively and followed by any parameters:
 * *( OWS ";" OWS [ name "=" ( token / quoted-string ) ] ). A charset parameter, when given,
 * must be utf-8 (any case): the API reads JSON, which has no other encoding on the wire. */
UA_WARN_UNUSED bool http_media_type_is(ua_span value, const char *const *accepted);

/* ---- If-Match ---- */

/* If-Match reduced to what a conditional write must check: the versions a strong entity tag
 * names. A tag can only match when it is a version as the API writes it, canonical decimal
 * ("3"); weak tags never match under If-Match's strong comparison. */
typedef struct http_if_match {
    bool conditional; /* entity tags were listed: the version must be one of versions[] */
    size_t n;         /* versions[0..n), each once, in the order listed */
    long long versions[UA_MAX_IF_MATCH_TAGS];
    size_t tags, stars; /* elements seen so far: parse state for http_if_match_finish */
} http_if_match;

/* An If-Match field with no line yet: unconditional. */
void http_if_match_init(http_if_match *m);

/* Adds one field line to m: "*" or a comma-separated list of entity tags, empty elements
 * allowed (as in every HTTP list); repeated lines form one list. false when the line is
 * malformed or the field now lists more than UA_MAX_IF_MATCH_TAGS tags. */
UA_WARN_UNUSED bool http_if_match_add_line(http_if_match *m, ua_span line);

/* Ends the field: true when it is exactly one "*" (m stays unconditional) or a non-empty list
 * of tags (m is conditional; n is 0 when no tag can match). false otherwise: empty, or "*"
 * repeated or mixed with tags. */
UA_WARN_UNUSED bool http_if_match_finish(http_if_match *m);

#endif
