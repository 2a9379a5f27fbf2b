/* trace.h — Lambda's trace header (Lambda-Runtime-Trace-Id, the _X_AMZN_TRACE_ID of the
 * invocation) read into its parts, and the X-Amzn-Trace-Id a downstream call carries.
 *
 * The header is "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
 * (fields in any order, others such as Lineage ignored). A Root or Parent that is not in
 * X-Ray's format is dropped, never passed on: the header comes from outside the process. */
#ifndef USERS_TRACE_H
#define USERS_TRACE_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>

#define TRACE_ROOT_LEN 35u /* "1-" + 8 hex + "-" + 24 hex */
#define TRACE_ID_LEN   16u /* a segment or subsegment id: 16 hex */
/* The longest X-Amzn-Trace-Id trace_format writes, with its NUL. */
#define TRACE_HEADER_MAX                                                                           \
    (sizeof "Root=" + TRACE_ROOT_LEN + sizeof ";Parent=" + TRACE_ID_LEN + sizeof ";Sampled=1")

typedef struct trace_context {
    char root[TRACE_ROOT_LEN + 1]; /* "" when the header had no valid Root */
    char parent[TRACE_ID_LEN + 1]; /* "" when none */
    bool sampled;                  /* Sampled=1 */
} trace_context;

/* Reads header (NUL-terminated, may be NULL or "") into *out; fields not in X-Ray's format are
 * left empty. */
void trace_parse(const char *header, trace_context *out);

/* Whether a downstream call should be recorded as a subsegment: sampled, with a Root and a
 * Parent to hang it on. */
bool trace_records(const trace_context *t);

/* The X-Amzn-Trace-Id for a downstream call whose parent is parent (a subsegment's id, or
 * t->parent when none is recorded), into out[TRACE_HEADER_MAX]: "Root=...;Parent=...;Sampled=0|1".
 * false, with out "", when t has no Root (then no header is sent). */
bool trace_format(const trace_context *t, const char *parent, char out[TRACE_HEADER_MAX]);

/* Whether s is exactly n hex digits (either case): a segment id when n is TRACE_ID_LEN. */
bool trace_is_hex(const char *s, size_t n);

/* Whether s (n bytes, not necessarily NUL-terminated) is a trace id, "1-" + 8 hex + "-" +
 * 24 hex. */
bool trace_is_root(const char *s, size_t n);

#endif
