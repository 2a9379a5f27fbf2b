/* xray.c — X-Ray subsegments over UDP (see xray.h). */
#include "xray.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define DAEMON_HEADER "{\"format\": \"json\", \"version\": 1}\n"
#define MAX_HOST      64u /* longest numeric host kept: an IPv6 literal fits */

struct xray_daemon {
    int fd;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    unsigned long sent, dropped;
};

/* The udp: part of the SDKs' two-address form, else the whole address (borrowed, not
 * NUL-terminated at the part's end: *len says how long). */
static const char *udp_part(const char *address, size_t *len) {
    const char *udp = strstr(address, "udp:");
    const char *p = udp ? udp + 4 : address;
    if (!udp && strncmp(address, "tcp:", 4) == 0)
        p = address + 4;
    *len = strcspn(p, " ");
    return p;
}

/* Reads "host:port" or "[v6]:port" (numeric only) into d's address. */
static bool parse_address(const char *p, size_t len, xray_daemon *d) {
    char host[MAX_HOST];
    const char *colon = NULL;
    const char *hs = p;
    size_t hlen;
    if (len > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', len);
        if (!close || (size_t)(close - p) + 1 >= len || close[1] != ':')
            return false;
        hs = p + 1;
        hlen = (size_t)(close - hs);
        colon = close + 1;
    } else {
        for (size_t i = len; i > 0; i--) {
            if (p[i - 1] == ':') {
                colon = p + i - 1;
                break;
            }
        }
        if (!colon)
            return false;
        hlen = (size_t)(colon - p);
    }
    if (hlen == 0 || hlen >= sizeof host)
        return false;
    memcpy(host, hs, hlen);
    host[hlen] = '\0';
    size_t plen = len - (size_t)(colon + 1 - p);
    if (plen == 0 || plen > 5)
        return false;
    unsigned port = 0;
    for (size_t i = 0; i < plen; i++) {
        char c = colon[1 + i];
        if (c < '0' || c > '9')
            return false;
        port = port * 10 + (unsigned)(c - '0');
    }
    if (port == 0 || port > 65535)
        return false;
    memset(&d->addr, 0, sizeof d->addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&d->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&d->addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        d->addr_len = sizeof *v4;
        return true;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        d->addr_len = sizeof *v6;
        return true;
    }
    return false;
}

xray_daemon *xray_daemon_open(const char *address, char *err, size_t err_len) {
    if (err_len)
        err[0] = '\0';
    if (!address || !*address)
        return NULL;
    xray_daemon *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    size_t len;
    const char *p = udp_part(address, &len);
    if (!parse_address(p, len, d)) {
        snprintf(err, err_len, "not a numeric address and port");
        free(d);
        return NULL;
    }
    d->fd = socket(d->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        free(d);
        return NULL;
    }
    return d;
}

void xray_daemon_close(xray_daemon *d) {
    if (!d)
        return;
    close(d->fd);
    free(d);
}

bool xray_daemon_send(xray_daemon *d, const char *datagram, size_t len) {
    if (!d)
        return false;
    ssize_t n = sendto(d->fd, datagram, len, MSG_DONTWAIT | MSG_NOSIGNAL,
                       (const struct sockaddr *)&d->addr, d->addr_len);
    bool ok = n == (ssize_t)len;
    if (ok)
        d->sent++;
    else
        d->dropped++;
    return ok;
}

void xray_daemon_counts(const xray_daemon *d, unsigned long *sent, unsigned long *dropped) {
    *sent = d ? d->sent : 0;
    *dropped = d ? d->dropped : 0;
}

void xray_new_id(char out[TRACE_ID_LEN + 1]) {
    static const char hex[] = "0123456789abcdef";
    unsigned char r[TRACE_ID_LEN / 2];
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        /* Ids need to be unique, not secret: the clock and a counter will do. */
        static uint64_t counter;
        uint64_t x = (uint64_t)rand() << 32 ^ (uint64_t)(uintptr_t)&counter ^ ++counter;
        memcpy(r, &x, sizeof r);
    }
    for (size_t i = 0; i < sizeof r; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[TRACE_ID_LEN] = '\0';
}

/* Letters, digits and "-_.:": what every string of a subsegment is made of. */
static bool plain(const char *s) {
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

/* Appends ,"name":"value" when value is plain. */
static ua_status plain_member(buf *b, const char *name, const char *value) {
    return plain(value) ? buf_appendf(b, ",\"%s\":\"%s\"", name, value) : UA_OK;
}

/* Epoch seconds with microseconds, as X-Ray reads them. */
static ua_status seconds_member(buf *b, const char *name, int64_t us) {
    return buf_appendf(b, ",\"%s\":%lld.%06lld", name, (long long)(us / 1000000),
                       (long long)(us % 1000000));
}

static ua_status aws_member(buf *b, const xray_subsegment *s) {
    ua_status st = buf_appendf(b, ",\"aws\":{\"operation\":\"%s\"", s->operation);
    if (st == UA_OK && s->n_tables == 1)
        st = plain_member(b, "table_name", s->table_names[0]);
    else if (st == UA_OK && s->n_tables > 1) {
        st = buf_append_str(b, ",\"table_names\":[");
        const char *sep = "";
        for (size_t i = 0; st == UA_OK && i < s->n_tables; i++) {
            if (!plain(s->table_names[i]))
                continue;
            st = buf_appendf(b, "%s\"%s\"", sep, s->table_names[i]);
            sep = ",";
        }
        if (st == UA_OK)
            st = buf_append_char(b, ']');
    }
    if (st == UA_OK)
        st = plain_member(b, "region", s->region);
    if (st == UA_OK)
        st = buf_appendf(b, ",\"retries\":%u", s->retries);
    if (st == UA_OK)
        st = plain_member(b, "request_id", s->request_id);
    return st == UA_OK ? buf_append_char(b, '}') : st;
}

ua_status xray_format_subsegment(const xray_subsegment *s, buf *out) {
    buf_reset(out);
    if (!plain(s->operation) || !plain(s->trace_id) || !plain(s->parent_id))
        return UA_ERR_INVALID;
    ua_status st =
        buf_appendf(out,
                    DAEMON_HEADER "{\"name\":\"DynamoDB\",\"id\":\"%s\",\"trace_id\":\"%s\","
                                  "\"parent_id\":\"%s\",\"type\":\"subsegment\","
                                  "\"namespace\":\"aws\"",
                    s->id, s->trace_id, s->parent_id);
    if (st == UA_OK)
        st = seconds_member(out, "start_time", s->start_us);
    if (st == UA_OK)
        st = seconds_member(out, "end_time", s->end_us);
    if (st == UA_OK)
        st = aws_member(out, s);
    if (st == UA_OK && s->http_status > 0)
        st = buf_appendf(out, ",\"http\":{\"response\":{\"status\":%ld}}", s->http_status);
    if (st == UA_OK && s->error)
        st = buf_append_str(out, ",\"error\":true");
    if (st == UA_OK && s->throttle)
        st = buf_append_str(out, ",\"throttle\":true");
    if (st == UA_OK && s->fault)
        st = buf_append_str(out, ",\"fault\":true");
    return st == UA_OK ? buf_append_char(out, '}') : st;
}
