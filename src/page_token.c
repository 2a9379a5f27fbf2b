/* page_token.c — the list's nextToken, strict base64url of the key JSON (see page_token.h). */
#include "page_token.h"

#include "router.h"
#include "user_item.h"

#include <string.h>

/* The most key JSON a token of UA_MAX_NEXT_TOKEN_CHARS can carry: 3 bytes per 4 characters,
 * and 2 for a last partial group. */
#define MAX_KEY_JSON ((UA_MAX_NEXT_TOKEN_CHARS / 4u) * 3u + 2u)

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(char c) {
    const char *p = c ? strchr(B64URL, c) : NULL;
    return p ? (int)(p - B64URL) : -1;
}

/* base64url without padding, strictly: the alphabet only, no impossible length, and the
 * unused low bits of the last character zero, so each key has exactly one token. */
static bool b64url_decode(const char *s, size_t len, unsigned char *out, size_t cap,
                          size_t *out_len) {
    unsigned acc = 0, bits = 0;
    size_t n = 0;
    if (len % 4 == 1)
        return false;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(s[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return false;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return false;
    *out_len = n;
    return true;
}

static ua_status b64url_encode(const unsigned char *p, size_t len, buf *out) {
    ua_status st = UA_OK;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < len && st == UA_OK; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 6 && st == UA_OK) {
            bits -= 6;
            st = buf_append_char(out, B64URL[(acc >> bits) & 63]);
        }
        acc &= (1u << bits) - 1;
    }
    if (st == UA_OK && bits > 0)
        st = buf_append_char(out, B64URL[(acc << (6 - bits)) & 63]);
    return st;
}

bool page_token_decode(ua_span token, char id[UA_UUID_LEN + 1]) {
    unsigned char raw[MAX_KEY_JSON];
    size_t n;
    if (token.len == 0 || token.len > UA_MAX_NEXT_TOKEN_CHARS ||
        !b64url_decode(token.ptr, token.len, raw, sizeof raw, &n))
        return false;
    json_t *key = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    const char *s = NULL;
    size_t len = 0;
    bool ok = key &&
              json_unpack_ex(key, NULL, JSON_STRICT, "{s:{s:s%}}", "userId", "S", &s, &len) == 0 &&
              router_is_canonical_uuid(s, len);
    if (ok)
        memcpy(id, s, UA_UUID_LEN + 1);
    json_decref(key);
    return ok;
}

ua_status page_token_encode(const json_t *last_key, buf *out) {
    const char *id = NULL;
    size_t len = 0;
    /* Not strict: the key's own shape was DynamoDB's to choose; only its id is ours. */
    if (json_unpack_ex((json_t *)last_key, NULL, 0, "{s:{s:s%}}", "userId", "S", &id, &len) != 0 ||
        !router_is_canonical_uuid(id, len))
        return UA_ERR_INVALID;
    json_t *key = user_item_key(id);
    if (!key)
        return UA_ERR_NOMEM;
    buf raw;
    buf_init(&raw, MAX_KEY_JSON);
    ua_status st = buf_append_json(&raw, key);
    if (st == UA_OK)
        st = b64url_encode((const unsigned char *)buf_str(&raw), raw.len, out);
    buf_free(&raw);
    json_decref(key);
    return st;
}
