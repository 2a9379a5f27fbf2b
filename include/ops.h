/* ops.h — the contract's operations, one source each, run by users.c once the route, the method
 * and the path id have passed (op.h has the steps they share):
 *   op_read.c    preflight, get, list and the lookup by email
 *   op_create.c  create: one transaction with the email claim and the idempotency record
 *   op_update.c  PUT and PATCH: one UpdateItem, or a transaction when the address changes
 *   op_delete.c  delete: a read, then one transaction that also releases the address
 * Each answers into h->resp and returns UA_OK, or the failure that left no answer. */
#ifndef USERS_OPS_H
#define USERS_OPS_H

#include "common.h"
#include "op.h"

UA_WARN_UNUSED ua_status op_preflight(op_ctx *h);
UA_WARN_UNUSED ua_status op_get(op_ctx *h);
UA_WARN_UNUSED ua_status op_list(op_ctx *h);
UA_WARN_UNUSED ua_status op_create(op_ctx *h);
UA_WARN_UNUSED ua_status op_update(op_ctx *h);
UA_WARN_UNUSED ua_status op_delete(op_ctx *h);

#endif
