/* gw_env.c — building a bootstrap's environment (see gw_env.h). */
#include "gw_env.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Does entry ("NAME=value") set name (given as "NAME=..." or "NAME")? */
static bool same_name(const char *entry, const char *name) {
    size_t n = strcspn(name, "=");
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

static size_t count(char *const *env) {
    size_t n = 0;
    while (env && env[n])
        n++;
    return n;
}

/* Index of name in env[0..n), or n. */
static size_t find(char **env, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++) {
        if (same_name(env[i], name))
            return i;
    }
    return n;
}

const char *gw_env_get(char *const *env, const char *name) {
    for (size_t i = 0; env && env[i]; i++) {
        if (same_name(env[i], name))
            return env[i] + strcspn(name, "=") + 1;
    }
    return NULL;
}

void gw_env_free(char **env) {
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

char **gw_env_build(char *const *base, const char *const *sets, size_t nsets,
                    const char *const *defaults, size_t ndefaults, const char *const *drop,
                    size_t ndrop) {
    size_t cap = count(base) + nsets + ndefaults + 1;
    char **env = calloc(cap, sizeof *env);
    if (!env)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; base && base[i]; i++) {
        if (!strchr(base[i], '='))
            continue;
        bool dropped = false;
        for (size_t k = 0; k < ndrop && !dropped; k++)
            dropped = same_name(base[i], drop[k]);
        if (dropped || find(env, n, base[i]) < n)
            continue;
        if (!(env[n] = strdup(base[i])))
            goto oom;
        n++;
    }
    for (size_t i = 0; i < nsets + ndefaults; i++) {
        const char *entry = i < nsets ? sets[i] : defaults[i - nsets];
        if (!strchr(entry, '='))
            continue;
        size_t at = find(env, n, entry);
        if (at < n && i >= nsets && env[at][strcspn(env[at], "=") + 1] != '\0')
            continue; /* a default never overrides a value that is set */
        char *copy = strdup(entry);
        if (!copy)
            goto oom;
        if (at < n) {
            free(env[at]);
            env[at] = copy;
        } else {
            env[n++] = copy;
        }
    }
    env[n] = NULL;
    return env;
oom:
    gw_env_free(env);
    return NULL;
}
