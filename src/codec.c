/* codec.c — base64, base64url and query-string decoding (see codec.h).
 *
 * Bytes go through a small stack chunk and reach the buf a chunk at a time: bodies run to
 * megabytes, and one buf_append per byte would cost more than the decoding. */
#include "codec.h"

#include <stdint.h>

#define CHUNK 768u /* a multiple of 3 and of 4: whole groups always fit */

/* A stack chunk in front of a buf. */
typedef struct sink {
    buf *out;
    size_t used;
    unsigned char bytes[CHUNK];
} sink;

static ua_status sink_flush(sink *k) {
    ua_status st = k->used ? buf_append(k->out, k->bytes, k->used) : UA_OK;
    k->used = 0;
    return st;
}

/* Makes room for n more bytes (n <= CHUNK). */
static ua_status sink_room(sink *k, size_t n) {
    return k->used + n > CHUNK ? sink_flush(k) : UA_OK;
}

/* ---- base64 and base64url ---- */

static const char BASE64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char BASE64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The n bytes at p in the 64 digits of alphabet, then '=' up to a multiple of 4 when pad. */
static ua_status encode(const unsigned char *p, size_t n, const char *alphabet, bool pad,
                        buf *out) {
    sink k = {.out = out};
    for (size_t i = 0; i < n; i += 3) {
        size_t left = n - i;
        uint32_t v = (uint32_t)p[i] << 16;
        if (left > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        ua_status st = sink_room(&k, 4);
        if (st != UA_OK)
            return st;
        k.bytes[k.used++] = (unsigned char)alphabet[(v >> 18) & 63u];
        k.bytes[k.used++] = (unsigned char)alphabet[(v >> 12) & 63u];
        if (left > 1)
            k.bytes[k.used++] = (unsigned char)alphabet[(v >> 6) & 63u];
        else if (pad)
            k.bytes[k.used++] = '=';
        if (left > 2)
            k.bytes[k.used++] = (unsigned char)alphabet[v & 63u];
        else if (pad)
            k.bytes[k.used++] = '=';
    }
    return sink_flush(&k);
}

ua_status codec_base64_encode(const void *p, size_t n, buf *out) {
    return encode(p, n, BASE64, true, out);
}

ua_status codec_base64url_encode(const void *p, size_t n, buf *out) {
    return encode(p, n, BASE64URL, false, out);
}

/* The value of one digit; the two alphabets differ only in the last two (62 and 63, given in
 * last2). -1 for anything else, '=' included. */
static int digit(unsigned char c, const char *last2) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (unsigned char)last2[0])
        return 62;
    return c == (unsigned char)last2[1] ? 63 : -1;
}

/* Decodes n digits, with no padding: groups of 4 make 3 bytes, and a last group of 2 or 3
 * makes 1 or 2, its unused low bits zero. A last group of 1 cannot be. */
static ua_status decode(const unsigned char *s, size_t n, const char *last2, buf *out) {
    sink k = {.out = out};
    if (n % 4 == 1)
        return UA_ERR_INVALID;
    for (size_t i = 0; i < n; i += 4) {
        size_t digits = n - i < 4 ? n - i : 4;
        uint32_t v = 0;
        for (size_t j = 0; j < 4; j++) {
            int d = j < digits ? digit(s[i + j], last2) : 0;
            if (d < 0)
                return UA_ERR_INVALID;
            v = v << 6 | (uint32_t)d;
        }
        if ((digits == 2 && (v & 0xffffu)) || (digits == 3 && (v & 0xffu)))
            return UA_ERR_INVALID; /* unused bits set: not the canonical encoding */
        ua_status st = sink_room(&k, 3);
        if (st != UA_OK)
            return st;
        k.bytes[k.used++] = (unsigned char)(v >> 16);
        if (digits > 2)
            k.bytes[k.used++] = (unsigned char)(v >> 8);
        if (digits > 3)
            k.bytes[k.used++] = (unsigned char)v;
    }
    return sink_flush(&k);
}

ua_status codec_base64_decode(const char *p, size_t n, unsigned flags, buf *out) {
    size_t pad = 0;
    while (pad < 2 && pad < n && p[n - 1 - pad] == '=')
        pad++;
    if ((pad > 0 || !(flags & CODEC_BASE64_PAD_OPTIONAL)) && n % 4 != 0)
        return UA_ERR_INVALID;
    return decode((const unsigned char *)p, n - pad, "+/", out);
}

ua_status codec_base64url_decode(const char *p, size_t n, buf *out) {
    return decode((const unsigned char *)p, n, "-_", out);
}

/* ---- Query strings ---- */

ua_status codec_query_decode(const char *p, size_t n, unsigned flags, buf *out) {
    sink k = {.out = out};
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = n - i > 2 ? ua_hex_value((unsigned char)p[i + 1]) : -1;
            int lo = n - i > 2 ? ua_hex_value((unsigned char)p[i + 2]) : -1;
            if (hi >= 0 && lo >= 0) {
                c = (unsigned char)(hi * 16 + lo);
                i += 2;
                if (c == '\0' && (flags & CODEC_QUERY_REFUSE_NUL))
                    return UA_ERR_INVALID;
            } else if (flags & CODEC_QUERY_STRICT_ESCAPES) {
                return UA_ERR_INVALID;
            }
        }
        ua_status st = sink_room(&k, 1);
        if (st != UA_OK)
            return st;
        k.bytes[k.used++] = c;
    }
    return sink_flush(&k);
}

bool codec_query_next(ua_span *rest, ua_span *name, ua_span *value) {
    ua_span piece;
    while (ua_span_split(rest, '&', &piece)) {
        if (!ua_span_cut(piece, '=', name, value))
            *value = (ua_span){name->ptr + name->len, 0};
        if (name->len > 0)
            return true;
    }
    return false;
}
