/* sigv4.c — AWS Signature Version 4 header signing (see sigv4.h).
 *
 * The canonical request is never materialised: it is streamed through SHA-256 (and copied
 * into a buf only when a test asks for it). Sorting and path normalisation work on bounded
 * stack arrays, so a request costs three SHA-256s (body, canonical request, the secret's
 * fingerprint for the cache check), one HMAC and the Authorization buf; the four-HMAC key
 * derivation runs once a day.
 *
 * OpenSSL 3's one-shot SHA256()/HMAC() and EVP_sha256() look their algorithm up by name on
 * every call. So SHA-256 and HMAC-SHA256 are fetched once per process instead, lazily (the
 * first signing pays for it, not process start) and never freed: they live for the process,
 * reachable from the statics below, like OpenSSL's own provider state. */
#include "sigv4.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALGORITHM  "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
/* Bytes of the canonical request staged before each SHA-256 update: few updates, small stack. */
#define SINK_STAGE_BYTES 512u
/* The string to sign: 17 + 17 + (9 + 31 + 1 + 31 + 1 + 12 + 1) + 64 bytes at most. */
#define MAX_STRING_TO_SIGN 256u

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

/* ---- Small character helpers ---- */

static int lower(int c) {
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* RFC 3986 unreserved: the only bytes SigV4 leaves unencoded. */
static bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static bool is_ws(unsigned char c) {
    return c == ' ' || c == '\t';
}

static void hex_lower(const unsigned char *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX_LOWER[in[i] >> 4];
        out[2 * i + 1] = HEX_LOWER[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Whether s is a non-empty token of at most max bytes. */
static bool is_token(const char *s, size_t max) {
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || !ua_is_tchar((unsigned char)s[n]))
            return false;
    return n > 0;
}

/* Whether a header value is sendable: bounded, no control characters but tab. */
static bool value_ok(const char *v, size_t *len) {
    size_t n = 0;
    for (; v[n]; n++) {
        unsigned char c = (unsigned char)v[n];
        if (n >= SIGV4_MAX_HEADER_VALUE_LEN || (c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    *len = n;
    return true;
}

/* Region, service: they end up in the scope, where '/' or spaces would change its meaning. */
static bool scope_part_ok(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= SIGV4_MAX_SCOPE_PART_LEN ||
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return n > 0;
}

/* Access key id: printable, and free of the '/', ',' and spaces that delimit Credential=. */
static bool key_id_ok(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= SIGV4_MAX_KEY_LEN || c <= 0x20 || c >= 0x7f || c == '/' || c == ',')
            return false;
    }
    return n > 0;
}

/* ---- SHA-256 and HMAC-SHA256, fetched once per process ---- */

/* The fetched SHA-256, or NULL (fetched again next call) when OpenSSL fails. The process has
 * one thread, as Lambda runs it, so a plain static is enough. */
static const EVP_MD *sha256_md(void) {
    static EVP_MD *cached;
    if (!cached)
        cached = EVP_MD_fetch(NULL, "SHA256", NULL);
    return cached;
}

/* An unkeyed HMAC context with SHA-256 already set, which hmac() duplicates: setting the
 * digest by name on a fresh context would fetch it again. */
static const EVP_MAC_CTX *hmac_template(void) {
    static EVP_MAC_CTX *cached;
    if (cached)
        return cached;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context holds its own reference */
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_END};
    if (ctx && EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    cached = ctx;
    return cached;
}

/* SHA-256 of data into out; false when OpenSSL fails. */
static bool sha256(const void *data, size_t len, unsigned char out[SHA256_DIGEST_LENGTH]) {
    const EVP_MD *md = sha256_md();
    unsigned int out_len = 0;
    return md && EVP_Digest(data, len, out, &out_len, md, NULL) == 1 &&
           out_len == SHA256_DIGEST_LENGTH;
}

static bool hmac(const void *key, size_t key_len, const void *data, size_t len,
                 unsigned char out[32]) {
    const EVP_MAC_CTX *tmpl = hmac_template();
    EVP_MAC_CTX *ctx = tmpl ? EVP_MAC_CTX_dup(tmpl) : NULL;
    size_t out_len = 0;
    bool ok = ctx && EVP_MAC_init(ctx, key, key_len, NULL) == 1 &&
              EVP_MAC_update(ctx, data, len) == 1 && EVP_MAC_final(ctx, out, &out_len, 32) == 1 &&
              out_len == 32;
    EVP_MAC_CTX_free(ctx); /* also wipes the key it was given */
    return ok;
}

/* ---- The sink: the canonical request goes to SHA-256 and, optionally, to a buf ---- */

typedef struct sink {
    EVP_MD_CTX *md;
    buf *copy;    /* NULL unless the caller wants the canonical request */
    ua_status st; /* first failure; later writes are dropped */
    size_t n;     /* bytes staged */
    char stage[SINK_STAGE_BYTES];
} sink;

static void sink_flush(sink *k) {
    if (k->st == UA_OK && k->n > 0) {
        if (EVP_DigestUpdate(k->md, k->stage, k->n) != 1)
            k->st = UA_ERR_NOMEM;
        else if (k->copy)
            k->st = buf_append(k->copy, k->stage, k->n);
    }
    k->n = 0;
}

static void sink_put(sink *k, const char *p, size_t n) {
    while (n > 0 && k->st == UA_OK) {
        size_t room = sizeof k->stage - k->n;
        size_t take = n < room ? n : room;
        memcpy(k->stage + k->n, p, take);
        k->n += take;
        p += take;
        n -= take;
        if (k->n == sizeof k->stage)
            sink_flush(k);
    }
}

static void sink_char(sink *k, char c) {
    if (k->n == sizeof k->stage)
        sink_flush(k);
    if (k->st == UA_OK)
        k->stage[k->n++] = c;
}

static void sink_str(sink *k, const char *s) {
    sink_put(k, s, strlen(s));
}

/* One byte as the canonical form has it: itself when unreserved, else %XX. */
static void sink_encoded_byte(sink *k, unsigned char c) {
    if (is_unreserved(c)) {
        sink_char(k, (char)c);
        return;
    }
    char esc[3] = {'%', HEX_UPPER[c >> 4], HEX_UPPER[c & 15]};
    sink_put(k, esc, 3);
}

/* ---- Query components: decoded, re-encoded, compared in encoded form ---- */

/* Whether every '%' in p[0..n) starts a two-hex-digit escape. */
static bool escapes_ok(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] == '%') {
            if (n - i < 3 || ua_hex_value((unsigned char)p[i + 1]) < 0 ||
                ua_hex_value((unsigned char)p[i + 2]) < 0)
                return false;
            i += 2;
        }
    return true;
}

/* Walks the canonical (decoded, then re-encoded) form of a validated component one
 * character at a time, so components can be sorted without building their encodings. */
typedef struct enc_iter {
    const char *p;
    size_t n, i;
    char pend[2];
    int npend;
} enc_iter;

static void enc_start(enc_iter *it, ua_span s) {
    it->p = s.ptr;
    it->n = s.len;
    it->i = 0;
    it->npend = 0;
}

/* The next character, or -1 at the end. */
static int enc_next(enc_iter *it) {
    if (it->npend > 0)
        return (unsigned char)it->pend[2 - it->npend--];
    if (it->i >= it->n)
        return -1;
    unsigned char c = (unsigned char)it->p[it->i++];
    if (c == '%' && it->n - it->i >= 2) { /* validated: always true for '%' */
        c = (unsigned char)(ua_hex_value((unsigned char)it->p[it->i]) * 16 +
                            ua_hex_value((unsigned char)it->p[it->i + 1]));
        it->i += 2;
    }
    if (is_unreserved(c))
        return c;
    it->pend[0] = HEX_UPPER[c >> 4];
    it->pend[1] = HEX_UPPER[c & 15];
    it->npend = 2;
    return '%';
}

static int enc_compare(ua_span a, ua_span b) {
    enc_iter x, y;
    enc_start(&x, a);
    enc_start(&y, b);
    for (;;) {
        int ca = enc_next(&x), cb = enc_next(&y);
        if (ca != cb)
            return ca < cb ? -1 : 1;
        if (ca < 0)
            return 0;
    }
}

static void sink_component(sink *k, ua_span s) {
    enc_iter it;
    enc_start(&it, s);
    for (int c; (c = enc_next(&it)) >= 0;)
        sink_char(k, (char)c);
}

typedef struct query_param {
    ua_span key, value;
} query_param;

static int param_compare(const void *pa, const void *pb) {
    const query_param *a = pa, *b = pb;
    int c = enc_compare(a->key, b->key);
    return c ? c : enc_compare(a->value, b->value);
}

/* Splits q on '&' (empty pieces dropped) and each piece on its first '='. */
static ua_status query_parse(const char *q, query_param *out, size_t *count) {
    size_t n = 0, len = strnlen(q, SIGV4_MAX_QUERY_LEN + 1);
    if (len > SIGV4_MAX_QUERY_LEN)
        return UA_ERR_INVALID;
    for (size_t start = 0; start < len;) {
        const char *amp = memchr(q + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - q) : len;
        if (end > start) {
            if (n == SIGV4_MAX_QUERY_PARAMS || !escapes_ok(q + start, end - start))
                return UA_ERR_INVALID;
            const char *eq = memchr(q + start, '=', end - start);
            size_t klen = eq ? (size_t)(eq - (q + start)) : end - start;
            out[n].key = (ua_span){q + start, klen};
            out[n].value = eq ? (ua_span){eq + 1, end - klen - start - 1} : (ua_span){"", 0};
            n++;
        }
        start = end + 1;
    }
    qsort(out, n, sizeof *out, param_compare);
    *count = n;
    return UA_OK;
}

static void sink_query(sink *k, const query_param *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sink_char(k, '&');
        sink_component(k, p[i].key);
        sink_char(k, '=');
        sink_component(k, p[i].value);
    }
}

/* ---- Path ---- */

/* Removes "." and ".." segments and empty ones (repeated '/'), keeping a trailing '/', as
 * AWS's reference signers do: "//a/./b/../" becomes "/a/". out has room for len + 2. */
static size_t path_normalize(const char *p, size_t len, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        const char *slash = memchr(p + i, '/', len - i);
        size_t end = slash ? (size_t)(slash - p) : len, n = end - i;
        if (n == 2 && p[i] == '.' && p[i + 1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else if (n > 0 && !(n == 1 && p[i] == '.')) {
            out[o++] = '/';
            memcpy(out + o, p + i, n);
            o += n;
        }
        i = end + 1;
    }
    if (o == 0 || (len > 0 && p[len - 1] == '/'))
        out[o++] = '/';
    return o;
}

static void sink_path(sink *k, const char *p, size_t len) {
    if (len == 0) {
        sink_char(k, '/');
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '/')
            sink_char(k, '/');
        else
            sink_encoded_byte(k, c);
    }
}

/* ---- Headers ---- */

typedef struct header_ref {
    const char *name, *value;
    size_t value_len;
    size_t order; /* position given, so duplicates keep their order after sorting */
} header_ref;

static int name_compare(const char *a, const char *b) {
    for (;; a++, b++) {
        int ca = lower((unsigned char)*a), cb = lower((unsigned char)*b);
        if (ca != cb || ca == 0)
            return ca - cb;
    }
}

static int header_compare(const void *pa, const void *pb) {
    const header_ref *a = pa, *b = pb;
    int c = name_compare(a->name, b->name);
    if (c)
        return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* The value trimmed, with each inner run of spaces and tabs sent as one space. */
static void sink_header_value(sink *k, const char *v, size_t n) {
    int gap = 0, started = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (is_ws(c)) {
            gap = started;
            continue;
        }
        if (gap)
            sink_char(k, ' ');
        sink_char(k, (char)c);
        gap = 0;
        started = 1;
    }
}

static void sink_lower(sink *k, const char *s) {
    for (; *s; s++)
        sink_char(k, (char)lower((unsigned char)*s));
}

/* Headers the signer adds itself; a caller copy would be signed twice. */
static int reserved_name(const char *name, int sign_body) {
    return name_compare(name, "x-amz-date") == 0 ||
           name_compare(name, "x-amz-security-token") == 0 ||
           name_compare(name, "authorization") == 0 ||
           (sign_body && name_compare(name, "x-amz-content-sha256") == 0);
}

static int has_text(const char *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_ws((unsigned char)v[i]))
            return 1;
    return 0;
}

/* Validates the caller's headers and adds the signer's own; sorted by lower-case name. */
static ua_status headers_collect(const sigv4_request *r, const char *token, const char *amz_date,
                                 const char *content_sha256, header_ref *out, size_t *count) {
    size_t n = 0;
    int host = 0;
    if (r->n_headers > SIGV4_MAX_HEADERS || (r->n_headers > 0 && !r->headers))
        return UA_ERR_INVALID;
    for (size_t i = 0; i < r->n_headers; i++) {
        const sigv4_header *h = &r->headers[i];
        size_t vlen;
        if (!h->name || !h->value || !is_token(h->name, SIGV4_MAX_HEADER_NAME_LEN) ||
            !value_ok(h->value, &vlen) || reserved_name(h->name, r->sign_body))
            return UA_ERR_INVALID;
        if (name_compare(h->name, "host") == 0)
            host |= has_text(h->value, vlen);
        out[n] = (header_ref){h->name, h->value, vlen, n};
        n++;
    }
    if (!host)
        return UA_ERR_INVALID;
    out[n] = (header_ref){"x-amz-date", amz_date, strlen(amz_date), n};
    n++;
    if (token && !r->omit_session_token) {
        out[n] = (header_ref){"x-amz-security-token", token, strlen(token), n};
        n++;
    }
    if (r->sign_body) {
        out[n] = (header_ref){"x-amz-content-sha256", content_sha256, 64, n};
        n++;
    }
    qsort(out, n, sizeof *out, header_compare);
    *count = n;
    return UA_OK;
}

/* "name:v1,v2\n" per distinct name, then the blank line. */
static void sink_headers(sink *k, const header_ref *h, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && name_compare(h[i].name, h[i - 1].name) == 0) {
            sink_char(k, ',');
        } else {
            if (i > 0)
                sink_char(k, '\n');
            sink_lower(k, h[i].name);
            sink_char(k, ':');
        }
        sink_header_value(k, h[i].value, h[i].value_len);
    }
    sink_put(k, "\n\n", 2);
}

/* "a;b;c": to the canonical request and to the Authorization header alike. */
static ua_status signed_headers(sink *k, buf *auth, const header_ref *h, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && name_compare(h[i].name, h[i - 1].name) == 0)
            continue;
        ua_status st = UA_OK;
        if (i > 0) {
            sink_char(k, ';');
            st = buf_append_char(auth, ';');
        }
        sink_lower(k, h[i].name);
        for (const char *s = h[i].name; *s && st == UA_OK; s++)
            st = buf_append_char(auth, (char)lower((unsigned char)*s));
        if (st != UA_OK)
            return st;
    }
    sink_char(k, '\n');
    return UA_OK;
}

/* ---- Time and keys ---- */

static void put_digits(char *out, unsigned v, int width) {
    for (int i = width - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

/* "YYYYMMDDTHHMMSSZ"; UA_ERR_INVALID for a time outside years 0..9999. */
static ua_status format_amz_date(time_t now, char out[17]) {
    struct tm tm;
    if (!gmtime_r(&now, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
        return UA_ERR_INVALID;
    put_digits(out, (unsigned)(tm.tm_year + 1900), 4);
    put_digits(out + 4, (unsigned)(tm.tm_mon + 1), 2);
    put_digits(out + 6, (unsigned)tm.tm_mday, 2);
    out[8] = 'T';
    put_digits(out + 9, (unsigned)tm.tm_hour, 2);
    put_digits(out + 11, (unsigned)tm.tm_min, 2);
    put_digits(out + 13, (unsigned)tm.tm_sec, 2);
    out[15] = 'Z';
    out[16] = '\0';
    return UA_OK;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
static ua_status derive_key(const char *secret, size_t secret_len, const char *date,
                            const char *region, const char *service, unsigned char key[32]) {
    unsigned char seed[4 + SIGV4_MAX_KEY_LEN], a[32], b[32];
    memcpy(seed, "AWS4", 4); // NOLINT(bugprone-not-null-terminated-result): binary key
    memcpy(seed + 4, secret, secret_len);
    int ok = hmac(seed, 4 + secret_len, date, 8, a) && hmac(a, 32, region, strlen(region), b) &&
             hmac(b, 32, service, strlen(service), a) &&
             hmac(a, 32, TERMINATOR, sizeof TERMINATOR - 1, key);
    OPENSSL_cleanse(seed, sizeof seed);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    return ok ? UA_OK : UA_ERR_NOMEM;
}

/* Re-derives only when the day, region, service or secret changed since the last call. */
static ua_status signer_key(sigv4_signer *s, const char *secret, size_t secret_len,
                            const char *date, const char *region, const char *service) {
    unsigned char id[SHA256_DIGEST_LENGTH];
    if (!sha256(secret, secret_len, id))
        return UA_ERR_NOMEM;
    if (strcmp(s->date, date) == 0 && strcmp(s->region, region) == 0 &&
        strcmp(s->service, service) == 0 && CRYPTO_memcmp(s->secret_id, id, sizeof id) == 0)
        return UA_OK;
    s->date[0] = '\0'; /* the cache is invalid until the new key is in */
    ua_status st = derive_key(secret, secret_len, date, region, service, s->key);
    if (st != UA_OK) {
        OPENSSL_cleanse(s->key, sizeof s->key);
        return st;
    }
    memcpy(s->secret_id, id, sizeof id);
    memcpy(s->date, date, 9);
    memcpy(s->region, region, strlen(region) + 1);
    memcpy(s->service, service, strlen(service) + 1);
    s->derivations++;
    return UA_OK;
}

/* ---- Public ---- */

void sigv4_signer_init(sigv4_signer *s) {
    OPENSSL_cleanse(s, sizeof *s); /* zeroes, in a way the compiler may not drop */
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65]) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    if (!sha256(data ? data : (const void *)"", data ? len : 0, md)) {
        out[0] = '\0';
        return;
    }
    hex_lower(md, sizeof md, out);
}

/* Everything that can be refused, checked before any work is done. */
static ua_status check_args(const sigv4_signer *s, const sigv4_credentials *c, const char *region,
                            const char *service, const sigv4_request *r, const sigv4_output *out) {
    if (!s || !c || !region || !service || !r || !out || !c->access_key_id ||
        !c->secret_access_key || !r->method || !r->path || (!r->body && r->body_len > 0))
        return UA_ERR_INVALID;
    if (!key_id_ok(c->access_key_id) || !scope_part_ok(region) || !scope_part_ok(service) ||
        !is_token(r->method, SIGV4_MAX_HEADER_NAME_LEN))
        return UA_ERR_INVALID;
    size_t secret_len = strnlen(c->secret_access_key, SIGV4_MAX_KEY_LEN + 1);
    if (secret_len == 0 || secret_len > SIGV4_MAX_KEY_LEN)
        return UA_ERR_INVALID;
    size_t token_len;
    if (c->session_token && !value_ok(c->session_token, &token_len))
        return UA_ERR_INVALID;
    size_t path_len = strnlen(r->path, SIGV4_MAX_PATH_LEN + 1);
    if (path_len > SIGV4_MAX_PATH_LEN || (path_len > 0 && r->path[0] != '/'))
        return UA_ERR_INVALID;
    return UA_OK;
}

/* The prepared pieces of one request, all on the caller's stack. */
typedef struct prepared {
    const char *path;
    size_t path_len;
    char normalized[SIGV4_MAX_PATH_LEN + 2];
    query_param params[SIGV4_MAX_QUERY_PARAMS];
    size_t n_params;
    header_ref headers[SIGV4_MAX_HEADERS + 3];
    size_t n_headers;
} prepared;

static ua_status prepare(const sigv4_request *r, const char *token, const sigv4_output *out,
                         prepared *p) {
    p->path = r->path;
    p->path_len = strlen(r->path);
    if (r->normalize_path && p->path_len > 0) {
        p->path_len = path_normalize(r->path, p->path_len, p->normalized);
        p->path = p->normalized;
    }
    p->n_params = 0;
    if (r->query) {
        ua_status st = query_parse(r->query, p->params, &p->n_params);
        if (st != UA_OK)
            return st;
    }
    return headers_collect(r, token, out->amz_date, out->content_sha256, p->headers, &p->n_headers);
}

/* Streams the canonical request through SHA-256; hex digest into hash. */
static ua_status canonical_request(const sigv4_request *r, const prepared *p, buf *copy, buf *auth,
                                   const char *payload_hash, char hash[65]) {
    const EVP_MD *sha = sha256_md();
    sink k = {.md = sha ? EVP_MD_CTX_new() : NULL, .copy = copy, .st = UA_OK, .n = 0};
    if (!k.md || EVP_DigestInit_ex2(k.md, sha, NULL) != 1) {
        EVP_MD_CTX_free(k.md);
        return UA_ERR_NOMEM;
    }
    sink_str(&k, r->method);
    sink_char(&k, '\n');
    sink_path(&k, p->path, p->path_len);
    sink_char(&k, '\n');
    sink_query(&k, p->params, p->n_params);
    sink_char(&k, '\n');
    sink_headers(&k, p->headers, p->n_headers);
    ua_status st = signed_headers(&k, auth, p->headers, p->n_headers);
    sink_put(&k, payload_hash, 64);
    sink_flush(&k);
    if (st == UA_OK)
        st = k.st;
    unsigned char md[SHA256_DIGEST_LENGTH];
    if (st == UA_OK && EVP_DigestFinal_ex(k.md, md, NULL) != 1)
        st = UA_ERR_NOMEM;
    EVP_MD_CTX_free(k.md); /* wipes its state, which may hold the end of the session token */
    OPENSSL_cleanse(k.stage, sizeof k.stage); /* staged canonical text: the token passes here */
    if (st == UA_OK)
        hex_lower(md, sizeof md, hash);
    return st;
}

ua_status sigv4_sign(sigv4_signer *s, const sigv4_credentials *c, const char *region,
                     const char *service, time_t now, const sigv4_request *r, sigv4_output *out) {
    ua_status st = check_args(s, c, region, service, r, out);
    if (st != UA_OK)
        return st;
    st = format_amz_date(now, out->amz_date);
    if (st != UA_OK)
        return st;
    char date[9];
    memcpy(date, out->amz_date, 8);
    date[8] = '\0';
    sigv4_sha256_hex(r->body, r->body_len, out->content_sha256);
    const char *token = c->session_token && *c->session_token ? c->session_token : NULL;

    prepared p;
    st = prepare(r, token, out, &p);
    if (st != UA_OK)
        return st;

    buf_reset(&out->authorization);
    st = buf_appendf(&out->authorization,
                     ALGORITHM " Credential=%s/%s/%s/%s/" TERMINATOR ", SignedHeaders=",
                     c->access_key_id, date, region, service);
    if (st != UA_OK)
        return st;
    if (out->canonical_request)
        buf_reset(out->canonical_request);
    char creq_hash[65];
    st = canonical_request(r, &p, out->canonical_request, &out->authorization, out->content_sha256,
                           creq_hash);
    if (st != UA_OK)
        return st;

    char sts[MAX_STRING_TO_SIGN];
    int n = snprintf(sts, sizeof sts, ALGORITHM "\n%s\n%s/%s/%s/" TERMINATOR "\n%s", out->amz_date,
                     date, region, service, creq_hash);
    if (n < 0 || (size_t)n >= sizeof sts)
        return UA_ERR_INVALID;
    if (out->string_to_sign) {
        buf_reset(out->string_to_sign);
        st = buf_append(out->string_to_sign, sts, (size_t)n);
        if (st != UA_OK)
            return st;
    }

    st = signer_key(s, c->secret_access_key, strlen(c->secret_access_key), date, region, service);
    if (st != UA_OK)
        return st;
    unsigned char sig[32];
    if (!hmac(s->key, sizeof s->key, sts, (size_t)n, sig))
        return UA_ERR_NOMEM;
    hex_lower(sig, sizeof sig, out->signature);
    OPENSSL_cleanse(sig, sizeof sig);
    st = buf_append_str(&out->authorization, ", Signature=");
    if (st == UA_OK)
        st = buf_append(&out->authorization, out->signature, 64);
    return st;
}
