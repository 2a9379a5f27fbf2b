/* gw_relay.h — the bootstraps' stdout through the gateway: every byte passed on to the
 * gateway's own stdout unchanged, and every complete line also handed to a callback (the
 * --trace console reads the invocation lines there).
 *
 * One thread polls every pipe. Lines are written with one write(2) each, so lines of different
 * bootstraps never interleave. A line longer than GW_RELAY_MAX_LINE is passed on in pieces and
 * not handed to the callback. */
#ifndef USERS_GW_RELAY_H
#define USERS_GW_RELAY_H

#include <stddef.h>

#define GW_RELAY_MAX_LINE  ((size_t)64 * 1024)
#define GW_RELAY_MAX_PIPES 256u /* live bootstraps, and old pipes a child may still hold */

typedef struct gw_relay gw_relay;

/* Called on the relay's thread with one line, without its newline; line is borrowed. */
typedef void (*gw_relay_line_fn)(void *ctx, const char *line, size_t len);

/* Starts the relay thread, writing to out_fd (borrowed). NULL (logged) when it cannot. */
gw_relay *gw_relay_start(int out_fd, gw_relay_line_fn on_line, void *ctx);

/* Hands over the read end of a pipe (the relay closes it at its end of file). -1 when the
 * relay holds GW_RELAY_MAX_PIPES already or is stopping; fd is left to the caller then. */
int gw_relay_add(gw_relay *r, int fd);

/* Passes on what the pipes hold now, closes them, ends the thread and frees. Call it after
 * the bootstraps are gone. NULL is a no-op. */
void gw_relay_stop(gw_relay *r);

#endif
