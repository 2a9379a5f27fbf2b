/* fuzz_sigv4.c — SigV4 canonicalisation of arbitrary methods, paths, queries, headers and
 * bodies: sigv4_sign answers UA_ERR_INVALID or a well-formed signature, never crashes, and
 * signs the same request the same way twice.
 *
 * Input: byte 0 holds flags (see below); the rest reads like a raw HTTP request, as the
 * shared test vectors' request.txt files are written: "METHOD target HTTP/1.1", header lines
 * "name:value", a blank line, the body. A line starting with a space or tab continues the
 * previous value after a '\n' (an obs-fold), so values can hold every byte but NUL. */
#include "fuzz_support.h"

#include "sigv4.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FUZZ_HEADERS (SIGV4_MAX_HEADERS + 8u) /* a few past the limit */
#define NOW              ((time_t)1440938160)     /* 2015-08-30T12:36:00Z, as the vectors */

enum {
    F_NORMALIZE = 1 << 0,
    F_SIGN_BODY = 1 << 1,
    F_OMIT_TOKEN = 1 << 2,
    F_TOKEN = 3 << 3, /* two bits: none, "", a token, a token past the value limit */
    F_ADD_HOST = 1 << 5,
    F_NO_QUERY = 1 << 6,   /* a '?' with nothing after it is NULL rather than "" */
    F_DROP_OWN = 1u << 7u, /* leave out the headers the signer adds itself */
};

static sigv4_signer signer; /* kept across inputs, so the key cache is exercised too */

static bool added_by_signer(const char *name) {
    return strcasecmp(name, "x-amz-date") == 0 || strcasecmp(name, "authorization") == 0 ||
           strcasecmp(name, "x-amz-security-token") == 0 ||
           strcasecmp(name, "x-amz-content-sha256") == 0;
}

static void check_signed(const sigv4_output *out, const buf *creq, const buf *sts) {
    static const char prefix[] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                                 "dynamodb/aws4_request, SignedHeaders=";
    const char *auth = buf_str(&out->authorization);
    if (strlen(out->signature) != 64 || strspn(out->signature, "0123456789abcdef") != 64)
        fuzz_fail("signature %s is not 64 lower-case hex digits", out->signature);
    if (strcmp(out->amz_date, "20150830T123600Z") != 0)
        fuzz_fail("X-Amz-Date %s", out->amz_date);
    if (strncmp(auth, prefix, sizeof prefix - 1) != 0)
        fuzz_fail("Authorization %s", auth);
    const char *sig = strstr(auth, ", Signature=");
    if (!sig || strcmp(sig + 12, out->signature) != 0)
        fuzz_fail("Authorization does not end with the signature: %s", auth);
    for (const char *p = auth; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            fuzz_fail("Authorization holds byte 0x%02x", (unsigned char)*p);
    char hash[65];
    sigv4_sha256_hex(buf_str(creq), creq->len, hash);
    if (sts->len < 64 || strcmp(buf_str(sts) + sts->len - 64, hash) != 0)
        fuzz_fail("the string to sign does not end with the canonical request's hash");
    if (memchr(buf_str(creq), '\r', creq->len))
        fuzz_fail("a CR in the canonical request");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    char *text = malloc(size);
    if (!text)
        abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    size_t len = size - 1;

    /* Request line. */
    char *end = memchr(text, '\n', len);
    char *line_end = end ? end : text + len;
    *line_end = '\0';
    char *method = text;
    char *target = strchr(method, ' ');
    if (target) {
        *target++ = '\0';
        char *version = strchr(target, ' ');
        if (version)
            *version = '\0';
    } else {
        target = line_end;
    }
    char *query = strchr(target, '?');
    if (query) {
        *query++ = '\0';
        if (!*query && (flags & F_NO_QUERY))
            query = NULL;
    }

    /* Headers, then the body. */
    sigv4_header headers[MAX_FUZZ_HEADERS + 1];
    size_t n = 0;
    bool has_host = false;
    char *p = end ? end + 1 : text + len;
    char *body = text + len;
    char *last_value_end = NULL;
    while (p < text + len) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        char *e = nl ? nl : text + len;
        if (e == p) { /* blank line: the body follows */
            body = p + 1 > text + len ? text + len : p + 1;
            break;
        }
        if ((*p == ' ' || *p == '\t') && last_value_end) {
            *last_value_end = '\n'; /* fold: joins this line onto the previous value */
            *e = '\0';
            last_value_end = e;
        } else {
            *e = '\0';
            char *colon = strchr(p, ':');
            const char *value = "";
            if (colon) {
                *colon = '\0';
                value = colon + 1;
            }
            if (!((flags & F_DROP_OWN) && added_by_signer(p)) && n < MAX_FUZZ_HEADERS) {
                headers[n++] = (sigv4_header){p, value};
                has_host = has_host || strcasecmp(p, "host") == 0;
            }
            last_value_end = e;
        }
        p = e + 1;
        body = text + len;
    }
    if ((flags & F_ADD_HOST) && !has_host)
        headers[n++] = (sigv4_header){"Host", "dynamodb.us-east-1.amazonaws.com"};

    static char long_token[SIGV4_MAX_HEADER_VALUE_LEN + 2];
    if (!long_token[0])
        memset(long_token, 'T', sizeof long_token - 1);
    const char *tokens[] = {NULL, "", "FwoGZXIvYXdzEXAMPLETOKEN", long_token};
    const sigv4_credentials creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                     tokens[(flags & F_TOKEN) >> 3]};
    const sigv4_request req = {.method = method,
                               .path = target,
                               .query = query,
                               .headers = headers,
                               .n_headers = n,
                               .body = body,
                               .body_len = (size_t)(text + len - body),
                               .normalize_path = flags & F_NORMALIZE,
                               .sign_body = flags & F_SIGN_BODY,
                               .omit_session_token = flags & F_OMIT_TOKEN};

    buf creq, sts;
    buf_init(&creq, (size_t)16 * 1024 * 1024);
    buf_init(&sts, 4096);
    sigv4_output out = {.canonical_request = &creq, .string_to_sign = &sts};
    buf_init(&out.authorization, (size_t)64 * 1024);
    ua_status st = sigv4_sign(&signer, &creds, "us-east-1", "dynamodb", NOW, &req, &out);
    if (st == UA_OK) {
        check_signed(&out, &creq, &sts);
        char first[65];
        memcpy(first, out.signature, sizeof first);
        if (sigv4_sign(&signer, &creds, "us-east-1", "dynamodb", NOW, &req, &out) != UA_OK ||
            strcmp(first, out.signature) != 0)
            fuzz_fail("the same request signed twice gave two answers");
    } else if (st != UA_ERR_INVALID) {
        fuzz_fail("sigv4_sign: status %d", (int)st);
    }
    buf_free(&out.authorization);
    buf_free(&creq);
    buf_free(&sts);
    free(text);
    return 0;
}
