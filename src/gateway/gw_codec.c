/* gw_codec.c — Latin-1 to UTF-8 for the local gateway (see gw_codec.h). */
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
