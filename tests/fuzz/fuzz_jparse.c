/* fuzz_jparse.c — the JSON reader against jansson's, on arbitrary bytes. The first byte picks
 * the flags; the rest is the text. jparse must accept exactly what json_loadb accepts with the
 * matching flags and build an equal tree, and must report a NUL in a key exactly when jansson
 * does (the event reader retries on that). The one known difference: jansson skips a raw NUL
 * byte that follows a number or a literal (its reader takes a NUL in its one-character
 * push-back buffer for "empty"), so it accepts "[1\0]"; a raw NUL is never JSON, and jparse
 * must refuse any text holding one. With JPARSE_NUL_AS_SOH the oracle is jansson
 * reading the text with every \u0000 escape spelled \u0001, which is what that mode stands
 * for. */
#include "fuzz_support.h"

#include "buf.h"
#include "jparse.h"

#include <string.h>

/* The text with each \u0000 escape spelled \u0001 (an escaped backslash starts no escape). */
static void soh_spelling(const char *s, size_t n, buf *out) {
    if (buf_append(out, s, n) != UA_OK)
        fuzz_fail("out of memory");
    for (size_t i = 0; i + 1 < n; i++) {
        if (out->data[i] != '\\')
            continue;
        if (n - i >= 6 && memcmp(out->data + i + 1, "u0000", 5) == 0)
            out->data[i + 5] = '1';
        i++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    unsigned flags = data[0] & 0x0Fu;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    size_t jflags = ((flags & JPARSE_ALLOW_NUL) ? JSON_ALLOW_NUL : 0) |
                    ((flags & JPARSE_INT_AS_REAL) ? JSON_DECODE_INT_AS_REAL : 0) |
                    ((flags & JPARSE_REJECT_DUPLICATES) ? JSON_REJECT_DUPLICATES : 0);

    buf soh;
    buf_init(&soh, len);
    const char *oracle_text = text;
    if (flags & JPARSE_NUL_AS_SOH) {
        soh_spelling(text, len, &soh);
        oracle_text = soh.data ? soh.data : "";
    }
    jparse_error err;
    json_t *mine = jparse(text, len, flags, &err);
    if (memchr(text, '\0', len)) {
        if (mine || err == JPARSE_OK)
            fuzz_fail("jparse accepted a raw NUL byte");
        buf_free(&soh);
        return 0;
    }
    json_error_t jerr;
    json_t *theirs = json_loadb(oracle_text, len, jflags, &jerr);
    if ((mine != NULL) != (theirs != NULL))
        fuzz_fail("jparse %s (error %d) where jansson %s (%s)", mine ? "accepted" : "refused",
                  (int)err, theirs ? "accepted" : "refused", theirs ? "" : jerr.text);
    if (mine && !json_equal(mine, theirs))
        fuzz_fail("jparse and jansson built different trees");
    if (!mine &&
        (err == JPARSE_NUL_IN_KEY) != (json_error_code(&jerr) == json_error_null_byte_in_key))
        fuzz_fail("NUL in key: jparse error %d, jansson: %s", (int)err, jerr.text);
    if (!mine && err == JPARSE_OK)
        fuzz_fail("a refusal without a reason");
    json_decref(mine);
    json_decref(theirs);
    buf_free(&soh);
    return 0;
}
