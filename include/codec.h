/* codec.h — the byte codecs both the function and the local gateway use: base64 (API Gateway's
 * isBase64Encoded bodies), base64url (the page token) and the percent-decoding of query strings.
 *
 * Every function reads a (pointer, length) view of untrusted bytes, never assumed
 * NUL-terminated, and appends to a bounded buf owned by the caller: UA_ERR_TOO_BIG when its
 * limit is passed, UA_ERR_NOMEM. On any error out may hold part of the result; callers that
 * keep out reset it.
 *
 * The base64 decoders are strict (RFC 4648, section 3.5 "canonical encoding"): only the
 * alphabet's characters, no whitespace, no length a encoder cannot produce, and zero unused bits
 * in the last character, so each byte string has exactly one encoding. Anything else is
 * UA_ERR_INVALID. */
#ifndef USERS_CODEC_H
#define USERS_CODEC_H

#include "buf.h"
#include "common.h"
#include "span.h"

#include <stdbool.h>
#include <stddef.h>

/* ---- base64: RFC 4648 section 4, alphabet A-Z a-z 0-9 + / ---- */

/* codec_base64_decode flag: the '=' padding may be left out (a padded text must still be a
 * multiple of 4 long). Without it the text must be padded to a multiple of 4, as API Gateway
 * and every mainstream encoder write it. */
#define CODEC_BASE64_PAD_OPTIONAL 1u

/* Appends the base64 of the n bytes at p, padded with '='. */
UA_WARN_UNUSED ua_status codec_base64_encode(const void *p, size_t n, buf *out);

/* Appends the bytes the base64 text p[0..n) stands for; flags is 0 or CODEC_BASE64_PAD_OPTIONAL.
 * '=' only as padding at the very end. */
UA_WARN_UNUSED ua_status codec_base64_decode(const char *p, size_t n, unsigned flags, buf *out);

/* ---- base64url: RFC 4648 section 5, alphabet A-Z a-z 0-9 - _, never padded ---- */

/* Appends the base64url of the n bytes at p, without padding. */
UA_WARN_UNUSED ua_status codec_base64url_encode(const void *p, size_t n, buf *out);

/* Appends the bytes the unpadded base64url text p[0..n) stands for; '=' is refused. */
UA_WARN_UNUSED ua_status codec_base64url_decode(const char *p, size_t n, buf *out);

/* ---- Query strings (application/x-www-form-urlencoded, as API Gateway reads them) ---- */

/* codec_query_decode flags: what API Gateway's two readers differ on. */
#define CODEC_QUERY_STRICT_ESCAPES                                                                 \
    1u /* a '%' not followed by two hex digits is UA_ERR_INVALID;                                  \
        * without the flag it stays a literal '%' */
#define CODEC_QUERY_REFUSE_NUL                                                                     \
    2u /* a "%00" is UA_ERR_INVALID: the value could never pass                                    \
        * through a C string whole */

/* Appends one name or value of a query string decoded: '+' is a space, "%XX" (either case)
 * the byte 0xXX, every other byte itself. The bytes need not be UTF-8; the caller checks. */
UA_WARN_UNUSED ua_status codec_query_decode(const char *p, size_t n, unsigned flags, buf *out);

/* The next parameter of a raw query string ("a=1&b&=c&a=2"): *name and *value are views into
 * *rest, still encoded, and *rest moves past them. A parameter without '=' has an empty value;
 * empty pieces between '&'s and pieces with an empty name are skipped. false at the end. */
bool codec_query_next(ua_span *rest, ua_span *name, ua_span *value);

#endif
