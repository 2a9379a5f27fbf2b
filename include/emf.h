/* emf.h — CloudWatch Embedded Metric Format: the invocation's metrics written into its log
 * line, which CloudWatch Logs turns into metrics with no API call and no extra process.
 *
 * The line gains "_aws" {Timestamp, CloudWatchMetrics: [{Namespace, Dimensions, Metrics}]},
 * each dimension as a top-level string and each metric as a top-level number, as the
 * specification asks. Dimensions are Service and Operation by default; METRICS_DIMENSIONS=service
 * keeps Service alone (fewer custom metrics, see BENCHMARKS.md). */
#ifndef USERS_EMF_H
#define USERS_EMF_H

#include "buf.h"
#include "common.h"

#include <stdbool.h>
#include <stdint.h>

#define EMF_DEFAULT_NAMESPACE "UsersApi"
#define EMF_DEFAULT_SERVICE   "users-api"
#define EMF_MAX_NAME          256u /* CloudWatch's limits: namespace 255, dimension value 1024 */

typedef struct emf_config {
    char namespace_[EMF_MAX_NAME]; /* METRICS_NAMESPACE */
    char service[EMF_MAX_NAME];    /* SERVICE_NAME */
    bool per_operation;            /* the Operation dimension (METRICS_DIMENSIONS != service) */
} emf_config;

/* Reads METRICS_NAMESPACE, SERVICE_NAME and METRICS_DIMENSIONS. A value CloudWatch would
 * refuse (too long, spaces alone, a character outside letters, digits and "._-/#: ", a
 * namespace starting with ':' or "AWS/") is replaced by its default and named in warn (else
 * warn is ""); an empty one is taken as unset. warn may be NULL when warn_len is 0. */
void emf_config_from_env(emf_config *cfg, char *warn, size_t warn_len);

/* One invocation's figures. */
typedef struct emf_values {
    int64_t timestamp_ms;  /* when the invocation ended, epoch ms */
    const char *operation; /* "CreateUser", ...: static */
    double latency_ms;
    bool called_ddb; /* DynamoDBLatency and DynamoDBRetries only then */
    double ddb_latency_ms;
    unsigned ddb_retries; /* attempts less one per call */
    bool client_error;    /* a 4xx answer */
    bool server_error;    /* a 5xx answer */
    bool cold_start;      /* ColdStart only then */
} emf_values;

/* Whether unit is one of CloudWatch's metric units (MetricDatum's Unit list), which EMF's
 * Unit must be: for the checks of EMF documents (the tests, the local gateway). */
bool emf_unit_known(const char *unit);

/* Appends the EMF members (each preceded by a comma) to b, the inside of a JSON object. */
UA_WARN_UNUSED ua_status emf_append(buf *b, const emf_config *cfg, const emf_values *v);

#endif
