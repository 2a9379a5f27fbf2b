/* gw_sys.c — loopback sockets and random ids (see gw_sys.h). */
#define _GNU_SOURCE /* SOCK_CLOEXEC */ // NOLINT(bugprone-reserved-identifier)
#include "gw_sys.h"

#include "buf.h"
#include "codec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uuid/uuid.h>

/* A socket of type bound to host:port; -1 with err set when it cannot be had. what names it
 * in the messages ("port", "UDP port"). */
static int bind_socket(int type, const char *what, const char *host, unsigned port, unsigned *bound,
                       char *err, size_t errlen) {
    const char *verb = type == SOCK_STREAM ? "listen on" : "bind";
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (port > 65535 || inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        snprintf(err, errlen, "cannot %s %s:%u: not an IPv4 address and port", verb, host, port);
        return -1;
    }
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    if (type == SOCK_STREAM) {
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        if (e == EADDRINUSE)
            snprintf(err, errlen, "%s %u on %s is already in use", what, port, host);
        else
            snprintf(err, errlen, "cannot %s %s:%u: %s", verb, host, port, strerror(e));
        close(fd);
        return -1;
    }
    socklen_t len = sizeof addr;
    if (bound) {
        *bound = port;
        if (getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
            *bound = ntohs(addr.sin_port);
    }
    return fd;
}

int gw_listen(const char *host, unsigned port, unsigned *bound, char *err, size_t errlen) {
    int fd = bind_socket(SOCK_STREAM, "port", host, port, bound, err, errlen);
    if (fd >= 0 && listen(fd, 128) != 0) {
        snprintf(err, errlen, "listen on %s:%u: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int gw_bind_udp(const char *host, unsigned port, unsigned *bound, char *err, size_t errlen) {
    return bind_socket(SOCK_DGRAM, "UDP port", host, port, bound, err, errlen);
}

void gw_uuid(char *out) {
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

void gw_random_hex(char *out, size_t n) {
    static const char digits[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n) {
        uuid_t u;
        uuid_generate_random(u);
        /* Bytes 6 and 8 carry the version and variant bits: skip them. */
        for (size_t k = 0; k < sizeof u && i < n; k++) {
            if (k == 6 || k == 8)
                continue;
            out[i++] = digits[u[k] & 15u];
        }
    }
    out[n] = '\0';
}

void gw_extended_id(char *out) {
    uuid_t u;
    uuid_generate_random(u);
    unsigned char raw[11];
    memcpy(raw, u, 6);
    memcpy(raw + 6, u + 9, 5);
    buf b;
    buf_init(&b, 16);
    if (codec_base64_encode(raw, sizeof raw, &b) == UA_OK)
        memcpy(out, b.data, 16);
    else
        memset(out, 'A', 16);
    out[16] = '\0';
    buf_free(&b);
}
