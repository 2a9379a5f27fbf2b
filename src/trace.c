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

/* The end of a field: the header's end or the next field. */
static bool field_end(char c) {
    return c == '\0' || c == ';';
}

bool trace_is_hex(const char *s, size_t n) {
    return hex_run(s, n) && s[n] == '\0';
}

/* "1-" + 8 hex + "-" + 24 hex, then the end of the field. */
static bool root_ok(const char *v) {
    return v[0] == '1' && v[1] == '-' && hex_run(v + 2, 8) && v[10] == '-' && hex_run(v + 11, 24) &&
           field_end(v[TRACE_ROOT_LEN]);
}

/* Copies the field's value (up to ';' or the end) when it is exactly len characters. */
static void copy_value(const char *v, size_t len, char *out) {
    size_t n = strcspn(v, ";");
    if (n == len) {
        memcpy(out, v, len);
        out[len] = '\0';
    }
}

void trace_parse(const char *header, trace_context *out) {
    memset(out, 0, sizeof *out);
    for (const char *p = header; p && *p;) {
        while (*p == ' ')
            p++;
        if (strncmp(p, "Root=", 5) == 0 && root_ok(p + 5))
            copy_value(p + 5, TRACE_ROOT_LEN, out->root);
        else if (strncmp(p, "Parent=", 7) == 0 && hex_run(p + 7, TRACE_ID_LEN) &&
                 field_end(p[7 + TRACE_ID_LEN]))
            copy_value(p + 7, TRACE_ID_LEN, out->parent);
        else if (strncmp(p, "Sampled=", 8) == 0)
            out->sampled = p[8] == '1' && field_end(p[9]);
        p = strchr(p, ';');
        if (p)
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
