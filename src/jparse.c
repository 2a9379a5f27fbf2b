/* jparse.c — a strict single-pass JSON reader that builds a jansson tree (see jparse.h). */
#include "jparse.h"

#include "buf.h"
#include "utf8.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A number this long or longer is copied to the scratch buffer to be terminated for strtod;
 * almost every number fits on the stack. */
#define NUMBER_ON_STACK 64u

typedef struct parser {
    const unsigned char *p;   /* next unread byte */
    const unsigned char *end; /* one past the last byte */
    unsigned flags;
    jparse_error err; /* the first error met */
    buf scratch;      /* decoded strings with escapes, long numbers; reused */
} parser;

static json_t *read_value(parser *ps, size_t depth);

static bool fail(parser *ps, jparse_error e) {
    if (ps->err == JPARSE_OK)
        ps->err = e;
    return false;
}

static json_t *no_value(parser *ps, jparse_error e) {
    fail(ps, e);
    return NULL;
}

static void skip_space(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

/* The next byte after skipping whitespace, or -1 at the end. */
static int peek(parser *ps) {
    skip_space(ps);
    return ps->p < ps->end ? *ps->p : -1;
}

static bool is_digit(int c) {
    return c >= '0' && c <= '9';
}

/* The value of the four hex digits at s, or -1. */
static long hex4(const unsigned char *s) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = ua_hex_value(s[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static ua_status put_utf8(buf *b, unsigned long cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_append(b, u, n);
}

/* Decodes the escapes of a string already checked by read_string into ps->scratch. */
static bool unescape(parser *ps, const unsigned char *s, const unsigned char *end) {
    buf *b = &ps->scratch;
    buf_reset(b);
    while (s < end) {
        const unsigned char *bs = memchr(s, '\\', (size_t)(end - s));
        const unsigned char *run_end = bs ? bs : end;
        if (buf_append(b, s, (size_t)(run_end - s)) != UA_OK)
            return fail(ps, JPARSE_NOMEM);
        if (!bs)
            break;
        s = bs + 1;
        if (*s != 'u') {
            static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
            const char *k = strchr(from, *s); /* else '"', '\\' or '/': itself */
            if (buf_append_char(b, k ? to[k - from] : (char)*s) != UA_OK)
                return fail(ps, JPARSE_NOMEM);
            s++;
            continue;
        }
        unsigned long cp = (unsigned long)hex4(s + 1);
        s += 5;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail(ps, JPARSE_SYNTAX); /* a low surrogate with no high one before it */
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long low = end - s >= 6 && s[0] == '\\' && s[1] == 'u' ? hex4(s + 2) : -1;
            if (low < 0xDC00 || low > 0xDFFF)
                return fail(ps, JPARSE_SYNTAX); /* a high surrogate must be paired */
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)low - 0xDC00);
            s += 6;
        }
        if (cp == 0 && (ps->flags & JPARSE_NUL_AS_SOH))
            cp = 1;
        if (put_utf8(b, cp) != UA_OK)
            return fail(ps, JPARSE_NOMEM);
    }
    return true;
}

/* Reads the string whose opening quote has been consumed. *out is a view of its decoded bytes:
 * into the input when it had no escapes, else into ps->scratch (valid until the next string). */
static bool read_string(parser *ps, ua_span *out) {
    const unsigned char *start = ps->p, *p = ps->p, *end = ps->end;
    bool high = false, escaped = false;
    for (;;) {
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p == end || *p < 0x20)
            return fail(ps, JPARSE_SYNTAX); /* unterminated, or a raw control character */
        if (*p == '"')
            break;
        if (*p >= 0x80) {
            high = true;
            p++;
            continue;
        }
        /* A backslash: the escape must be complete here; surrogates are paired in unescape. */
        if (end - p < 2)
            return fail(ps, JPARSE_SYNTAX);
        if (p[1] == 'u') {
            if (end - p < 6 || hex4(p + 2) < 0)
                return fail(ps, JPARSE_SYNTAX);
            p += 6;
        } else if (p[1] && strchr("\"\\/bfnrt", p[1])) {
            p += 2;
        } else {
            return fail(ps, JPARSE_SYNTAX);
        }
        escaped = true;
    }
    ps->p = p + 1;
    /* Escapes are ASCII, so the raw bytes are UTF-8 exactly when the decoded ones are. */
    if (high && !utf8_valid((const char *)start, (size_t)(p - start)))
        return fail(ps, JPARSE_SYNTAX);
    if (!escaped) {
        *out = (ua_span){(const char *)start, (size_t)(p - start)};
        return true;
    }
    if (!unescape(ps, start, p))
        return false;
    *out = (ua_span){ps->scratch.data, ps->scratch.len};
    return true;
}

static json_t *read_number(parser *ps) {
    const unsigned char *start = ps->p, *p = ps->p, *end = ps->end;
    bool real = (ps->flags & JPARSE_INT_AS_REAL) != 0;
    if (*p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
        if (p < end && is_digit(*p))
            return no_value(ps, JPARSE_SYNTAX); /* no leading zeros */
    } else if (p < end && is_digit(*p)) {
        while (p < end && is_digit(*p))
            p++;
    } else {
        return no_value(ps, JPARSE_SYNTAX);
    }
    if (p < end && *p == '.') {
        if (++p == end || !is_digit(*p))
            return no_value(ps, JPARSE_SYNTAX);
        while (p < end && is_digit(*p))
            p++;
        real = true;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p))
            return no_value(ps, JPARSE_SYNTAX);
        while (p < end && is_digit(*p))
            p++;
        real = true;
    }
    ps->p = p;

    /* strtod and strtoll need a terminated copy. */
    char small[NUMBER_ON_STACK];
    size_t n = (size_t)(p - start);
    const char *text = small;
    if (n < sizeof small) {
        memcpy(small, start, n);
        small[n] = '\0';
    } else {
        buf_reset(&ps->scratch);
        if (buf_append(&ps->scratch, start, n) != UA_OK)
            return no_value(ps, JPARSE_NOMEM);
        text = buf_str(&ps->scratch);
    }
    errno = 0;
    if (!real) {
        long long v = strtoll(text, NULL, 10);
        if (errno == ERANGE)
            return no_value(ps, JPARSE_RANGE);
        json_t *j = json_integer(v);
        return j ? j : no_value(ps, JPARSE_NOMEM);
    }
    double d = strtod(text, NULL);
    if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
        return no_value(ps, JPARSE_RANGE); /* underflow to zero or a subnormal is fine */
    json_t *j = json_real(d);
    return j ? j : no_value(ps, JPARSE_NOMEM);
}

/* true, false or null: the word must not run on into more letters ("truely" is no literal). */
static json_t *read_literal(parser *ps) {
    static const struct {
        const char *word;
        size_t len;
    } words[] = {{"true", 4}, {"false", 5}, {"null", 4}};
    size_t avail = (size_t)(ps->end - ps->p);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = words[i].len;
        if (avail < n || memcmp(ps->p, words[i].word, n) != 0)
            continue;
        int next = avail > n ? ps->p[n] : 0;
        if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z'))
            break;
        ps->p += n;
        return i == 0 ? json_true() : i == 1 ? json_false() : json_null();
    }
    fail(ps, JPARSE_SYNTAX);
    return NULL;
}

static json_t *read_string_value(parser *ps) {
    ua_span s = {"", 0};
    if (!read_string(ps, &s))
        return NULL;
    if (!(ps->flags & JPARSE_ALLOW_NUL) && memchr(s.ptr, '\0', s.len))
        return no_value(ps, JPARSE_NUL_IN_VALUE);
    json_t *j = json_stringn_nocheck(s.ptr, s.len);
    return j ? j : no_value(ps, JPARSE_NOMEM);
}

/* One "key": value member of obj; the opening quote of the key has been consumed. */
static bool read_member(parser *ps, json_t *obj, size_t depth) {
    ua_span key = {"", 0};
    if (!read_string(ps, &key))
        return false;
    if (memchr(key.ptr, '\0', key.len))
        return fail(ps, JPARSE_NUL_IN_KEY);
    if ((ps->flags & JPARSE_REJECT_DUPLICATES) && json_object_getn(obj, key.ptr, key.len))
        return fail(ps, JPARSE_DUPLICATE);
    if (peek(ps) != ':')
        return fail(ps, JPARSE_SYNTAX);
    ps->p++;
    /* A decoded key lives in the scratch buffer, which the value may reuse: keep a copy. */
    char *copy = NULL;
    if (key.ptr == ps->scratch.data) {
        copy = malloc(key.len ? key.len : 1);
        if (!copy)
            return fail(ps, JPARSE_NOMEM);
        memcpy(copy, key.ptr, key.len);
        key.ptr = copy;
    }
    skip_space(ps);
    json_t *v = read_value(ps, depth + 1);
    bool ok = v && json_object_setn_new_nocheck(obj, key.ptr, key.len, v) == 0;
    free(copy);
    return ok || (v ? fail(ps, JPARSE_NOMEM) : false);
}

static json_t *read_object(parser *ps, size_t depth) {
    json_t *obj = json_object();
    if (!obj)
        return no_value(ps, JPARSE_NOMEM);
    if (peek(ps) == '}') {
        ps->p++;
        return obj;
    }
    for (;;) {
        if (peek(ps) != '"') {
            fail(ps, JPARSE_SYNTAX);
            break;
        }
        ps->p++;
        if (!read_member(ps, obj, depth))
            break;
        int c = peek(ps);
        if (c == '}' || c == ',')
            ps->p++;
        if (c == '}')
            return obj;
        if (c != ',') {
            fail(ps, JPARSE_SYNTAX);
            break;
        }
    }
    json_decref(obj);
    return NULL;
}

static json_t *read_array(parser *ps, size_t depth) {
    json_t *arr = json_array();
    if (!arr)
        return no_value(ps, JPARSE_NOMEM);
    if (peek(ps) == ']') {
        ps->p++;
        return arr;
    }
    for (;;) {
        skip_space(ps);
        json_t *v = read_value(ps, depth + 1);
        if (!v)
            break;
        if (json_array_append_new(arr, v) != 0) {
            fail(ps, JPARSE_NOMEM);
            break;
        }
        int c = peek(ps);
        if (c == ']' || c == ',')
            ps->p++;
        if (c == ']')
            return arr;
        if (c != ',') {
            fail(ps, JPARSE_SYNTAX);
            break;
        }
    }
    json_decref(arr);
    return NULL;
}

/* The value at ps->p (whitespace already skipped); depth counts every value, as jansson does. */
static json_t *read_value(parser *ps, size_t depth) {
    if (depth > JSON_PARSER_MAX_DEPTH)
        return no_value(ps, JPARSE_TOO_DEEP);
    if (ps->p == ps->end)
        return no_value(ps, JPARSE_SYNTAX);
    switch (*ps->p) {
        case '{':
            ps->p++;
            return read_object(ps, depth);
        case '[':
            ps->p++;
            return read_array(ps, depth);
        case '"':
            ps->p++;
            return read_string_value(ps);
        case 't':
        case 'f':
        case 'n':
            return read_literal(ps);
        default:
            if (*ps->p == '-' || is_digit(*ps->p))
                return read_number(ps);
            return no_value(ps, JPARSE_SYNTAX);
    }
}

json_t *jparse(const char *text, size_t len, unsigned flags, jparse_error *err) {
    if (!text) {
        if (err)
            *err = JPARSE_SYNTAX;
        return NULL;
    }
    parser ps = {
        .p = (const unsigned char *)text, .end = (const unsigned char *)text + len, .flags = flags};
    buf_init(&ps.scratch, len);
    json_t *root = NULL;
    int c = peek(&ps);
    if (c == '{' || c == '[')
        root = read_value(&ps, 1);
    else
        fail(&ps, JPARSE_SYNTAX);
    if (root && peek(&ps) != -1) {
        json_decref(root);
        root = NULL;
        fail(&ps, JPARSE_SYNTAX);
    }
    buf_free(&ps.scratch);
    if (err)
        *err = root ? JPARSE_OK : ps.err;
    return root;
}
