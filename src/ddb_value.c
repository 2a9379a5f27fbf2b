/* ddb_value.c — DynamoDB AttributeValues: marshalling and item helpers (see ddb_value.h). */
#include "ddb_value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An N as text, with its NUL: "%.17g" of any double or "%lld" of any integer fits. */
#define N_TEXT_MAX 40u

/* ---- Numbers ---- */

/* Whether s[0..len) is a number as DynamoDB writes one: -?digits(.digits)?([eE][+-]?digits)?
 * (a leading or trailing '.' is accepted, as DynamoDB does). Sets *integral when there is
 * neither a fraction nor an exponent. */
static bool number_syntax(const char *s, size_t len, bool *integral) {
    size_t i = 0, digits = 0;
    *integral = true;
    if (i < len && s[i] == '-')
        i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < len && s[i] == '.') {
        *integral = false;
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        *integral = false;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, exp_digits++;
        if (exp_digits == 0)
            return false;
    }
    return i == len;
}

/* The N string s (len bytes, NUL-terminated by jansson) as a JSON integer when it is an
 * integer that fits, else as a real; NULL when it is not a number. */
static json_t *number_from_n(const char *s, size_t len) {
    bool integral;
    if (!number_syntax(s, len, &integral))
        return NULL;
    char *end;
    if (integral) {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno == 0 && end == s + len)
            return json_integer((json_int_t)v);
    }
    errno = 0;
    double d = strtod(s, &end);
    if (end != s + len || !isfinite(d))
        return NULL;
    return json_real(d);
}

/* Shortest "%.*g" rendering of d that reads back as the same double. */
static json_t *n_from_real(double d) {
    char tmp[N_TEXT_MAX];
    if (!isfinite(d))
        return NULL;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    return json_pack("{s:s}", "N", tmp);
}

/* ---- Marshalling ---- */

static json_t *marshal(const json_t *v, unsigned depth);

static json_t *marshal_object(const json_t *obj, unsigned depth) {
    json_t *m = json_object();
    const char *key;
    json_t *val;
    if (!m)
        return NULL;
    json_object_foreach((json_t *)obj, key, val) {
        if (json_object_set_new(m, key, marshal(val, depth + 1)) != 0) {
            json_decref(m);
            return NULL;
        }
    }
    return json_pack("{s:o}", "M", m);
}

static json_t *marshal_array(const json_t *arr, unsigned depth) {
    json_t *l = json_array();
    size_t i;
    json_t *val;
    if (!l)
        return NULL;
    json_array_foreach(arr, i, val) {
        if (json_array_append_new(l, marshal(val, depth + 1)) != 0) {
            json_decref(l);
            return NULL;
        }
    }
    return json_pack("{s:o}", "L", l);
}

static json_t *marshal(const json_t *v, unsigned depth) {
    if (!v || depth > DDB_MAX_NESTING)
        return NULL;
    switch (json_typeof(v)) {
        case JSON_STRING:
            return json_pack("{s:s%}", "S", json_string_value(v), json_string_length(v));
        case JSON_INTEGER: {
            char tmp[N_TEXT_MAX];
            snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            return json_pack("{s:s}", "N", tmp);
        }
        case JSON_REAL:
            return n_from_real(json_real_value(v));
        case JSON_TRUE:
            return json_pack("{s:b}", "BOOL", 1);
        case JSON_FALSE:
            return json_pack("{s:b}", "BOOL", 0);
        case JSON_NULL:
            return json_pack("{s:b}", "NULL", 1);
        case JSON_OBJECT:
            return marshal_object(v, depth);
        case JSON_ARRAY:
            return marshal_array(v, depth);
    }
    return NULL;
}

json_t *ddb_marshal(const json_t *plain) {
    return marshal(plain, 0);
}

/* ---- Unmarshalling ---- */

static json_t *unmarshal(const json_t *av, unsigned depth);

static json_t *unmarshal_map(const json_t *m, unsigned depth) {
    json_t *out;
    const char *key;
    json_t *val;
    if (!json_is_object(m) || !(out = json_object()))
        return NULL;
    json_object_foreach((json_t *)m, key, val) {
        json_t *plain = unmarshal(val, depth + 1);
        if (!plain || json_object_set_new(out, key, plain) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *unmarshal_list(const json_t *l, unsigned depth) {
    json_t *out;
    size_t i;
    json_t *val;
    if (!json_is_array(l) || !(out = json_array()))
        return NULL;
    json_array_foreach(l, i, val) {
        json_t *plain = unmarshal(val, depth + 1);
        if (!plain || json_array_append_new(out, plain) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* An AttributeValue is an object with exactly one member naming its type. */
static json_t *unmarshal(const json_t *av, unsigned depth) {
    if (!json_is_object(av) || json_object_size(av) != 1 || depth > DDB_MAX_NESTING)
        return NULL;
    void *it = json_object_iter((json_t *)av);
    const char *type = json_object_iter_key(it);
    const json_t *v = json_object_iter_value(it);

    if (strcmp(type, "S") == 0)
        return json_is_string(v) ? json_stringn(json_string_value(v), json_string_length(v)) : NULL;
    if (strcmp(type, "N") == 0)
        return json_is_string(v) ? number_from_n(json_string_value(v), json_string_length(v))
                                 : NULL;
    if (strcmp(type, "BOOL") == 0)
        return json_is_boolean(v) ? json_boolean(json_is_true(v)) : NULL;
    if (strcmp(type, "NULL") == 0)
        return json_is_true(v) ? json_null() : NULL;
    if (strcmp(type, "M") == 0)
        return unmarshal_map(v, depth);
    if (strcmp(type, "L") == 0)
        return unmarshal_list(v, depth);
    return NULL; /* B, SS, NS, BS and anything unknown */
}

json_t *ddb_unmarshal(const json_t *av) {
    return unmarshal(av, 0);
}

/* ---- Item conveniences ---- */

json_t *ddb_av_s(const char *s) {
    return s ? json_pack("{s:s}", "S", s) : NULL;
}

json_t *ddb_av_n(long long n) {
    char tmp[N_TEXT_MAX];
    snprintf(tmp, sizeof tmp, "%lld", n);
    return json_pack("{s:s}", "N", tmp);
}

json_t *ddb_item_s_json(const json_t *item, const char *name) {
    json_t *s = json_object_get(json_object_get(item, name), "S");
    return json_is_string(s) ? s : NULL;
}

const char *ddb_item_s(const json_t *item, const char *name) {
    const json_t *s = ddb_item_s_json(item, name);
    return s ? json_string_value(s) : NULL;
}

bool ddb_item_n(const json_t *item, const char *name, long long *out) {
    const json_t *n = json_object_get(json_object_get(item, name), "N");
    if (!json_is_string(n))
        return false;
    const char *s = json_string_value(n);
    size_t len = json_string_length(n);
    bool integral;
    if (!number_syntax(s, len, &integral) || !integral)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end != s + len)
        return false;
    *out = v;
    return true;
}
