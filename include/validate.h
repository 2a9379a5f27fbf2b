/* validate.h — the contract's field rules for user records (users-api.md, "The resource"), and
 * the members a create or update body may have.
 *
 * Each field check takes untrusted bytes as (pointer, length) and answers NULL when the value
 * is fine, or the message a client sees in the problem document's errors[] when it is not (a
 * static string). */
#ifndef USERS_VALIDATE_H
#define USERS_VALIDATE_H

#include "common.h"

#include <jansson.h>
#include <stdbool.h>

/* Whether s[0..len) is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF):
 * utf8_valid (utf8.h) under the field rules' prefix. */
bool validate_utf8(const char *s, size_t len);

/* Number of code points in well-formed UTF-8 (on other input: the number of non-continuation
 * bytes). */
size_t validate_codepoints(const char *s, size_t len);

/* Removes ASCII whitespace (space, tab, CR, LF) from both ends of v: ua_span_trim (span.h) with
 * UA_ASCII_WHITESPACE. A view into v's bytes; never a NULL ptr, even for a NULL v.ptr. */
ua_span validate_trim(ua_span v);

/* Name, already trimmed: 1..100 code points, UTF-8, no control characters. */
const char *validate_name(ua_span name);

/* Email, already trimmed: at most 254 octets, one '@', local part and domain rules. */
const char *validate_email(ua_span email);

/* Age as a JSON value (borrowed): an integer 0..150; reals (even 36.0), strings and booleans are
 * refused. null is accepted only when allow_null (update). A NULL pointer means the field is
 * absent, which is fine: age is optional. */
const char *validate_age(const json_t *age, bool allow_null);

/* ---- A create or update body ---- */

/* What a create or update body asks to store, checked against the field rules. The spans and
 * age borrow from the body. */
typedef struct user_fields {
    bool has_name, has_email;
    ua_span name, email; /* trimmed */
    const json_t *age;   /* NULL when absent; JSON null (update only) removes the age */
} user_fields;

/* Appends {"field": field, "message": message} (both copied) to errors, the array of a
 * problem's errors[]. UA_ERR_NOMEM when out of memory. */
UA_WARN_UNUSED ua_status validate_add_error(json_t *errors, const char *field, const char *message);

/* Checks every member of body (an object, borrowed) for a create (create) or an update, filling
 * *in, and appends an error to errors for each problem: in the body's order, then the missing
 * fields, so that a client fixes them all in one round trip. UA_OK even when errors were added;
 * UA_ERR_NOMEM when out of memory. */
UA_WARN_UNUSED ua_status validate_user_fields(const json_t *body, bool create, user_fields *in,
                                              json_t *errors);

#endif
