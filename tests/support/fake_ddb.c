/* fake_ddb.c — a scripted, recording DynamoDB port, a fixed clock and ids (see fake_ddb.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_ddb.h"

#include <stdio.h>
#include <string.h>

void fake_ddb_init(fake_ddb *f) {
    memset(f, 0, sizeof *f);
}

void fake_ddb_free(fake_ddb *f) {
    for (size_t i = 0; i < f->n_calls; i++)
        json_decref(f->calls[i].request);
    for (size_t i = f->next_reply; i < f->n_replies; i++)
        json_decref(f->replies[i].body);
    fake_ddb_init(f);
}

static ddb_status fake_call(void *ctx, ddb_op op, const json_t *request, int64_t deadline_ms,
                            ddb_reply *reply) {
    fake_ddb *f = ctx;

    ddb_reply_init(reply);
    if (f->n_calls == FAKE_DDB_MAX_CALLS)
        fail_msg("more than %d DynamoDB calls", FAKE_DDB_MAX_CALLS);
    fake_ddb_call *c = &f->calls[f->n_calls++];
    c->op = op;
    c->request = json_deep_copy(request);
    c->deadline_ms = deadline_ms;

    if (f->next_reply == f->n_replies) {
        snprintf(reply->error_type, sizeof reply->error_type, "%s", FAKE_DDB_UNSCRIPTED);
        reply->attempts = 1;
        return DDB_FAILED;
    }
    fake_ddb_reply *r = &f->replies[f->next_reply++];
    reply->body = r->body; /* the caller now owns it */
    r->body = NULL;
    memcpy(reply->error_type, r->error_type, sizeof reply->error_type);
    reply->attempts = r->attempts;
    reply->maybe_applied = r->maybe_applied;
    reply->http_status = r->status == DDB_OK ? 200 : 400;
    return r->status;
}

ddb_port fake_ddb_port(fake_ddb *f) {
    return (ddb_port){.call = fake_call, .ctx = f};
}

void fake_ddb_push(fake_ddb *f, ddb_status status, json_t *body, const char *error_type,
                   unsigned attempts) {
    if (f->n_replies == FAKE_DDB_MAX_REPLIES)
        fail_msg("more than %d scripted replies", FAKE_DDB_MAX_REPLIES);
    fake_ddb_reply *r = &f->replies[f->n_replies++];
    r->status = status;
    r->body = body;
    snprintf(r->error_type, sizeof r->error_type, "%s", error_type ? error_type : "");
    r->attempts = attempts;
    r->maybe_applied = false;
}

void fake_ddb_push_json(fake_ddb *f, ddb_status status, const char *body_json,
                        const char *error_type) {
    json_t *body = NULL;
    if (body_json) {
        json_error_t err;
        body = json_loads(body_json, 0, &err);
        if (!body)
            fail_msg("scripted reply does not parse: %s (%s)", err.text, body_json);
    }
    fake_ddb_push(f, status, body, error_type, 1);
}

const fake_ddb_call *fake_ddb_call_at(const fake_ddb *f, size_t i) {
    if (i >= f->n_calls)
        fail_msg("no DynamoDB call #%zu (%zu made)", i, f->n_calls);
    return &f->calls[i];
}

int64_t fake_clock_now_ms(void *ctx) {
    return *(const int64_t *)ctx;
}

void fake_ids_next(char out[UA_UUID_LEN + 1], void *ctx) {
    fake_ids *ids = ctx;
    if (ids->ids && ids->counter < ids->n_ids) {
        snprintf(out, UA_UUID_LEN + 1, "%s", ids->ids[ids->counter++]);
        return;
    }
    ids->counter++;
    snprintf(out, UA_UUID_LEN + 1, "00000000-0000-4000-8000-%012llx",
             ids->counter & 0xffffffffffffULL);
}
