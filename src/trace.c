/* trace.c — Lambda's trace header into its parts, and back (see trace.h). */
#include "trace.h"

#include <stdio.h>
#include <string.h>

/* Whether s starts with n hex digits (it may be shorter: the NUL stops the run). */
static bool hex_run(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

bool trace_is_hex(const char *s, size_t n) {
    return hex_run(s, n) && s[n] == '\0';
}

bool trace_is_root(const char *s, size_t n) {
    return n == TRACE_ROOT_LEN && s[0] == '1' && s[1] == '-' && hex_run(s + 2, 8) && s[10] == '-' &&
           hex_run(s + 11, 24);
}

/* Copies the n-character value v into out (of n + 1 bytes). */
static void copy_value(const char *v, size_t n, char *out) {
    memcpy(out, v, n);
    out[n] = '\0';
}

void trace_parse(const char *header, trace_context *out) {
    memset(out, 0, sizeof *out);
    for (const char *p = header; p && *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, ";"); /* this field's length */
        if (n > 5 && strncmp(p, "Root=", 5) == 0 && trace_is_root(p + 5, n - 5))
            copy_value(p + 5, TRACE_ROOT_LEN, out->root);
        else if (n == 7 + TRACE_ID_LEN && strncmp(p, "Parent=", 7) == 0 &&
                 hex_run(p + 7, TRACE_ID_LEN))
            copy_value(p + 7, TRACE_ID_LEN, out->parent);
        else if (strncmp(p, "Sampled=", 8) == 0)
            out->sampled = n == 9 && p[8] == '1';
        p += n;
        if (*p)
            p++;
    }
}

bool trace_records(const trace_context *t) {
    return t->sampled && t->root[0] && t->parent[0];
}

bool trace_format(const trace_context *t, const char *parent, char out[TRACE_HEADER_MAX]) {
    out[0] = '\0';
    if (!t->root[0])
        return false;
    if (parent && *parent)
        snprintf(out, TRACE_HEADER_MAX, "Root=%s;Parent=%s;Sampled=%d", t->root, parent,
                 t->sampled ? 1 : 0);
    else
        snprintf(out, TRACE_HEADER_MAX, "Root=%s;Sampled=%d", t->root, t->sampled ? 1 : 0);
    return true;
}
