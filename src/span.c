/* span.c — trimming, splitting and comparing byte views (see span.h). */
#include "span.h"

#include <string.h>
#include <strings.h>

ua_span ua_span_from_cstr(const char *s) {
    return s ? (ua_span){s, strlen(s)} : (ua_span){NULL, 0};
}

static bool in_set(char c, const char *set) {
    return c != '\0' && strchr(set, c) != NULL;
}

ua_span ua_span_trim(ua_span s, const char *set) {
    while (s.len > 0 && in_set(s.ptr[0], set)) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && in_set(s.ptr[s.len - 1], set))
        s.len--;
    return s;
}

ua_span ua_span_trim_ows(ua_span s) {
    return ua_span_trim(s, UA_OWS);
}

bool ua_span_eq(ua_span a, ua_span b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Whether the n bytes at a and at b are the same ignoring ASCII case. b (a literal) holds no
 * NUL; a NUL in a makes them differ, as strncasecmp, which the process (never calling
 * setlocale) runs in the C locale: ASCII case only, and several times faster than a loop. */
static bool same_ignore_case(const char *a, const char *b, size_t n) {
    return n == 0 || strncasecmp(a, b, n) == 0; /* an empty span may have a NULL ptr */
}

bool ua_span_eq_ignore_case(ua_span s, const char *lit) {
    size_t n = strlen(lit);
    return s.len == n && same_ignore_case(s.ptr, lit, n);
}

bool ua_span_starts_with_ignore_case(ua_span s, const char *lit) {
    size_t n = strlen(lit);
    return s.len >= n && same_ignore_case(s.ptr, lit, n);
}

bool ua_span_ends_with_ignore_case(ua_span s, const char *lit) {
    size_t n = strlen(lit);
    return n == 0 || (s.len >= n && same_ignore_case(s.ptr + s.len - n, lit, n));
}

bool ua_span_cut(ua_span s, char sep, ua_span *head, ua_span *tail) {
    const char *at = s.len > 0 ? memchr(s.ptr, sep, s.len) : NULL;
    if (!at) {
        *head = s;
        *tail = (ua_span){NULL, 0};
        return false;
    }
    size_t n = (size_t)(at - s.ptr);
    *head = (ua_span){s.ptr, n};
    *tail = (ua_span){at + 1, s.len - n - 1};
    return true;
}

bool ua_span_split(ua_span *rest, char sep, ua_span *piece) {
    if (rest->len == 0) {
        *piece = (ua_span){NULL, 0};
        return false;
    }
    ua_span_cut(*rest, sep, piece, rest);
    return true;
}
