/* gw_codec.h — the byte codecs only the local gateway needs: Latin-1 transcoding of HTTP
 * header bytes, and untrusted text made safe for a terminal. base64 and query-string decoding are
 * codec.h's, UTF-8 checks utf8.h's: the function uses the same ones.
 *
 * Takes a (pointer, length) view of untrusted bytes (never assumed NUL-terminated) and appends
 * to a bounded buf owned by the caller. */
#ifndef USERS_GW_CODEC_H
#define USERS_GW_CODEC_H

#include "buf.h"
#include "common.h"

#include <stddef.h>

/* Appends the bytes read as ISO-8859-1 and written as UTF-8: what HTTP header bytes that are
 * not UTF-8 mean (RFC 9110, 5.5). */
UA_WARN_UNUSED ua_status gw_latin1_to_utf8(const char *p, size_t n, buf *out);

/* Appends at most max bytes of p (n bytes), each byte that is not printable ASCII as '?', and
 * "..." when p was longer: untrusted text (a path, a field from a datagram) for the console. */
UA_WARN_UNUSED ua_status gw_printable(const char *p, size_t n, size_t max, buf *out);

#endif
