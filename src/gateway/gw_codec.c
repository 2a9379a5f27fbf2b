/* gw_codec.c — Latin-1 to UTF-8, and printable text, for the local gateway (see gw_codec.h). */
#include "gw_codec.h"

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

ua_status gw_printable(const char *p, size_t n, size_t max, buf *out) {
    size_t take = n < max ? n : max;
    for (size_t i = 0; i < take; i++) {
        unsigned char c = (unsigned char)p[i];
        if (buf_append_char(out, c >= 0x20 && c < 0x7F ? (char)c : '?') != UA_OK)
            return UA_ERR_TOO_BIG;
    }
    return take < n ? buf_append_str(out, "...") : UA_OK;
}
