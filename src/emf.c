/* emf.c — the Embedded Metric Format members of the invocation line (see emf.h). */
#include "emf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a namespace or a dimension value may hold here: printable, nothing to escape, and
 * something other than spaces (CloudWatch refuses a dimension value of spaces alone). */
static bool name_ok(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= EMF_MAX_NAME || strspn(s, " ") == n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("._-/#: ", c)))
            return false;
    }
    return true;
}

/* A namespace also may not start with ':' (CloudWatch's pattern) nor be AWS's own. */
static bool namespace_ok(const char *s) {
    return name_ok(s) && s[0] != ':' && strncmp(s, "AWS/", 4) != 0;
}

/* value when ok(value), else dflt (and the variable is named in warn). */
static void take(char *out, const char *var, const char *dflt, bool (*ok)(const char *), char *warn,
                 size_t warn_len) {
    const char *v = getenv(var);
    bool set = v && *v;
    if (set && !ok(v))
        snprintf(warn + strlen(warn), warn_len - strlen(warn), "%s%s", *warn ? ", " : "", var);
    snprintf(out, EMF_MAX_NAME, "%s", set && ok(v) ? v : dflt);
}

void emf_config_from_env(emf_config *cfg, char *warn, size_t warn_len) {
    char none[1];
    if (warn_len == 0) { /* no room for a warning: the configuration is read all the same */
        warn = none;
        warn_len = sizeof none;
    }
    warn[0] = '\0';
    take(cfg->namespace_, "METRICS_NAMESPACE", EMF_DEFAULT_NAMESPACE, namespace_ok, warn, warn_len);
    take(cfg->service, "SERVICE_NAME", EMF_DEFAULT_SERVICE, name_ok, warn, warn_len);
    const char *dims = getenv("METRICS_DIMENSIONS");
    cfg->per_operation = !(dims && strcmp(dims, "service") == 0);
    if (dims && *dims && strcmp(dims, "service") != 0 && strcmp(dims, "operation") != 0)
        snprintf(warn + strlen(warn), warn_len - strlen(warn), "%sMETRICS_DIMENSIONS",
                 *warn ? ", " : "");
}

/* One metric's definition, {"Name":...,"Unit":...}, after sep. */
static ua_status definition(buf *b, const char **sep, const char *name, const char *unit) {
    ua_status st = buf_appendf(b, "%s{\"Name\":\"%s\",\"Unit\":\"%s\"}", *sep, name, unit);
    *sep = ",";
    return st;
}

ua_status emf_append(buf *b, const emf_config *cfg, const emf_values *v) {
    const char *sep = "";
    ua_status st = buf_appendf(
        b,
        ",\"_aws\":{\"Timestamp\":%lld,\"CloudWatchMetrics\":[{\"Namespace\":"
        "\"%s\",\"Dimensions\":[[\"Service\"%s]],\"Metrics\":[",
        (long long)v->timestamp_ms, cfg->namespace_, cfg->per_operation ? ",\"Operation\"" : "");
    if (st == UA_OK)
        st = definition(b, &sep, "Latency", "Milliseconds");
    if (st == UA_OK && v->called_ddb)
        st = definition(b, &sep, "DynamoDBLatency", "Milliseconds");
    if (st == UA_OK && v->called_ddb)
        st = definition(b, &sep, "DynamoDBRetries", "Count");
    if (st == UA_OK)
        st = definition(b, &sep, "ClientErrors", "Count");
    if (st == UA_OK)
        st = definition(b, &sep, "ServerErrors", "Count");
    if (st == UA_OK && v->cold_start)
        st = definition(b, &sep, "ColdStart", "Count");
    if (st == UA_OK)
        st = buf_appendf(b, "]}]},\"Service\":\"%s\",\"Operation\":\"%s\",\"Latency\":%.3f",
                         cfg->service, v->operation, v->latency_ms);
    if (st == UA_OK && v->called_ddb)
        st = buf_appendf(b, ",\"DynamoDBLatency\":%.3f,\"DynamoDBRetries\":%u", v->ddb_latency_ms,
                         v->ddb_retries);
    if (st == UA_OK)
        st = buf_appendf(b, ",\"ClientErrors\":%d,\"ServerErrors\":%d", v->client_error ? 1 : 0,
                         v->server_error ? 1 : 0);
    if (st == UA_OK && v->cold_start)
        st = buf_append_str(b, ",\"ColdStart\":1");
    return st;
}

bool emf_unit_known(const char *unit) {
    static const char *const units[] = {"Seconds",
                                        "Microseconds",
                                        "Milliseconds",
                                        "Bytes",
                                        "Kilobytes",
                                        "Megabytes",
                                        "Gigabytes",
                                        "Terabytes",
                                        "Bits",
                                        "Kilobits",
                                        "Megabits",
                                        "Gigabits",
                                        "Terabits",
                                        "Percent",
                                        "Count",
                                        "Bytes/Second",
                                        "Kilobytes/Second",
                                        "Megabytes/Second",
                                        "Gigabytes/Second",
                                        "Terabytes/Second",
                                        "Bits/Second",
                                        "Kilobits/Second",
                                        "Megabits/Second",
                                        "Gigabits/Second",
                                        "Terabits/Second",
                                        "Count/Second",
                                        "None"};
    for (size_t i = 0; unit && i < sizeof units / sizeof units[0]; i++)
        if (strcmp(unit, units[i]) == 0)
            return true;
    return false;
}
