/* page_token.c — the list's nextToken, strict base64url of the key JSON (see page_token.h). */
#include "page_token.h"

#include "codec.h"
#include "router.h"
#include "user_item.h"

#include <string.h>

/* The most key JSON a token of UA_MAX_NEXT_TOKEN_CHARS can carry: 3 bytes per 4 characters,
 * and 2 for a last partial group. */
#define MAX_KEY_JSON ((UA_MAX_NEXT_TOKEN_CHARS / 4u) * 3u + 2u)

bool page_token_decode(ua_span token, char id[UA_UUID_LEN + 1]) {
    if (token.len == 0 || token.len > UA_MAX_NEXT_TOKEN_CHARS)
        return false;
    buf raw;
    buf_init(&raw, MAX_KEY_JSON);
    /* Strict base64url: each key has exactly one token. */
    json_t *key = codec_base64url_decode(token.ptr, token.len, &raw) == UA_OK
                      ? json_loadb(buf_str(&raw), raw.len, JSON_REJECT_DUPLICATES, NULL)
                      : NULL;
    buf_free(&raw);
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
        st = codec_base64url_encode(buf_str(&raw), raw.len, out);
    buf_free(&raw);
    json_decref(key);
    return st;
}
