/* gw_codec.c — Latin-1, base64 and query decoding for the local gateway (see gw_codec.h). */
#include "gw_codec.h"

#include <stdint.h>

ua_status gw_latin1_to_utf8(const char *p, size_t n, buf *out) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        ua_status st;
        if (c < 0x80) {
            st = buf_append_char(out, (char)c);
        } else {
            char two[2] = {(char)(0xC0u | (c >> 6)), (char)(0x80u | (c & 0x3Fu))};
            st = buf_append(out, two, sizeof two);
        }
        if (st != UA_OK)
            return st;
    }
    return UA_OK;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

ua_status gw_base64_encode(const void *p, size_t n, buf *out) {
    const unsigned char *s = p;
    char quad[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        quad[0] = b64_alphabet[(v >> 18) & 63u];
        quad[1] = b64_alphabet[(v >> 12) & 63u];
        quad[2] = i + 1 < n ? b64_alphabet[(v >> 6) & 63u] : '=';
        quad[3] = i + 2 < n ? b64_alphabet[v & 63u] : '=';
        ua_status st = buf_append(out, quad, sizeof quad);
        if (st != UA_OK)
            return st;
    }
    return UA_OK;
}

static int b64_value(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

ua_status gw_base64_decode(const char *p, size_t n, buf *out) {
    /* Strip up to two '=' of padding; the rest must be alphabet characters. */
    size_t pad = 0;
    while (n > 0 && p[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (n % 4 == 1 || (pad && (n + pad) % 4 != 0))
        return UA_ERR_INVALID;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(p[i]);
        if (v < 0)
            return UA_ERR_INVALID;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            ua_status st = buf_append_char(out, (char)((acc >> bits) & 0xFFu));
            if (st != UA_OK)
                return st;
        }
    }
    /* Leftover bits must be zero, or two encodings would decode to the same bytes. */
    if (bits && (acc & ((1u << bits) - 1u)))
        return UA_ERR_INVALID;
    return UA_OK;
}

ua_status gw_query_decode(const char *p, size_t n, buf *out) {
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3)
                return UA_ERR_INVALID;
            int h = ua_hex_value((unsigned char)p[i + 1]),
                l = ua_hex_value((unsigned char)p[i + 2]);
            if (h < 0 || l < 0)
                return UA_ERR_INVALID;
            c = (char)(h * 16 + l);
            i += 2;
        }
        ua_status st = buf_append_char(out, c);
        if (st != UA_OK)
            return st;
    }
    return UA_OK;
}
