/* gw_sys.h — the gateway's system plumbing: loopback sockets and random ids. */
#ifndef USERS_GW_SYS_H
#define USERS_GW_SYS_H

#include <stddef.h>

/* A listening TCP socket (close-on-exec) on host:port (port 0: an ephemeral one, written to
 * *bound). -1 with a readable reason in err ("port 3000 on 127.0.0.1 is already in use")
 * when it cannot be had. */
int gw_listen(const char *host, unsigned port, unsigned *bound, char *err, size_t errlen);

/* A bound UDP socket (close-on-exec) on host:port (0: an ephemeral port), as gw_listen. */
int gw_bind_udp(const char *host, unsigned port, unsigned *bound, char *err, size_t errlen);

/* A new random UUID v4, lowercase, into out (at least 37 bytes). */
void gw_uuid(char *out);

/* n random lowercase hex digits into out (n + 1 bytes). */
void gw_random_hex(char *out, size_t n);

/* An id like API Gateway's extendedRequestId ("EnGhRFC7PHcFffA="), into out (17 bytes). */
void gw_extended_id(char *out);

#endif
