/* span.h — what the parsers do with a ua_span (common.h), the non-owning view of bytes: make one,
 * trim it, split it, compare it.
 *
 * Every function takes and returns views into the caller's bytes: nothing is copied, allocated
 * or assumed NUL-terminated, and a result lives as long as the bytes it points into. A span of
 * length 0 may have a NULL ptr. Comparisons that ignore case fold ASCII letters only, as HTTP
 * does for its tokens (RFC 9110, 5.1 and 8.3.1). */
#ifndef USERS_SPAN_H
#define USERS_SPAN_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>

/* HTTP's optional whitespace (RFC 9110, 5.6.3): around list elements and field values. */
#define UA_OWS " \t"
/* ASCII whitespace as the field rules trim it (users-api.md, "The resource"). */
#define UA_ASCII_WHITESPACE " \t\r\n"

/* A view of the C string s, without its NUL; the empty span for NULL. */
ua_span ua_span_from_cstr(const char *s);

/* s without the bytes of set (a C string) at either end. */
ua_span ua_span_trim(ua_span s, const char *set);

/* s without HTTP optional whitespace (space, tab) at either end. */
ua_span ua_span_trim_ows(ua_span s);

/* Whether a and b hold the same bytes. */
bool ua_span_eq(ua_span a, ua_span b);

/* Whether s equals the C string lit, starts with it, or ends with it, ignoring ASCII case. */
bool ua_span_eq_ignore_case(ua_span s, const char *lit);
bool ua_span_starts_with_ignore_case(ua_span s, const char *lit);
bool ua_span_ends_with_ignore_case(ua_span s, const char *lit);

/* Splits s at its first sep: *head is what comes before it and *tail what comes after. false
 * when s holds no sep: *head is then s, and *tail empty. */
bool ua_span_cut(ua_span s, char sep, ua_span *head, ua_span *tail);

/* Iterates over the pieces of a sep-separated list: puts the piece at the front of *rest in
 * *piece and moves *rest past it and its separator. false, with *piece empty, once *rest is
 * empty. Empty pieces between separators are yielded as such; a trailing separator yields no
 * empty last piece, so a caller that skips empty pieces sees exactly the non-empty ones.
 *
 *     ua_span rest = list, piece;
 *     while (ua_span_split(&rest, ',', &piece)) { ... ua_span_trim_ows(piece) ... } */
bool ua_span_split(ua_span *rest, char sep, ua_span *piece);

#endif
