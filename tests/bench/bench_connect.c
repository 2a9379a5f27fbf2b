/* bench_connect.c — the floor for the cold-start figure: a static C program that does only
 * what every runtime must do before its first invocation, connect to AWS_LAMBDA_RUNTIME_API
 * and send GET /next, with plain sockets and nothing else linked in. It waits for the answer
 * and exits. Built with -static (tests/CMakeLists.txt). */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API"); /* "127.0.0.1:port" */
    const char *colon = api ? strrchr(api, ':') : NULL;
    if (!colon || strncmp(api, "127.0.0.1:", 10) != 0)
        return 2;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)atoi(colon + 1)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
    if (n <= 0 || write(fd, req, (size_t)n) != n)
        return 1;
    char answer[4096];
    return read(fd, answer, sizeof answer) > 0 ? 0 : 1;
}
