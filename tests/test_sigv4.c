/* test_sigv4.c — SigV4 signing against AWS's vectors, the key cache, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sigv4.h"

#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Case counts the testdata README promises; fewer means a folder went missing. */
#define MIN_AWS_C_AUTH_CASES 38
#define MIN_DYNAMODB_CASES   3
#define MIN_BOTOCORE_CASES   34

#define MAX_TEST_HEADERS 64
#define TEST_BUF_MAX     (1024u * 1024u)

/* botocore's folder has no context file: its test code fixes these (testdata README). */
#define BOTO_AKID    "AKIDEXAMPLE"
#define BOTO_SECRET  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define BOTO_TIME    "2015-08-30T12:36:00Z"
#define BOTO_REGION  "us-east-1"
#define BOTO_SERVICE "service"

/* ---- Files ---- */

/* The whole file, NUL-terminated (len excludes the NUL); NULL when it cannot be read. */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *data = malloc(cap);
    assert_non_null(data);
    while ((got = fread(data + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *bigger = realloc(data, cap * 2);
            assert_non_null(bigger);
            data = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

#define PATH_CAP 4096

/* dir/name + suffix into out (PATH_CAP bytes); a path that does not fit fails the test. */
static void make_path(char *out, const char *dir, const char *name, const char *suffix) {
    int n = snprintf(out, PATH_CAP, "%s/%s%s", dir, name, suffix);
    assert_true(n > 0 && n < PATH_CAP);
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The shared testdata folder; the build sets USERS_TESTDATA for every test. */
static const char *testdata(void) {
    const char *d = getenv("USERS_TESTDATA");
    if (!d || !*d)
        fail_msg("USERS_TESTDATA is not set");
    return d;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (timegm is not POSIX). */
static long days_from_civil(long y, long m, long d) {
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "2015-08-30T12:36:00Z" → time_t. */
static time_t parse_iso8601(const char *s) {
    int y, mo, d, h, mi, sec;
    char z;
    assert_int_equal(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z), 7);
    assert_int_equal(z, 'Z');
    return (time_t)(days_from_civil(y, mo, d) * 86400L + h * 3600L + mi * 60L + sec);
}

/* ---- request.txt / .req ---- */

/* A parsed request; every pointer points into text, which it owns. */
typedef struct test_request {
    char *text;
    char *method, *path, *query;
    sigv4_header headers[MAX_TEST_HEADERS];
    size_t n_headers;
    const char *body;
    size_t body_len;
} test_request;

/* Cuts the line starting at pos with a NUL where its '\n' was; returns where the next starts.
 * The files use bare '\n' (a '\r' would reach the signer, which refuses it). */
static size_t cut_line(char *t, size_t len, size_t pos) {
    char *nl = memchr(t + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - t) : len;
    t[end] = '\0';
    return nl ? end + 1 : len;
}

/* Request line (split on the LAST space: get-space has one in the path), "Name:value" lines
 * with folded continuations, a blank line, the body. false when it is not that shape. */
static bool parse_request(char *text, size_t len, test_request *r) {
    memset(r, 0, sizeof *r);
    r->text = text;
    size_t pos = cut_line(text, len, 0);
    char *sp = strchr(text, ' '), *last = strrchr(text, ' ');
    if (!sp || sp == last)
        return false;
    *sp = *last = '\0';
    r->method = text;
    r->path = sp + 1;
    char *q = strchr(r->path, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    r->body = text + len;
    while (pos < len) {
        size_t start = pos;
        pos = cut_line(text, len, pos);
        char *line = text + start;
        if (*line == '\0') { /* the blank line */
            r->body = text + pos;
            break;
        }
        if (*line == ' ' || *line == '\t') {
            /* obs-fold: undo the previous cut so the value runs on; the signer collapses the
             * whitespace, which is exactly what get-header-value-multiline checks. */
            if (r->n_headers == 0)
                return false;
            line[-1] = ' ';
            continue;
        }
        char *colon = strchr(line, ':');
        if (!colon || r->n_headers == MAX_TEST_HEADERS)
            return false;
        *colon = '\0';
        r->headers[r->n_headers++] = (sigv4_header){line, colon + 1};
    }
    r->body_len = (size_t)(text + len - r->body);
    return true;
}

/* Drops headers named name (any case). */
static void drop_header(test_request *r, const char *name) {
    size_t kept = 0;
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) != 0)
            r->headers[kept++] = r->headers[i];
    r->n_headers = kept;
}

/* ---- Running one case ---- */

typedef struct case_input {
    const char *name;
    sigv4_credentials creds;
    const char *region, *service;
    time_t now;
    bool normalize, sign_body, omit_token;
} case_input;

typedef struct case_expect {
    const char *creq, *sts, *signature;
    const char *authz; /* NULL: not checked */
} case_expect;

/* Signs one case and compares step by step; prints the first mismatch with the case name. */
static bool run_case(const case_input *in, test_request *req, const case_expect *want) {
    sigv4_signer signer;
    sigv4_signer_init(&signer);
    buf creq, sts;
    buf_init(&creq, TEST_BUF_MAX);
    buf_init(&sts, TEST_BUF_MAX);
    sigv4_output out = {.canonical_request = &creq, .string_to_sign = &sts};
    buf_init(&out.authorization, TEST_BUF_MAX);
    sigv4_request r = {.method = req->method,
                       .path = req->path,
                       .query = req->query,
                       .headers = req->headers,
                       .n_headers = req->n_headers,
                       .body = req->body,
                       .body_len = req->body_len,
                       .normalize_path = in->normalize,
                       .sign_body = in->sign_body,
                       .omit_session_token = in->omit_token};
    bool ok = false;
    ua_status st = sigv4_sign(&signer, &in->creds, in->region, in->service, in->now, &r, &out);
    if (st != UA_OK)
        print_error("%s: sigv4_sign failed with %d\n", in->name, (int)st);
    else if (strcmp(buf_str(&creq), want->creq) != 0)
        print_error("%s: canonical request differs\n--- got\n%s\n--- want\n%s\n", in->name,
                    buf_str(&creq), want->creq);
    else if (strcmp(buf_str(&sts), want->sts) != 0)
        print_error("%s: string to sign differs\n--- got\n%s\n--- want\n%s\n", in->name,
                    buf_str(&sts), want->sts);
    else if (strcmp(out.signature, want->signature) != 0)
        print_error("%s: signature %s, want %s\n", in->name, out.signature, want->signature);
    else if (want->authz && strcmp(buf_str(&out.authorization), want->authz) != 0)
        print_error("%s: Authorization\n  got  %s\n  want %s\n", in->name,
                    buf_str(&out.authorization), want->authz);
    else
        ok = true;
    buf_free(&creq);
    buf_free(&sts);
    buf_free(&out.authorization);
    return ok;
}

/* Trailing whitespace off (a signature file may end in a newline). */
static void rtrim(char *s) {
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
}

/* The value of the "Authorization:" line of a signed request, in place; NULL if none. */
static char *authorization_line(char *signed_request) {
    for (char *line = signed_request; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncasecmp(line, "Authorization:", 14) == 0) {
            char *v = line + 14;
            while (*v == ' ')
                v++;
            rtrim(v);
            return v;
        }
        if (!nl || nl[1] == '\n' || nl[1] == '\0')
            return NULL; /* end of headers */
        line = nl + 1;
    }
    return NULL;
}

/* ---- aws-c-auth/ and dynamodb/: one folder per case with context.json ---- */

typedef struct folder_stats {
    int cases, failures;
} folder_stats;

static char *read_case_file(const char *dir, const char *file) {
    char path[PATH_CAP];
    make_path(path, dir, file, "");
    char *data = read_file(path, NULL);
    if (!data)
        print_error("cannot read %s\n", path);
    return data;
}

/* payload_hash_only: the folder's "sign_body" means only that the body's hash is in the
 * canonical request (not UNSIGNED-PAYLOAD), never the x-amz-content-sha256 header. */
static void run_context_case(const char *dir, const char *name, bool payload_hash_only,
                             folder_stats *stats) {
    char path[PATH_CAP];
    make_path(path, dir, "context.json", "");
    json_error_t jerr;
    json_t *ctx = json_load_file(path, 0, &jerr);
    const char *akid = NULL, *secret = NULL, *token = NULL, *token2 = NULL;
    const char *region = NULL, *service = NULL, *ts = NULL;
    int normalize = 0, sign_body = 0, omit = 0;
    size_t len = 0;
    char *text = read_case_file(dir, "request.txt");
    if (text)
        len = strlen(text); /* request.txt holds no NULs; read_file NUL-terminates */
    char *creq = read_case_file(dir, "header-canonical-request.txt");
    char *sts = read_case_file(dir, "header-string-to-sign.txt");
    char *sig = read_case_file(dir, "header-signature.txt");
    char *signed_req = read_case_file(dir, "header-signed-request.txt");
    test_request req;
    stats->cases++;
    /* aws-c-auth names the token "token", dynamodb/ "session_token". */
    if (!ctx ||
        json_unpack_ex(ctx, &jerr, 0, "{s:{s:s, s:s, s?:s, s?:s}, s:s, s:s, s:s, s?:b, s?:b, s?:b}",
                       "credentials", "access_key_id", &akid, "secret_access_key", &secret, "token",
                       &token, "session_token", &token2, "region", &region, "service", &service,
                       "timestamp", &ts, "normalize", &normalize, "sign_body", &sign_body,
                       "omit_session_token", &omit) != 0) {
        print_error("%s: bad context.json: %s\n", name, jerr.text);
        stats->failures++;
    } else if (!text || !creq || !sts || !sig || !parse_request(text, len, &req)) {
        print_error("%s: missing or malformed case files\n", name);
        stats->failures++;
    } else {
        rtrim(sig);
        case_input in = {.name = name,
                         .creds = {akid, secret, token ? token : token2},
                         .region = region,
                         .service = service,
                         .now = parse_iso8601(ts),
                         .normalize = normalize,
                         .sign_body = sign_body && !payload_hash_only,
                         .omit_token = omit};
        case_expect want = {creq, sts, sig, signed_req ? authorization_line(signed_req) : NULL};
        if (!run_case(&in, &req, &want))
            stats->failures++;
    }
    json_decref(ctx);
    free(text);
    free(creq);
    free(sts);
    free(sig);
    free(signed_req);
}

static folder_stats walk_context_folder(const char *folder, bool payload_hash_only) {
    folder_stats stats = {0, 0};
    char root[PATH_CAP];
    make_path(root, testdata(), "sigv4/", folder);
    DIR *d = opendir(root);
    if (!d) {
        print_error("cannot open %s\n", root);
        return stats;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char dir[PATH_CAP], ctx[PATH_CAP];
        if (e->d_name[0] == '.')
            continue;
        make_path(dir, root, e->d_name, "");
        make_path(ctx, dir, "context.json", "");
        if (is_dir(dir) && is_file(ctx))
            run_context_case(dir, e->d_name, payload_hash_only, &stats);
    }
    closedir(d);
    return stats;
}

static void test_vectors_aws_c_auth(void **state) {
    (void)state;
    folder_stats s = walk_context_folder("aws-c-auth", false);
    print_message("aws-c-auth: %d cases, %d failed\n", s.cases, s.failures);
    assert_int_equal(s.failures, 0);
    assert_true(s.cases >= MIN_AWS_C_AUTH_CASES);
}

/* dynamodb/'s context.json says sign_body true, yet its SignedHeaders have no
 * x-amz-content-sha256. The README explains: the cases come from botocore's SigV4Auth, which
 * never adds that header (only the S3 signer does), and the canonical request still ends with
 * sha256(body). So there sign_body means "the payload is signed" (its hash, not
 * UNSIGNED-PAYLOAD), which header signing always does; our sign_body flag (add the header)
 * must be off for these cases, as it is for the real DynamoDB client. */
static void test_vectors_dynamodb(void **state) {
    (void)state;
    folder_stats s = walk_context_folder("dynamodb", true);
    print_message("dynamodb: %d cases, %d failed\n", s.cases, s.failures);
    assert_int_equal(s.failures, 0);
    assert_true(s.cases >= MIN_DYNAMODB_CASES);
}

/* ---- botocore/: <case>/<case>.{req,creq,sts,authz}, some one level deeper ---- */

/* The token botocore's test reads from the .creq's x-amz-security-token line, or NULL. */
static char *token_from_creq(const char *creq) {
    static const char key[] = "\nx-amz-security-token:";
    const char *p = strstr(creq, key);
    if (!p)
        return NULL;
    p += sizeof key - 1;
    size_t n = strcspn(p, "\n");
    char *t = malloc(n + 1);
    assert_non_null(t);
    memcpy(t, p, n);
    t[n] = '\0';
    return t;
}

static void run_botocore_case(const char *dir, const char *name, folder_stats *stats) {
    char file[PATH_CAP];
    size_t len = 0;
    make_path(file, dir, name, ".req");
    char *text = read_file(file, &len);
    make_path(file, dir, name, ".creq");
    char *creq = read_file(file, NULL);
    make_path(file, dir, name, ".sts");
    char *sts = read_file(file, NULL);
    make_path(file, dir, name, ".authz");
    char *authz = read_file(file, NULL);
    char *token = creq ? token_from_creq(creq) : NULL;
    const char *sig = authz ? strstr(authz, "Signature=") : NULL;
    test_request req;
    stats->cases++;
    if (!text || !creq || !sts || !sig || !parse_request(text, len, &req)) {
        print_error("%s: missing or malformed case files\n", name);
        stats->failures++;
    } else {
        /* The .req is already signed-shaped: the signer adds these two itself. */
        drop_header(&req, "X-Amz-Date");
        drop_header(&req, "X-Amz-Security-Token");
        case_input in = {.name = name,
                         .creds = {BOTO_AKID, BOTO_SECRET, token},
                         .region = BOTO_REGION,
                         .service = BOTO_SERVICE,
                         .now = parse_iso8601(BOTO_TIME),
                         .normalize = true,
                         .sign_body = false,
                         .omit_token = false};
        case_expect want = {creq, sts, sig + strlen("Signature="), authz};
        if (!run_case(&in, &req, &want))
            stats->failures++;
    }
    free(text);
    free(creq);
    free(sts);
    free(authz);
    free(token);
}

/* A folder D holding D.req is a case; any other folder is searched (normalize-path/ etc.). */
static void walk_botocore(const char *root, int depth, folder_stats *stats) {
    DIR *d = opendir(root);
    if (!d) {
        print_error("cannot open %s\n", root);
        return;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char dir[PATH_CAP], req[PATH_CAP];
        if (e->d_name[0] == '.')
            continue;
        make_path(dir, root, e->d_name, "");
        if (!is_dir(dir))
            continue;
        make_path(req, dir, e->d_name, ".req");
        if (is_file(req))
            run_botocore_case(dir, e->d_name, stats);
        else if (depth < 3)
            walk_botocore(dir, depth + 1, stats);
    }
    closedir(d);
}

static void test_vectors_botocore(void **state) {
    (void)state;
    folder_stats s = {0, 0};
    char root[PATH_CAP];
    make_path(root, testdata(), "sigv4/", "botocore");
    walk_botocore(root, 0, &s);
    print_message("botocore: %d cases, %d failed\n", s.cases, s.failures);
    assert_int_equal(s.failures, 0);
    assert_true(s.cases >= MIN_BOTOCORE_CASES);
}

/* ---- Direct tests ---- */

static const sigv4_credentials CREDS = {BOTO_AKID, BOTO_SECRET, NULL};
static const sigv4_header DDB_HEADERS[] = {
    {"Host", "dynamodb.us-east-1.amazonaws.com"},
    {"Content-Type", "application/x-amz-json-1.0"},
    {"X-Amz-Target", "DynamoDB_20120810.GetItem"},
};
#define DDB_BODY "{\"TableName\":\"Users\"}"

static const time_t T0 = 1440938160; /* 2015-08-30T12:36:00Z */

static sigv4_request ddb_request(void) {
    return (sigv4_request){.method = "POST",
                           .path = "/",
                           .headers = DDB_HEADERS,
                           .n_headers = 3,
                           .body = DDB_BODY,
                           .body_len = strlen(DDB_BODY),
                           .normalize_path = true};
}

/* Signs r with fresh output bufs kept in the fixture below. */
typedef struct signed_out {
    sigv4_output out;
    buf creq, sts;
} signed_out;

static void out_init(signed_out *o) {
    memset(o, 0, sizeof *o);
    buf_init(&o->creq, TEST_BUF_MAX);
    buf_init(&o->sts, TEST_BUF_MAX);
    buf_init(&o->out.authorization, TEST_BUF_MAX);
    o->out.canonical_request = &o->creq;
    o->out.string_to_sign = &o->sts;
}

static void out_free(signed_out *o) {
    buf_free(&o->creq);
    buf_free(&o->sts);
    buf_free(&o->out.authorization);
}

static ua_status sign(sigv4_signer *s, const sigv4_credentials *c, const char *region, time_t now,
                      const sigv4_request *r, signed_out *o) {
    return sigv4_sign(s, c, region, "dynamodb", now, r, &o->out);
}

/* The canonical request's line n (0-based) into out. */
static void creq_line(const signed_out *o, int line, char *out, size_t cap) {
    const char *p = buf_str(&o->creq);
    for (int n = line; n > 0 && p; n--) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p) {
        fail_msg("canonical request has no line %d", line);
        return;
    }
    size_t len = strcspn(p, "\n");
    assert_true(len < cap);
    memcpy(out, p, len);
    out[len] = '\0';
}

static void test_sha256_hex(void **state) {
    (void)state;
    char hex[65];
    /* FIPS 180-2 examples. */
    sigv4_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sigv4_sha256_hex(NULL, 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sigv4_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_key_cache(void **state) {
    (void)state;
    sigv4_signer s, fresh;
    sigv4_signer_init(&s);
    signed_out a, b;
    out_init(&a);
    out_init(&b);
    sigv4_request r = ddb_request();
    sigv4_credentials other_secret = {BOTO_AKID, "another-secret", NULL};

    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0, &r, &a), UA_OK);
    assert_int_equal(s.derivations, 1);
    /* Later the same UTC day: the cached key signs, and signs as a fresh one would. */
    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0 + 3600, &r, &a), UA_OK);
    assert_int_equal(s.derivations, 1);
    sigv4_signer_init(&fresh);
    assert_int_equal(sign(&fresh, &CREDS, "us-east-1", T0 + 3600, &r, &b), UA_OK);
    assert_string_equal(a.out.signature, b.out.signature);

    /* The next day, another region, another secret: each needs a new key. */
    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0 + 86400, &r, &a), UA_OK);
    assert_int_equal(s.derivations, 2);
    assert_int_equal(sign(&s, &CREDS, "eu-west-1", T0 + 86400, &r, &a), UA_OK);
    assert_int_equal(s.derivations, 3);
    assert_int_equal(sign(&s, &other_secret, "eu-west-1", T0 + 86400, &r, &a), UA_OK);
    assert_int_equal(s.derivations, 4);
    sigv4_signer_init(&fresh);
    assert_int_equal(sign(&fresh, &other_secret, "eu-west-1", T0 + 86400, &r, &b), UA_OK);
    assert_string_equal(a.out.signature, b.out.signature);
    assert_int_equal(sigv4_sign(&s, &other_secret, "eu-west-1", "sts", T0 + 86400, &r, &a.out),
                     UA_OK);
    assert_int_equal(s.derivations, 5);

    /* A refused request derives nothing. */
    sigv4_request bad = r;
    bad.n_headers = 0;
    assert_int_equal(sign(&s, &CREDS, "ap-south-1", T0, &bad, &a), UA_ERR_INVALID);
    assert_int_equal(s.derivations, 5);
    out_free(&a);
    out_free(&b);
}

static void test_session_token(void **state) {
    (void)state;
    sigv4_signer s;
    sigv4_signer_init(&s);
    signed_out o, plain;
    out_init(&o);
    out_init(&plain);
    sigv4_request r = ddb_request();
    sigv4_credentials tok = {BOTO_AKID, BOTO_SECRET, "TOKEN+/=="};
    char line[256];

    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0, &r, &plain), UA_OK);
    assert_null(strstr(buf_str(&plain.creq), "x-amz-security-token"));

    assert_int_equal(sign(&s, &tok, "us-east-1", T0, &r, &o), UA_OK);
    assert_non_null(strstr(buf_str(&o.creq), "\nx-amz-security-token:TOKEN+/==\n"));
    creq_line(&o, 9, line, sizeof line); /* 3 request lines + 6 headers, blank, signed */
    assert_string_equal(line, "content-type;host;x-amz-date;x-amz-security-token;x-amz-target");
    assert_non_null(strstr(buf_str(&o.out.authorization),
                           "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;"
                           "x-amz-target, Signature="));
    assert_string_not_equal(o.out.signature, plain.out.signature);

    /* omit_session_token: sent, not signed, so it signs as if there were none. */
    r.omit_session_token = true;
    assert_int_equal(sign(&s, &tok, "us-east-1", T0, &r, &o), UA_OK);
    assert_null(strstr(buf_str(&o.creq), "x-amz-security-token"));
    assert_string_equal(o.out.signature, plain.out.signature);

    /* An empty token is no token. */
    r.omit_session_token = false;
    sigv4_credentials empty = {BOTO_AKID, BOTO_SECRET, ""};
    assert_int_equal(sign(&s, &empty, "us-east-1", T0, &r, &o), UA_OK);
    assert_string_equal(o.out.signature, plain.out.signature);
    out_free(&o);
    out_free(&plain);
}

static void test_sign_body(void **state) {
    (void)state;
    sigv4_signer s;
    sigv4_signer_init(&s);
    signed_out o;
    out_init(&o);
    sigv4_request r = ddb_request();
    char hash[65], want[128], line[256];
    sigv4_sha256_hex(DDB_BODY, strlen(DDB_BODY), hash);

    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0, &r, &o), UA_OK);
    assert_string_equal(o.out.content_sha256, hash);
    assert_null(strstr(buf_str(&o.creq), "x-amz-content-sha256"));
    const char *last = strrchr(buf_str(&o.creq), '\n');
    assert_non_null(last);
    assert_string_equal(last + 1, hash); /* the payload hash ends the canonical request */

    r.sign_body = true;
    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0, &r, &o), UA_OK);
    snprintf(want, sizeof want, "\nx-amz-content-sha256:%s\n", hash);
    assert_non_null(strstr(buf_str(&o.creq), want));
    creq_line(&o, 9, line, sizeof line);
    assert_string_equal(line, "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target");

    /* The caller may not supply it as well: it would be signed twice. */
    sigv4_header dup[] = {{"Host", "h"}, {"X-Amz-Content-Sha256", hash}};
    r.headers = dup;
    r.n_headers = 2;
    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0, &r, &o), UA_ERR_INVALID);
    out_free(&o);
}

/* The canonical request's path line for path, normalised or not. */
static void check_path(const char *path, bool normalize, const char *want) {
    sigv4_signer s;
    sigv4_signer_init(&s);
    signed_out o;
    out_init(&o);
    sigv4_request r = ddb_request();
    r.path = path;
    r.normalize_path = normalize;
    char line[256];
    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0, &r, &o), UA_OK);
    creq_line(&o, 1, line, sizeof line);
    if (strcmp(line, want) != 0)
        fail_msg("path \"%s\" (normalize %d): got %s, want %s", path, normalize, line, want);
    out_free(&o);
}

static void test_path_canonical(void **state) {
    (void)state;
    check_path("/a/b/../c", true, "/a/c");
    check_path("/a/./b//c/", true, "/a/b/c/");
    check_path("/../../x", true, "/x");
    check_path("/a/b/..", true, "/a");
    check_path("/a/../../", true, "/");
    check_path("/...", true, "/...");
    check_path("/.x/..y", true, "/.x/..y");
    check_path("", true, "/");
    check_path("", false, "/");
    check_path("/a/../b", false, "/a/../b");
    check_path("/%/ a+b", false, "/%25/%20a%2Bb");
    check_path("/%41", true, "/%2541"); /* the path is raw: '%' is a character */
    check_path("/\xc3\xa9", true, "/%C3%A9");
}

static void check_query(const char *query, const char *want) {
    sigv4_signer s;
    sigv4_signer_init(&s);
    signed_out o;
    out_init(&o);
    sigv4_request r = ddb_request();
    r.query = query;
    char line[512];
    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0, &r, &o), UA_OK);
    creq_line(&o, 2, line, sizeof line);
    if (strcmp(line, want) != 0)
        fail_msg("query \"%s\": got %s, want %s", query, line, want);
    out_free(&o);
}

static void test_query_canonical(void **state) {
    (void)state;
    check_query("", "");
    check_query("b=2&a=1&&a=0&c", "a=0&a=1&b=2&c=");
    check_query("%41=%7e%7E", "A=~~");                 /* decoded first: no double encoding */
    check_query("%e1%88%b4=x", "%E1%88%B4=x");         /* escapes come out upper-case */
    check_query("a+b=c d", "a%2Bb=c%20d");             /* '+' is not a space in SigV4 */
    check_query("k=a=b&=v", "=v&k=a%3Db");             /* first '=' splits, empty key sorts */
    check_query("Z=1&a=1&_=1&~=1", "Z=1&_=1&a=1&~=1"); /* byte order of the encoding */
    check_query("%25=%2525", "%25=%2525");
}

static void test_header_canonical(void **state) {
    (void)state;
    sigv4_signer s;
    sigv4_signer_init(&s);
    signed_out o;
    out_init(&o);
    sigv4_request r = ddb_request();
    sigv4_header h[] = {
        {"X-B", "  two\t\t words  "}, {"host", "example.com"}, {"x-b", "again"}, {"X-Empty", ""},
        {"X-A", "Case Kept"},
    };
    r.headers = h;
    r.n_headers = 5;
    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0, &r, &o), UA_OK);
    char line[256];
    creq_line(&o, 3, line, sizeof line);
    assert_string_equal(line, "host:example.com");
    creq_line(&o, 4, line, sizeof line);
    assert_string_equal(line, "x-a:Case Kept");
    creq_line(&o, 6, line, sizeof line); /* "x-a" < "x-amz-date" < "x-b" bytewise */
    assert_string_equal(line, "x-b:two words,again");
    creq_line(&o, 7, line, sizeof line);
    assert_string_equal(line, "x-empty:");
    creq_line(&o, 9, line, sizeof line);
    assert_string_equal(line, "host;x-a;x-amz-date;x-b;x-empty");
    out_free(&o);
}

/* One malformed variant of the DynamoDB request; must be refused, not crash. */
typedef struct bad_case {
    const char *what;
    sigv4_request r;
    sigv4_credentials c;
    const char *region;
    time_t now;
} bad_case;

static void test_malformed(void **state) {
    (void)state;
    static sigv4_header no_host[] = {{"Content-Type", "x"}};
    static sigv4_header blank_host[] = {{"Host", " \t "}};
    static sigv4_header bad_name[] = {{"Host", "h"}, {"Bad Name", "v"}};
    static sigv4_header empty_name[] = {{"Host", "h"}, {"", "v"}};
    static sigv4_header colon_name[] = {{"Host", "h"}, {"a:b", "v"}};
    static sigv4_header crlf_value[] = {{"Host", "h"}, {"X-A", "a\r\nX-Evil: 1"}};
    static sigv4_header lf_value[] = {{"Host", "h"}, {"X-A", "a\nb"}};
    static sigv4_header null_value[] = {{"Host", "h"}, {"X-A", NULL}};
    static sigv4_header date_given[] = {{"Host", "h"}, {"x-amz-DATE", "20150830T123600Z"}};
    static sigv4_header token_given[] = {{"Host", "h"}, {"X-Amz-Security-Token", "t"}};
    static sigv4_header authz_given[] = {{"Host", "h"}, {"Authorization", "x"}};
    static sigv4_header many[SIGV4_MAX_HEADERS + 1];
    static char long_name[SIGV4_MAX_HEADER_NAME_LEN + 2];
    static sigv4_header long_name_h[] = {{"Host", "h"}, {long_name, "v"}};
    static char huge_path[SIGV4_MAX_PATH_LEN + 2], huge_query[SIGV4_MAX_QUERY_LEN + 2];
    static char many_params[4 * (SIGV4_MAX_QUERY_PARAMS + 1) + 1];
    static char long_region[SIGV4_MAX_SCOPE_PART_LEN + 2], long_secret[SIGV4_MAX_KEY_LEN + 2];
    for (size_t i = 0; i < SIGV4_MAX_HEADERS + 1; i++)
        many[i] = (sigv4_header){"Host", "h"};
    memset(long_name, 'n', sizeof long_name - 1);
    huge_path[0] = '/';
    memset(huge_path + 1, 'a', sizeof huge_path - 2);
    memset(huge_query, 'q', sizeof huge_query - 1);
    for (size_t i = 0; i <= SIGV4_MAX_QUERY_PARAMS; i++)
        memcpy(many_params + 4 * i, "a=1&", 4);
    memset(long_region, 'r', sizeof long_region - 1);
    memset(long_secret, 's', sizeof long_secret - 1);
    const sigv4_request ok = ddb_request();
    const sigv4_credentials c = CREDS;
#define BAD(what_, field, value)                                                                   \
    do {                                                                                           \
        bad_case b_ = {what_, ok, c, "us-east-1", T0};                                             \
        b_.field = value;                                                                          \
        cases[n++] = b_;                                                                           \
    } while (0)
#define BAD_HEADERS(what_, arr)                                                                    \
    do {                                                                                           \
        bad_case b_ = {what_, ok, c, "us-east-1", T0};                                             \
        b_.r.headers = arr;                                                                        \
        b_.r.n_headers = sizeof arr / sizeof arr[0];                                               \
        cases[n++] = b_;                                                                           \
    } while (0)
    bad_case cases[64];
    size_t n = 0;
    BAD("query lone %", r.query, "a=%");
    BAD("query short escape", r.query, "a=%4");
    BAD("query non-hex escape", r.query, "a=%zz");
    BAD("query escape in key", r.query, "%G0=1");
    BAD("query escape at end", r.query, "a=1&b%");
    BAD("query too long", r.query, huge_query);
    BAD("too many query params", r.query, many_params);
    BAD("path too long", r.path, huge_path);
    BAD("relative path", r.path, "a/b");
    BAD("absolute URL", r.path, "https://x/");
    BAD("NULL path", r.path, NULL);
    BAD("NULL method", r.method, NULL);
    BAD("method with space", r.method, "GE T");
    BAD("empty method", r.method, "");
    BAD("body NULL with a length", r.body, NULL);
    BAD("headers NULL with a count", r.headers, NULL);
    BAD("region with /", region, "us/east");
    BAD("empty region", region, "");
    BAD("region too long", region, long_region);
    BAD("NULL region", region, NULL);
    BAD("empty key id", c.access_key_id, "");
    BAD("key id with /", c.access_key_id, "AK/ID");
    BAD("NULL secret", c.secret_access_key, NULL);
    BAD("empty secret", c.secret_access_key, "");
    BAD("secret too long", c.secret_access_key, long_secret);
    BAD("token with newline", c.session_token, "tok\nX-Evil: 1");
    BAD("year past 9999", now, (time_t)400000000000LL);
    BAD_HEADERS("no host", no_host);
    BAD_HEADERS("blank host", blank_host);
    BAD_HEADERS("name with space", bad_name);
    BAD_HEADERS("empty name", empty_name);
    BAD_HEADERS("name with colon", colon_name);
    BAD_HEADERS("CRLF in value", crlf_value);
    BAD_HEADERS("LF in value", lf_value);
    BAD_HEADERS("NULL value", null_value);
    BAD_HEADERS("caller X-Amz-Date", date_given);
    BAD_HEADERS("caller token", token_given);
    BAD_HEADERS("caller Authorization", authz_given);
    BAD_HEADERS("name too long", long_name_h);
    cases[n] = (bad_case){"too many headers", ok, c, "us-east-1", T0};
    cases[n].r.headers = many;
    cases[n++].r.n_headers = SIGV4_MAX_HEADERS + 1;
#undef BAD
#undef BAD_HEADERS
    sigv4_signer s;
    sigv4_signer_init(&s);
    signed_out o;
    out_init(&o);
    for (size_t i = 0; i < n; i++) {
        ua_status st = sigv4_sign(&s, &cases[i].c, cases[i].region, "dynamodb", cases[i].now,
                                  &cases[i].r, &o.out);
        if (st != UA_ERR_INVALID)
            fail_msg("%s: got status %d, want UA_ERR_INVALID", cases[i].what, (int)st);
    }
    assert_int_equal(s.derivations, 0);
    assert_int_equal(sign(&s, &c, "us-east-1", T0, NULL, &o), UA_ERR_INVALID);
    assert_int_equal(sigv4_sign(NULL, &c, "us-east-1", "dynamodb", T0, &ok, &o.out),
                     UA_ERR_INVALID);
    assert_int_equal(sigv4_sign(&s, NULL, "us-east-1", "dynamodb", T0, &ok, &o.out),
                     UA_ERR_INVALID);
    assert_int_equal(sigv4_sign(&s, &c, "us-east-1", "dynamodb", T0, &ok, NULL), UA_ERR_INVALID);

    /* Just inside the limits still signs, and the refusals left the signer usable. */
    sigv4_request edge = ok;
    huge_path[SIGV4_MAX_PATH_LEN] = '\0';
    edge.path = huge_path;
    huge_query[SIGV4_MAX_QUERY_LEN] = '\0';
    edge.query = huge_query;
    edge.headers = many;
    edge.n_headers = SIGV4_MAX_HEADERS;
    assert_int_equal(sign(&s, &c, "us-east-1", T0, &edge, &o), UA_OK);
    assert_int_equal(s.derivations, 1);
    out_free(&o);
}

static void test_output_too_small(void **state) {
    (void)state;
    sigv4_signer s;
    sigv4_signer_init(&s);
    signed_out o;
    out_init(&o);
    buf_free(&o.out.authorization);
    buf_init(&o.out.authorization, 40);
    sigv4_request r = ddb_request();
    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0, &r, &o), UA_ERR_TOO_BIG);
    buf_free(&o.creq);
    buf_init(&o.creq, 16);
    buf_free(&o.out.authorization);
    buf_init(&o.out.authorization, 4096);
    assert_int_equal(sign(&s, &CREDS, "us-east-1", T0, &r, &o), UA_ERR_TOO_BIG);
    out_free(&o);
}

/* xorshift32: reproducible noise. */
static uint32_t next_rand(uint32_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void random_text(uint32_t *seed, char *out, size_t max, bool allow_ctl) {
    static const char alphabet[] = "/%.&=?+ ~-_aZ09\t\xe1\x88\xb4";
    size_t n = next_rand(seed) % max;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = next_rand(seed);
        char ch = (v & 3) ? alphabet[(v >> 2) % (sizeof alphabet - 1)] : (char)(v >> 8);
        if (ch == '\0' || (!allow_ctl && ch == '\n'))
            ch = '.';
        out[i] = ch;
    }
    out[n] = '\0';
}

/* Noise through every input: refused or signed, never a crash. Whatever signs must hold the
 * invariants: the string to sign ends with sha256(canonical request), and Authorization ends
 * with the signature. */
static void test_noise(void **state) {
    (void)state;
    sigv4_signer s;
    sigv4_signer_init(&s);
    signed_out o;
    out_init(&o);
    uint32_t seed = 0x5eed1234u;
    char path[81], query[80], name[16], value[80];
    int signed_ok = 0, refused = 0;
    for (int i = 0; i < 20000; i++) {
        random_text(&seed, path + 1, sizeof path - 1, true);
        path[0] = '/';
        random_text(&seed, query, sizeof query, true);
        random_text(&seed, name, sizeof name, false);
        random_text(&seed, value, sizeof value, (i & 7) == 0);
        sigv4_header h[] = {{"Host", "h"}, {name, value}};
        sigv4_request r = ddb_request();
        r.path = (i & 1) ? path : path + 1; /* half the time not starting with '/' */
        r.query = query;
        r.headers = h;
        r.n_headers = (i & 2) ? 2 : 1;
        r.normalize_path = (i & 4) != 0;
        ua_status st = sign(&s, &CREDS, "us-east-1", T0, &r, &o);
        if (st == UA_ERR_INVALID) {
            refused++;
            continue;
        }
        assert_int_equal(st, UA_OK);
        signed_ok++;
        char hash[65];
        sigv4_sha256_hex(o.creq.data, o.creq.len, hash);
        const char *last = strrchr(buf_str(&o.sts), '\n');
        assert_non_null(last);
        assert_string_equal(last + 1, hash);
        const char *auth = buf_str(&o.out.authorization);
        assert_true(o.out.authorization.len > 64);
        assert_string_equal(auth + o.out.authorization.len - 64, o.out.signature);
    }
    /* Both outcomes must have happened, or the noise tested nothing. */
    assert_true(signed_ok > 1000);
    assert_true(refused > 1000);
    assert_int_equal(s.derivations, 1);
    out_free(&o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_aws_c_auth),
        cmocka_unit_test(test_vectors_dynamodb),
        cmocka_unit_test(test_vectors_botocore),
        cmocka_unit_test(test_sha256_hex),
        cmocka_unit_test(test_key_cache),
        cmocka_unit_test(test_session_token),
        cmocka_unit_test(test_sign_body),
        cmocka_unit_test(test_path_canonical),
        cmocka_unit_test(test_query_canonical),
        cmocka_unit_test(test_header_canonical),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_output_too_small),
        cmocka_unit_test(test_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
