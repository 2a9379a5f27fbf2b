/* utf8.h — the one strict UTF-8 decoder: the field rules, the JSON reader, the log lines and the
 * local gateway all read UTF-8 through it, so they agree on what is well-formed.
 *
 * Well-formed means RFC 3629 and Unicode's Table 3-7: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing past U+10FFFF, no truncated sequence. Input is a (pointer, length)
 * view of untrusted bytes, never assumed NUL-terminated; NUL itself is well-formed. */
#ifndef USERS_UTF8_H
#define USERS_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What utf8_decode puts in *cp for bytes that are not well-formed: no code point has it. */
#define UTF8_INVALID UINT32_MAX

/* U+FFFD REPLACEMENT CHARACTER, encoded: what a reader shows for bytes that are not UTF-8. */
#define UTF8_REPLACEMENT     "\xEF\xBF\xBD"
#define UTF8_REPLACEMENT_LEN 3u

/* Reads the one sequence at s[0..len) and returns how many bytes it takes; 0 only when len is 0.
 * When the sequence is well-formed, *cp is its code point and the answer is 1..4. When it is not,
 * *cp is UTF8_INVALID and the answer (1..3) is the length of its maximal subpart (The Unicode
 * Standard, section 3.9): the longest start of a well-formed sequence found there, or 1 byte
 * when there is none. Skipping that many bytes and writing one U+FFFD each time is Unicode's
 * recommended practice and the WHATWG decoder's. */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Whether all of s[0..len) is well-formed UTF-8. ASCII runs are skipped eight bytes at a time. */
bool utf8_valid(const char *s, size_t len);

#endif
