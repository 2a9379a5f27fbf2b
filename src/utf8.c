/* utf8.c — the strict UTF-8 decoder (see utf8.h). */
#include "utf8.h"

#include <string.h>

/* Unicode's Table 3-7 read one byte at a time: the lead byte fixes the length and the range the
 * second byte must fall in, and those ranges are what shut out overlong forms (E0 80..9F,
 * F0 80..8F), surrogates (ED A0..BF) and values past U+10FFFF (F4 90..BF); every later byte is
 * 80..BF. Checking each byte against its range as it comes is also what makes the answer for
 * bad input the maximal subpart: the bytes read before the first one out of range. */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp) {
    *cp = UTF8_INVALID;
    if (len == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t need;
    uint32_t v;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) { /* C0 and C1 could only start overlong forms */
        need = 2;
        v = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        v = c & 0x0Fu;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) { /* F5..FF could only start values past U+10FFFF */
        need = 4;
        v = c & 0x07u;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 1; /* a continuation byte with no lead, C0, C1 or F5..FF */
    }
    for (size_t i = 1; i < need; i++) {
        if (i == len || s[i] < lo || s[i] > hi)
            return i;
        v = (v << 6) | (s[i] & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return need;
}

/* Whether none of the eight bytes at p has its high bit set. */
static bool ascii8(const unsigned char *p) {
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return (w & UINT64_C(0x8080808080808080)) == 0;
}

/* Multi-byte sequences go through utf8_decode; runs of ASCII are skipped a word at a time, then
 * byte by byte up to the next non-ASCII byte. */
bool utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] >= 0x80) {
            uint32_t cp;
            i += utf8_decode(p + i, len - i, &cp);
            if (cp == UTF8_INVALID)
                return false;
            continue;
        }
        while (len - i >= 8 && ascii8(p + i))
            i += 8;
        while (i < len && p[i] < 0x80)
            i++;
    }
    return true;
}
