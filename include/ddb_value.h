/* ddb_value.h — DynamoDB AttributeValues: plain JSON to and from the typed form, and items.
 *
 * Pure functions over jansson trees, no I/O: what a request document holds and what a reply's
 * items are read with. An item is a JSON object mapping attribute names to AttributeValues
 * ({"S": "..."}, {"N": "12"}, ...). Every function returning json_t * returns a new reference
 * the caller must json_decref, or NULL; every argument is borrowed. */
#ifndef USERS_DDB_VALUE_H
#define USERS_DDB_VALUE_H

#include "common.h"

#include <jansson.h>
#include <stdbool.h>

/* Deepest M/L nesting (un)marshalled: DynamoDB's own limit is 32 levels. */
#define DDB_MAX_NESTING 32u

/* Plain JSON value → AttributeValue: string→S, integer/real→N, true/false→BOOL, null→NULL,
 * object→M, array→L. New reference; NULL when plain is NULL, nested past DDB_MAX_NESTING, a
 * non-finite real, or on out of memory. */
UA_WARN_UNUSED json_t *ddb_marshal(const json_t *plain);

/* AttributeValue → plain JSON. N becomes an integer when it is one, else a real. NULL when av
 * is not a well-formed AttributeValue of those types (B, SS, NS and BS are refused). New
 * reference. */
UA_WARN_UNUSED json_t *ddb_unmarshal(const json_t *av);

/* {"S": s}: new reference; NULL when s is NULL or not UTF-8, or on out of memory. */
UA_WARN_UNUSED json_t *ddb_av_s(const char *s);

/* {"N": "n"}: new reference; NULL on out of memory. */
UA_WARN_UNUSED json_t *ddb_av_n(long long n);

/* The S of attribute name in item: borrowed from item, valid while item lives; NULL when
 * absent or not an S. */
UA_WARN_UNUSED const char *ddb_item_s(const json_t *item, const char *name);

/* The same as the JSON string itself (borrowed from item), for a caller that shares it with
 * another document instead of copying it. */
UA_WARN_UNUSED json_t *ddb_item_s_json(const json_t *item, const char *name);

/* The N of attribute name as an integer into *out; false (and *out untouched) when absent, not
 * an N, or not an integer that fits in a long long. */
UA_WARN_UNUSED bool ddb_item_n(const json_t *item, const char *name, long long *out);

#endif
