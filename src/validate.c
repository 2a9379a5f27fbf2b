/* validate.c — the contract's field rules: strict UTF-8 (utf8.c), name, email and age, and the
 * members a create or update body may have (see validate.h). */
#include "validate.h"

#include "span.h"
#include "utf8.h"

#include <string.h>

#define MSG_NAME_LENGTH                                                                            \
    "must be " UA_STR(UA_MIN_NAME_CODEPOINTS) " to " UA_STR(UA_MAX_NAME_CODEPOINTS) " characters"
#define MSG_NAME_UTF8 "must be valid UTF-8"
#define MSG_NAME_CTRL "must not contain control characters"
#define MSG_EMAIL     "must be a valid email address"
#define MSG_AGE       "must be an integer from " UA_STR(UA_MIN_AGE) " to " UA_STR(UA_MAX_AGE)

/* Kept under the field rules' prefix for the callers that check a body's bytes (users.c). */
bool validate_utf8(const char *s, size_t len) {
    return utf8_valid(s, len);
}

/* Counts lead bytes: on well-formed input that is the number of code points, and on anything
 * else it still terminates with a sensible answer. */
size_t validate_codepoints(const char *s, size_t len) {
    size_t count = 0;

    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

ua_span validate_trim(ua_span v) {
    return v.ptr ? ua_span_trim(v, UA_ASCII_WHITESPACE) : (ua_span){"", 0};
}

static bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7F;
}

const char *validate_name(ua_span name) {
    if (name.len > 0 && !utf8_valid(name.ptr, name.len))
        return MSG_NAME_UTF8;
    size_t n = validate_codepoints(name.ptr, name.len);
    if (n < UA_MIN_NAME_CODEPOINTS || n > UA_MAX_NAME_CODEPOINTS)
        return MSG_NAME_LENGTH;
    /* Control characters are all single bytes, and no byte of a multi-byte sequence is one. */
    for (size_t i = 0; i < name.len; i++)
        if (is_control((unsigned char)name.ptr[i]))
            return MSG_NAME_CTRL;
    return NULL;
}

/* Printable ASCII other than space and the specials the contract excludes. */
static bool is_local_char(unsigned char c) {
    return c > 0x20 && c < 0x7F && strchr("\"(),:;<>@[\\]", c) == NULL;
}

static bool valid_local_part(const char *s, size_t len) {
    if (len < 1 || len > UA_MAX_EMAIL_LOCAL)
        return false;
    if (s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_local_char((unsigned char)s[i]))
            return false;
        if (s[i] == '.' && s[i + 1] == '.') /* i + 1 < len: the last byte is not a dot */
            return false;
    }
    return true;
}

static bool is_ascii_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ascii_digit(char c) {
    return c >= '0' && c <= '9';
}

/* One label: 1..63 letters, digits and hyphens, not starting or ending with a hyphen. */
static bool valid_label(const char *s, size_t len) {
    if (len < 1 || len > UA_MAX_EMAIL_LABEL)
        return false;
    if (s[0] == '-' || s[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_ascii_letter(s[i]) && !is_ascii_digit(s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool has_letter(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (is_ascii_letter(s[i]))
            return true;
    return false;
}

static bool valid_domain(const char *s, size_t len) {
    size_t labels = 0, start = 0;

    if (len < 1 || len > UA_MAX_EMAIL_DOMAIN)
        return false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        if (!valid_label(s + start, i - start))
            return false;
        labels++;
        if (i == len && !has_letter(s + start, i - start))
            return false; /* an all-numeric top-level label is an IP address, not a domain */
        start = i + 1;
    }
    return labels >= 2;
}

const char *validate_email(ua_span email) {
    const char *at = NULL;

    if (email.len < 1 || email.len > UA_MAX_EMAIL_OCTETS)
        return MSG_EMAIL;
    for (size_t i = 0; i < email.len; i++) {
        if (email.ptr[i] != '@')
            continue;
        if (at)
            return MSG_EMAIL;
        at = email.ptr + i;
    }
    if (!at)
        return MSG_EMAIL;
    size_t local_len = (size_t)(at - email.ptr);
    if (!valid_local_part(email.ptr, local_len) || !valid_domain(at + 1, email.len - local_len - 1))
        return MSG_EMAIL;
    return NULL;
}

const char *validate_age(const json_t *age, bool allow_null) {
    if (!age)
        return NULL; /* absent: age is optional */
    if (json_is_null(age))
        return allow_null ? NULL : MSG_AGE;
    if (!json_is_integer(age)) /* jansson keeps 36.0 a real, so fractions are refused too */
        return MSG_AGE;
    json_int_t v = json_integer_value(age);
    if (v < UA_MIN_AGE || v > UA_MAX_AGE)
        return MSG_AGE;
    return NULL;
}

/* ---- A create or update body ---- */

ua_status validate_add_error(json_t *errors, const char *field, const char *message) {
    json_t *e = json_pack("{s:s, s:s}", "field", field, "message", message);
    if (!e)
        return UA_ERR_NOMEM;
    return json_array_append_new(errors, e) == 0 ? UA_OK : UA_ERR_NOMEM;
}

static ua_status string_field(const json_t *v, const char *field, const char *(*check)(ua_span),
                              ua_span *out, json_t *errors) {
    if (!json_is_string(v))
        return validate_add_error(errors, field, "must be a string");
    *out = validate_trim((ua_span){json_string_value(v), json_string_length(v)});
    const char *msg = check(*out);
    return msg ? validate_add_error(errors, field, msg) : UA_OK;
}

static bool is_server_field(const char *key) {
    return strcmp(key, "userId") == 0 || strcmp(key, "createdAt") == 0 ||
           strcmp(key, "updatedAt") == 0 || strcmp(key, "version") == 0;
}

/* One member of the body: a field it may set, checked, or an error. */
static ua_status check_member(const char *key, const json_t *v, bool create, user_fields *in,
                              json_t *errors) {
    if (strcmp(key, "name") == 0) {
        in->has_name = true;
        return string_field(v, key, validate_name, &in->name, errors);
    }
    if (strcmp(key, "email") == 0) {
        in->has_email = true;
        return string_field(v, key, validate_email, &in->email, errors);
    }
    if (strcmp(key, "age") == 0) {
        in->age = v;
        const char *msg = validate_age(v, !create);
        return msg ? validate_add_error(errors, key, msg) : UA_OK;
    }
    return validate_add_error(
        errors, key, is_server_field(key) ? "is set by the server" : "is not a known field");
}

ua_status validate_user_fields(const json_t *body, bool create, user_fields *in, json_t *errors) {
    const char *key;
    json_t *v;
    ua_status st = UA_OK;

    memset(in, 0, sizeof *in);
    json_object_foreach((json_t *)body, key, v) {
        st = check_member(key, v, create, in, errors);
        if (st != UA_OK)
            return st;
    }
    if (create) {
        if (!in->has_name)
            st = validate_add_error(errors, "name", "is required");
        if (st == UA_OK && !in->has_email)
            st = validate_add_error(errors, "email", "is required");
    } else if (!in->has_name && !in->has_email && !in->age) {
        st = validate_add_error(errors, "body", "must contain at least one of name, email, age");
    }
    return st;
}
