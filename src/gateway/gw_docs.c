/* gw_docs.c — /openapi.json, /openapi.yaml and Swagger UI at /docs (see gw_docs.h). */
#include "gw_docs.h"

#include "clock.h"
#include "gw_log.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gw_docs {
    int spec_dir; /* holds openapi.json and openapi.yaml */
    int ui_dir;   /* swagger-ui-dist */
};

static const char PAGE[] =
    "<!doctype html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Users API (local stack)</title>\n"
    "<link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\">\n"
    "<link rel=\"icon\" type=\"image/png\" href=\"/docs/favicon-32x32.png\">\n"
    "</head>\n"
    "<body>\n"
    "<div id=\"swagger-ui\"></div>\n"
    "<script src=\"/docs/swagger-ui-bundle.js\"></script>\n"
    "<script>\n"
    "window.ui = SwaggerUIBundle({url: \"/openapi.json\", dom_id: \"#swagger-ui\",\n"
    "  deepLinking: true, displayRequestDuration: true,\n"
    "  presets: [SwaggerUIBundle.presets.apis], layout: \"BaseLayout\"});\n"
    "</script>\n"
    "</body>\n"
    "</html>\n";

static const char NO_DOCS[] = "{\"message\":\"Not Found: this gateway serves no API docs (start "
                              "it with --openapi-dir DIR --docs-dir DIR, as scripts/run.sh "
                              "does)\"}";
static const char NOT_FOUND[] = "{\"message\":\"Not Found\"}";
static const char NOT_ALLOWED[] = "{\"message\":\"Method Not Allowed: GET or HEAD\"}";
static const char UNREADABLE[] = "{\"message\":\"Internal server error\"}";

static const char JSON_TYPE[] = "application/json";
static const char HTML_TYPE[] = "text/html; charset=utf-8";

/* The path without the query string, compared with a literal. */
static bool is(const char *path, size_t len, const char *lit) {
    return len == strlen(lit) && memcmp(path, lit, len) == 0;
}

static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

gw_docs_kind gw_docs_match(const char *target, size_t target_len, char *name, size_t cap) {
    if (cap)
        name[0] = '\0';
    const char *q = memchr(target, '?', target_len);
    size_t len = q ? (size_t)(q - target) : target_len;
    if (is(target, len, "/openapi.json"))
        return GW_DOCS_SPEC_JSON;
    if (is(target, len, "/openapi.yaml"))
        return GW_DOCS_SPEC_YAML;
    if (is(target, len, "/docs") || is(target, len, "/docs/") ||
        is(target, len, "/docs/index.html"))
        return GW_DOCS_PAGE;
    static const char prefix[] = "/docs/";
    if (len < sizeof prefix - 1 || memcmp(target, prefix, sizeof prefix - 1) != 0)
        return GW_DOCS_NONE;
    const char *file = target + sizeof prefix - 1;
    size_t n = len - (sizeof prefix - 1);
    /* One segment of safe characters, no dot file: "..", "%2e%2e", "a/b" and ".env" all end
     * here, before any file system call. */
    if (n == 0 || n > GW_DOCS_MAX_NAME || n + 1 > cap || file[0] == '.')
        return GW_DOCS_NOT_FOUND;
    for (size_t i = 0; i < n; i++) {
        if (!name_char(file[i]))
            return GW_DOCS_NOT_FOUND;
    }
    memcpy(name, file, n);
    name[n] = '\0';
    return GW_DOCS_FILE;
}

const char *gw_docs_content_type(const char *name) {
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".html", HTML_TYPE},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", JSON_TYPE},
        {".map", JSON_TYPE},
        {".yaml", "application/yaml; charset=utf-8"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    if (dot && dot != name) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
        }
    }
    return "application/octet-stream";
}

void gw_docs_etag(uint64_t size, int64_t mtime_ns, char out[GW_DOCS_ETAG_SIZE]) {
    snprintf(out, GW_DOCS_ETAG_SIZE, "\"%016llx-%016llx\"", (unsigned long long)size,
             (unsigned long long)mtime_ns);
}

bool gw_docs_etag_matches(const char *if_none_match, const char *etag) {
    if (!if_none_match)
        return false;
    size_t elen = strlen(etag);
    const char *p = if_none_match;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2; /* the weak comparison: W/"x" matches "x" */
        const char *end = p;
        if (*end == '"') {
            end = strchr(end + 1, '"');
            if (!end)
                return false;
            end++;
        } else {
            while (*end && *end != ',' && *end != ' ' && *end != '\t')
                end++;
        }
        if ((size_t)(end - p) == elen && memcmp(p, etag, elen) == 0)
            return true;
        p = end;
    }
    return false;
}

const char *gw_docs_page(void) {
    return PAGE;
}

static int open_dir(const char *path, const char *what, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    return fd;
}

static bool has_file(int dir, const char *dir_path, const char *name, char *err, size_t errlen) {
    struct stat st;
    if (fstatat(dir, name, &st, 0) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s/%s is not a readable file", dir_path, name);
        return false;
    }
    return true;
}

gw_docs *gw_docs_open(const char *spec_dir, const char *ui_dir, char *err, size_t errlen) {
    gw_docs *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->spec_dir = open_dir(spec_dir, "--openapi-dir", err, errlen);
    d->ui_dir = d->spec_dir < 0 ? -1 : open_dir(ui_dir, "--docs-dir", err, errlen);
    if (d->ui_dir < 0 || !has_file(d->spec_dir, spec_dir, "openapi.json", err, errlen) ||
        !has_file(d->spec_dir, spec_dir, "openapi.yaml", err, errlen) ||
        !has_file(d->ui_dir, ui_dir, "swagger-ui-bundle.js", err, errlen) ||
        !has_file(d->ui_dir, ui_dir, "swagger-ui.css", err, errlen)) {
        gw_docs_close(d);
        return NULL;
    }
    return d;
}

void gw_docs_close(gw_docs *d) {
    if (!d)
        return;
    if (d->spec_dir >= 0)
        close(d->spec_dir);
    if (d->ui_dir >= 0)
        close(d->ui_dir);
    free(d);
}

static void set_body(gw_docs_answer *out, unsigned status, const char *body, size_t len,
                     const char *type) {
    out->status = status;
    out->body = body;
    out->body_len = len;
    out->content_type = type;
}

/* A regular file under dir, or a 404; the descriptor goes to out. */
static ua_status answer_file(int dir, const char *name, const char *if_none_match,
                             gw_docs_answer *out) {
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR || errno == EISDIR) {
            set_body(out, 404, NOT_FOUND, sizeof NOT_FOUND - 1, JSON_TYPE);
            return UA_OK;
        }
        set_body(out, 500, UNREADABLE, sizeof UNREADABLE - 1, JSON_TYPE);
        return UA_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        set_body(out, 404, NOT_FOUND, sizeof NOT_FOUND - 1, JSON_TYPE);
        return UA_OK;
    }
    gw_docs_etag((uint64_t)st.st_size,
                 (int64_t)st.st_mtim.tv_sec * 1000000000 + (int64_t)st.st_mtim.tv_nsec, out->etag);
    out->content_type = gw_docs_content_type(name);
    if (gw_docs_etag_matches(if_none_match, out->etag)) {
        close(fd);
        out->status = 304;
        return UA_OK;
    }
    out->status = 200;
    out->fd = fd;
    out->size = (uint64_t)st.st_size;
    return UA_OK;
}

ua_status gw_docs_answer_for(const gw_docs *d, gw_docs_kind kind, const char *name,
                             const char *method, const char *if_none_match, gw_docs_answer *out) {
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        set_body(out, 405, NOT_ALLOWED, sizeof NOT_ALLOWED - 1, JSON_TYPE);
        out->allow = true;
        return UA_OK;
    }
    if (!d) {
        set_body(out, 404, NO_DOCS, sizeof NO_DOCS - 1, JSON_TYPE);
        return UA_OK;
    }
    switch (kind) {
        case GW_DOCS_SPEC_JSON:
            return answer_file(d->spec_dir, "openapi.json", if_none_match, out);
        case GW_DOCS_SPEC_YAML:
            return answer_file(d->spec_dir, "openapi.yaml", if_none_match, out);
        case GW_DOCS_PAGE:
            set_body(out, 200, PAGE, sizeof PAGE - 1, HTML_TYPE);
            return UA_OK;
        case GW_DOCS_FILE:
            return answer_file(d->ui_dir, name, if_none_match, out);
        default:
            set_body(out, 404, NOT_FOUND, sizeof NOT_FOUND - 1, JSON_TYPE);
            return UA_OK;
    }
}

int gw_docs_serve(const gw_docs *d, struct MHD_Connection *c, const char *method,
                  const char *target, size_t target_len) {
    char name[GW_DOCS_MAX_NAME + 1];
    gw_docs_kind kind = gw_docs_match(target, target_len, name, sizeof name);
    if (kind == GW_DOCS_NONE)
        return 0;
    int64_t t0 = ua_monotonic_us();
    gw_docs_answer a;
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    const char *detail = NULL;
    if (gw_docs_answer_for(d, kind, name, method, inm, &a) != UA_OK)
        detail = "a docs file could not be read";
    struct MHD_Response *r = a.fd >= 0 ? MHD_create_response_from_fd(a.size, a.fd)
                                       : MHD_create_response_from_buffer(a.body_len, (void *)a.body,
                                                                         MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (a.fd >= 0)
            close(a.fd);
        return -1;
    }
    if (a.content_type && a.status != 304)
        (void)MHD_add_response_header(r, "Content-Type", a.content_type);
    (void)MHD_add_response_header(r, "Cache-Control", "no-cache");
    (void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (a.etag[0])
        (void)MHD_add_response_header(r, "ETag", a.etag);
    if (a.allow)
        (void)MHD_add_response_header(r, "Allow", "GET, HEAD");
    enum MHD_Result ok = MHD_queue_response(c, a.status, r);
    MHD_destroy_response(r);
    gw_access log = {.request_id = "",
                     .lambda_request_id = "",
                     .method = method,
                     .path = target,
                     .status = a.status,
                     .latency_ms = (double)(ua_monotonic_us() - t0) / 1000.0,
                     .instance = -1,
                     .outcome = "docs",
                     .detail = detail};
    gw_log_access(&log);
    return ok == MHD_YES ? 1 : -1;
}
