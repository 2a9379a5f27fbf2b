/* gw_env.h — the environment a bootstrap starts with: the gateway's own, with the settings
 * given on the command line, and Lambda's defaults where neither says otherwise. */
#ifndef USERS_GW_ENV_H
#define USERS_GW_ENV_H

#include <stddef.h>

/* A new NULL-terminated "NAME=value" array (free with gw_env_free): base, less every name in
 * drop, with each "NAME=value" of sets replacing or adding NAME, then each of defaults added
 * when NAME is still absent or empty. Entries of base without '=' are left out. NULL on out
 * of memory. */
char **gw_env_build(char *const *base, const char *const *sets, size_t nsets,
                    const char *const *defaults, size_t ndefaults, const char *const *drop,
                    size_t ndrop);

/* The value of name in env (borrowed), or NULL. */
const char *gw_env_get(char *const *env, const char *name);

void gw_env_free(char **env);

#endif
