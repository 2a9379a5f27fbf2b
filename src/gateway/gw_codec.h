/* gw_codec.h — the byte codecs the local gateway needs between HTTP and proxy events: Latin-1
 * transcoding, base64, and query-string percent-decoding (UTF-8 checks are utf8.h's).
 *
 * Every function takes a (pointer, length) view of untrusted bytes (never assumed
 * NUL-terminated) and appends to a bounded buf owned by the caller. */
#ifndef USERS_GW_CODEC_H
#define USERS_GW_CODEC_H

#include "buf.h"
#include "common.h"

#include <stddef.h>

/* Appends the bytes read as ISO-8859-1 and written as UTF-8: what HTTP header bytes that are
 * not UTF-8 mean (RFC 9110, 5.5). */
UA_WARN_UNUSED ua_status gw_latin1_to_utf8(const char *p, size_t n, buf *out);

/* Appends the standard base64 (RFC 4648 section 4, with padding) of the n bytes. */
UA_WARN_UNUSED ua_status gw_base64_encode(const void *p, size_t n, buf *out);

/* Appends the bytes base64 text decodes to. Padding may be omitted; anything else that is not
 * canonical base64 (other characters, bad length, bits after the last byte) is
 * UA_ERR_INVALID, and out then holds whatever was appended before the error. */
UA_WARN_UNUSED ua_status gw_base64_decode(const char *p, size_t n, buf *out);

/* Appends one query-string component decoded as API Gateway does: "%XX" becomes the byte,
 * '+' a space. A '%' not followed by two hex digits is UA_ERR_INVALID. */
UA_WARN_UNUSED ua_status gw_query_decode(const char *p, size_t n, buf *out);

#endif
