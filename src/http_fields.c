/* http_fields.c — Content-Type and If-Match as RFC 9110 spells them (see http_fields.h). */
#include "http_fields.h"

#include "span.h"

#include <string.h>

#define MAX_CHARSET_CHARS  32u /* longer charset names are not "utf-8" anyway */
#define MAX_VERSION_DIGITS 18u /* every decimal of this many digits fits a long long */

/* ---- OWS and tokens ---- */

static bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

static size_t skip_ows(const char *s, size_t len, size_t i) {
    while (i < len && is_ows(s[i]))
        i++;
    return i;
}

static size_t skip_token(const char *s, size_t len, size_t i) {
    while (i < len && ua_is_tchar((unsigned char)s[i]))
        i++;
    return i;
}

/* ---- Media type parameters ---- */

/* A parameter value at s[*i]: a token or a quoted-string, unescaped into val (truncated
 * past cap, which the caller treats as "not utf-8"). false when malformed. */
static bool param_value(const char *s, size_t len, size_t *i, char *val, size_t cap, size_t *vlen) {
    size_t j = *i, n = 0;
    if (j < len && s[j] == '"') {
        for (j++; j < len && s[j] != '"'; j++) {
            if (s[j] == '\\' && ++j == len)
                return false;
            if ((unsigned char)s[j] < 0x20 && s[j] != '\t')
                return false;
            if (n < cap)
                val[n] = s[j];
            n++;
        }
        if (j == len)
            return false;
        j++;
    } else {
        size_t end = skip_token(s, len, j);
        if (end == j)
            return false;
        for (; j < end; j++, n++)
            if (n < cap)
                val[n] = s[j];
    }
    *i = j;
    *vlen = n;
    return true;
}

/* Parameters after the media type: *( OWS ";" OWS [ name "=" value ] ). A charset, when
 * given, must be utf-8: JSON has no other encoding on the wire. */
static bool params_ok(const char *s, size_t len, size_t i) {
    char val[MAX_CHARSET_CHARS];
    for (;;) {
        i = skip_ows(s, len, i);
        if (i == len)
            return true;
        if (s[i] != ';')
            return false;
        i = skip_ows(s, len, i + 1);
        if (i == len || s[i] == ';')
            continue;
        size_t name = i;
        i = skip_token(s, len, i);
        if (i == name || i == len || s[i] != '=')
            return false;
        size_t name_len = i - name, vlen;
        i++;
        if (!param_value(s, len, &i, val, sizeof val, &vlen))
            return false;
        if (ua_span_eq_ignore_case((ua_span){s + name, name_len}, "charset") &&
            (vlen > sizeof val || !ua_span_eq_ignore_case((ua_span){val, vlen}, "utf-8")))
            return false;
    }
}

bool http_media_type_is(ua_span value, const char *const *accepted) {
    const char *s = value.ptr ? value.ptr : "";
    size_t len = value.ptr ? value.len : 0;
    size_t start = skip_ows(s, len, 0);
    size_t type_end = skip_token(s, len, start);
    if (type_end < len && s[type_end] == '/')
        type_end = skip_token(s, len, type_end + 1);
    bool known = false;
    for (; *accepted && !known; accepted++)
        known = ua_span_eq_ignore_case((ua_span){s + start, type_end - start}, *accepted);
    return known && params_ok(s, len, type_end);
}

/* ---- If-Match ---- */

static bool is_etagc(unsigned char c) {
    return c == 0x21 || (c >= 0x23 && c <= 0x7E) || c >= 0x80;
}

/* A strong tag can only match when it is a version as we write it: canonical decimal. */
static void add_version(http_if_match *m, const char *s, size_t len) {
    long long v = 0;
    if (len < 1 || len > MAX_VERSION_DIGITS || s[0] < '1' || s[0] > '9')
        return;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return;
        v = v * 10 + (s[i] - '0');
    }
    for (size_t i = 0; i < m->n; i++)
        if (m->versions[i] == v)
            return;
    m->versions[m->n++] = v;
}

/* One entity-tag at s[*i]; adds its version when it is strong. false when malformed. */
static bool parse_etag(const char *s, size_t len, size_t *i, http_if_match *m) {
    size_t j = *i;
    bool weak = false;
    if (len - j >= 2 && s[j] == 'W' && s[j + 1] == '/') {
        weak = true; /* a weak tag never matches under If-Match's strong comparison */
        j += 2;
    }
    if (j == len || s[j] != '"')
        return false;
    size_t start = ++j;
    while (j < len && is_etagc((unsigned char)s[j]))
        j++;
    if (j == len || s[j] != '"')
        return false;
    if (!weak)
        add_version(m, s + start, j - start);
    *i = j + 1;
    return true;
}

void http_if_match_init(http_if_match *m) {
    memset(m, 0, sizeof *m);
}

bool http_if_match_add_line(http_if_match *m, ua_span line) {
    const char *s = line.ptr ? line.ptr : "";
    size_t len = line.ptr ? line.len : 0, i = 0;
    for (;;) {
        i = skip_ows(s, len, i);
        if (i == len)
            return true;
        if (s[i] == ',') {
            i++;
            continue;
        }
        if (s[i] == '*') {
            m->stars++;
            i++;
        } else {
            if (++m->tags > UA_MAX_IF_MATCH_TAGS || !parse_etag(s, len, &i, m))
                return false;
        }
        i = skip_ows(s, len, i);
        if (i < len && s[i] != ',')
            return false;
    }
}

bool http_if_match_finish(http_if_match *m) {
    bool ok = m->stars + m->tags > 0 && (m->stars == 0 || (m->stars == 1 && m->tags == 0));
    if (ok)
        m->conditional = m->tags > 0;
    return ok;
}
