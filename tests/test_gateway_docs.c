/* test_gateway_docs.c — the local gateway's own pages (src/gateway/gw_docs.c): which targets
 * are the docs' own, the names it refuses before any file system call, content types, ETags
 * and If-None-Match, and the answers against a real directory (a symbolic link, a directory
 * and a missing file are 404; a method other than GET and HEAD is 405). */
#include "gw_docs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static gw_docs_kind match(const char *target, char *name) {
    return gw_docs_match(target, strlen(target), name, GW_DOCS_MAX_NAME + 1);
}

static void test_match_own_paths(void **state) {
    (void)state;
    char name[GW_DOCS_MAX_NAME + 1];
    assert_int_equal(match("/openapi.json", name), GW_DOCS_SPEC_JSON);
    assert_int_equal(match("/openapi.json?v=2", name), GW_DOCS_SPEC_JSON);
    assert_int_equal(match("/openapi.yaml", name), GW_DOCS_SPEC_YAML);
    assert_int_equal(match("/docs", name), GW_DOCS_PAGE);
    assert_int_equal(match("/docs/", name), GW_DOCS_PAGE);
    assert_int_equal(match("/docs/index.html", name), GW_DOCS_PAGE);
    assert_int_equal(match("/docs?x", name), GW_DOCS_PAGE);
    assert_int_equal(match("/docs/swagger-ui-bundle.js", name), GW_DOCS_FILE);
    assert_string_equal(name, "swagger-ui-bundle.js");
    assert_int_equal(match("/docs/swagger-ui.css?v=5", name), GW_DOCS_FILE);
    assert_string_equal(name, "swagger-ui.css");
    /* The length given counts, not a NUL: a target cut short of "x" is still the document. */
    assert_int_equal(gw_docs_match("/openapi.jsonx", 13, name, sizeof name), GW_DOCS_SPEC_JSON);
}

static void test_match_leaves_the_rest_to_the_function(void **state) {
    (void)state;
    char name[GW_DOCS_MAX_NAME + 1];
    static const char *const theirs[] = {"/users",         "/users/docs",   "/",
                                         "/docsx",         "/doc",          "/openapi.json/",
                                         "/openapi.yml",   "/OPENAPI.JSON", "/Docs",
                                         "/openapi.jsonx", "/users?/docs",  ""};
    for (size_t i = 0; i < sizeof theirs / sizeof theirs[0]; i++)
        assert_int_equal(match(theirs[i], name), GW_DOCS_NONE);
}

static void test_match_refuses_unsafe_names(void **state) {
    (void)state;
    char name[GW_DOCS_MAX_NAME + 1];
    static const char *const bad[] = {"/docs/..",
                                      "/docs/../package.json",
                                      "/docs/%2e%2e/package.json",
                                      "/docs/..%2fpackage.json",
                                      "/docs/.env",
                                      "/docs/a/b.js",
                                      "/docs//etc/passwd",
                                      "/docs/a%00.js",
                                      "/docs/a b.js",
                                      "/docs/a\\b.js"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        name[0] = 'x';
        assert_int_equal(match(bad[i], name), GW_DOCS_NOT_FOUND);
        assert_string_equal(name, ""); /* nothing to open */
    }
    char longest[6 + GW_DOCS_MAX_NAME + 2];
    memcpy(longest, "/docs/", 6);
    memset(longest + 6, 'a', GW_DOCS_MAX_NAME);
    longest[6 + GW_DOCS_MAX_NAME] = '\0';
    assert_int_equal(match(longest, name), GW_DOCS_FILE);
    longest[6 + GW_DOCS_MAX_NAME] = 'a';
    longest[6 + GW_DOCS_MAX_NAME + 1] = '\0';
    assert_int_equal(match(longest, name), GW_DOCS_NOT_FOUND);
    /* A buffer too small for the name is never overrun. */
    char tiny[4] = "xyz";
    assert_int_equal(gw_docs_match("/docs/abcd.js", 13, tiny, sizeof tiny), GW_DOCS_NOT_FOUND);
    assert_string_equal(tiny, "");
}

static void test_content_types(void **state) {
    (void)state;
    assert_string_equal(gw_docs_content_type("swagger-ui-bundle.js"),
                        "text/javascript; charset=utf-8");
    assert_string_equal(gw_docs_content_type("swagger-ui.css"), "text/css; charset=utf-8");
    assert_string_equal(gw_docs_content_type("index.html"), "text/html; charset=utf-8");
    assert_string_equal(gw_docs_content_type("swagger-ui.js.map"), "application/json");
    assert_string_equal(gw_docs_content_type("openapi.json"), "application/json");
    assert_string_equal(gw_docs_content_type("openapi.yaml"), "application/yaml; charset=utf-8");
    assert_string_equal(gw_docs_content_type("favicon-32x32.png"), "image/png");
    assert_string_equal(gw_docs_content_type("LICENSE"), "application/octet-stream");
    assert_string_equal(gw_docs_content_type("x.JS"), "application/octet-stream");
}

static void test_etags(void **state) {
    (void)state;
    char a[GW_DOCS_ETAG_SIZE], b[GW_DOCS_ETAG_SIZE], c[GW_DOCS_ETAG_SIZE];
    gw_docs_etag(187956, 1700000000123456789, a);
    gw_docs_etag(187956, 1700000000123456790, b); /* touched: another tag */
    gw_docs_etag(187957, 1700000000123456789, c); /* same time, another size */
    assert_string_equal(a, "\"000000000002de34-17979cfe3d85cd15\"");
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
    assert_true(gw_docs_etag_matches(a, a));
    assert_true(gw_docs_etag_matches("*", a));
    char list[160];
    snprintf(list, sizeof list, "\"other\", W/%s", a); /* weak comparison */
    assert_true(gw_docs_etag_matches(list, a));
    snprintf(list, sizeof list, "%s,%s", b, c);
    assert_false(gw_docs_etag_matches(list, a));
    assert_false(gw_docs_etag_matches(NULL, a));
    assert_false(gw_docs_etag_matches("", a));
    assert_false(gw_docs_etag_matches("\"unterminated", a));
}

static void test_page_loads_the_ui_and_the_document(void **state) {
    (void)state;
    const char *page = gw_docs_page();
    assert_non_null(strstr(page, "src=\"/docs/swagger-ui-bundle.js\""));
    assert_non_null(strstr(page, "href=\"/docs/swagger-ui.css\""));
    assert_non_null(strstr(page, "url: \"/openapi.json\""));
    /* Nothing from another host: the page works with no network. */
    assert_null(strstr(page, "//cdn"));
    assert_null(strstr(page, "https:"));
}

/* A directory with the files gw_docs_open requires, plus a link and a sub-directory. */
typedef struct fixture {
    char root[64], spec[96], ui[96];
} fixture;

static void write_file(const char *dir, const char *name, const char *text) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf(fx->root, sizeof fx->root, "/tmp/test_gateway_docs.XXXXXX");
    if (!mkdtemp(fx->root))
        return -1;
    snprintf(fx->spec, sizeof fx->spec, "%s/spec", fx->root);
    snprintf(fx->ui, sizeof fx->ui, "%s/ui", fx->root);
    if (mkdir(fx->spec, 0700) != 0 || mkdir(fx->ui, 0700) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->root);
    int rc = system(cmd);
    free(fx);
    return rc == 0 ? 0 : -1;
}

static void test_open_needs_every_file(void **state) {
    fixture *fx = *state;
    char err[160];
    assert_null(gw_docs_open(fx->spec, fx->ui, err, sizeof err));
    assert_non_null(strstr(err, "openapi.json"));
    write_file(fx->spec, "openapi.json", "{\"openapi\":\"3.0.3\"}");
    write_file(fx->spec, "openapi.yaml", "openapi: 3.0.3\n");
    write_file(fx->ui, "swagger-ui-bundle.js", "var SwaggerUIBundle;\n");
    assert_null(gw_docs_open(fx->spec, fx->ui, err, sizeof err));
    assert_non_null(strstr(err, "swagger-ui.css"));
    assert_null(gw_docs_open("/nonexistent-dir", fx->ui, err, sizeof err));
    assert_non_null(strstr(err, "--openapi-dir /nonexistent-dir"));
    write_file(fx->ui, "swagger-ui.css", "body{}\n");
    gw_docs *d = gw_docs_open(fx->spec, fx->ui, err, sizeof err);
    assert_non_null(d);
    gw_docs_close(d);
}

static void answer(const gw_docs *d, const char *target, const char *method, const char *inm,
                   gw_docs_answer *a) {
    char name[GW_DOCS_MAX_NAME + 1];
    gw_docs_kind kind = gw_docs_match(target, strlen(target), name, sizeof name);
    assert_int_not_equal(kind, GW_DOCS_NONE);
    assert_int_equal(gw_docs_answer_for(d, kind, name, method, inm, a), UA_OK);
}

static void test_answers(void **state) {
    fixture *fx = *state;
    char err[160], link[160], sub[160];
    write_file(fx->spec, "openapi.json", "{\"openapi\":\"3.0.3\"}");
    write_file(fx->spec, "openapi.yaml", "openapi: 3.0.3\n");
    write_file(fx->ui, "swagger-ui-bundle.js", "var SwaggerUIBundle;\n");
    write_file(fx->ui, "swagger-ui.css", "body{}\n");
    write_file(fx->root, "secret.js", "secret\n");
    snprintf(link, sizeof link, "%s/link.js", fx->ui);
    assert_int_equal(symlink("../secret.js", link), 0);
    snprintf(sub, sizeof sub, "%s/sub.js", fx->ui);
    assert_int_equal(mkdir(sub, 0700), 0);
    gw_docs *d = gw_docs_open(fx->spec, fx->ui, err, sizeof err);
    assert_non_null(d);

    gw_docs_answer a;
    answer(d, "/openapi.json", "GET", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_true(a.fd >= 0);
    assert_int_equal(a.size, strlen("{\"openapi\":\"3.0.3\"}"));
    assert_string_equal(a.content_type, "application/json");
    assert_int_equal(a.etag[0], '"');
    char buf[64] = {0};
    assert_int_equal(read(a.fd, buf, sizeof buf - 1), (ssize_t)a.size);
    assert_string_equal(buf, "{\"openapi\":\"3.0.3\"}");
    close(a.fd);
    char etag[GW_DOCS_ETAG_SIZE];
    memcpy(etag, a.etag, sizeof etag);

    answer(d, "/openapi.json", "HEAD", etag, &a); /* revalidation */
    assert_int_equal(a.status, 304);
    assert_int_equal(a.fd, -1);
    assert_string_equal(a.etag, etag);

    answer(d, "/openapi.yaml", "HEAD", "\"stale\"", &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.content_type, "application/yaml; charset=utf-8");
    close(a.fd);

    answer(d, "/docs/", "GET", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_int_equal(a.fd, -1);
    assert_ptr_equal(a.body, gw_docs_page());
    assert_string_equal(a.content_type, "text/html; charset=utf-8");

    answer(d, "/docs/swagger-ui.css", "GET", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.content_type, "text/css; charset=utf-8");
    close(a.fd);

    static const char *const missing[] = {"/docs/link.js", "/docs/sub.js", "/docs/none.js",
                                          "/docs/../secret.js"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        answer(d, missing[i], "GET", NULL, &a);
        assert_int_equal(a.status, 404);
        assert_int_equal(a.fd, -1);
        assert_string_equal(a.body, "{\"message\":\"Not Found\"}");
    }

    static const char *const methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        answer(d, "/openapi.json", methods[i], NULL, &a);
        assert_int_equal(a.status, 405);
        assert_true(a.allow);
        assert_int_equal(a.fd, -1);
    }
    gw_docs_close(d);

    /* A gateway started without docs still keeps the paths from the function, and says why. */
    answer(NULL, "/docs", "GET", NULL, &a);
    assert_int_equal(a.status, 404);
    assert_non_null(strstr(a.body, "--openapi-dir"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_own_paths),
        cmocka_unit_test(test_match_leaves_the_rest_to_the_function),
        cmocka_unit_test(test_match_refuses_unsafe_names),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_etags),
        cmocka_unit_test(test_page_loads_the_ui_and_the_document),
        cmocka_unit_test_setup_teardown(test_open_needs_every_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
