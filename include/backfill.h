/* backfill.h — `bootstrap --backfill-emails`: claims the addresses of users stored before
 * phase 2 (decisions.md, "Back-fill").
 *
 * A table written by phase 1 holds users without email claims. The back-fill Scans the users
 * table (consistently, a page at a time) and claims each user's address in a transaction that
 * also checks the user still holds that address: a claim is only ever made for a user who
 * stands in the table with it, so running it again, or while the API serves (whose writes
 * claim and release in their own transactions), changes nothing that is right. Two users
 * already sharing an address are reported, one JSON line each, and left as they are: which of
 * them keeps it is a person's decision. Nothing is ever deleted. */
#ifndef USERS_BACKFILL_H
#define USERS_BACKFILL_H

#include "common.h"
#include "ddb.h"

#include <stdio.h>

/* What a run did. */
typedef struct backfill_counts {
    unsigned long scanned;   /* users read */
    unsigned long claimed;   /* claims put that did not exist */
    unsigned long already;   /* claims that already named the user */
    unsigned long changed;   /* users deleted or given another address since the Scan */
    unsigned long conflicts; /* addresses held by another user */
    unsigned long skipped;   /* items without a usable id or email */
} backfill_counts;

/* Exit statuses of the mode. */
#define BACKFILL_EXIT_OK        0
#define BACKFILL_EXIT_FAILED    1
#define BACKFILL_EXIT_CONFLICTS 3

/* Runs the back-fill of users table into claims_table through ddb, writing one JSON line per
 * conflict and a summary line to out; each DynamoDB call gets call_timeout_ms. *counts says
 * what was done, also on failure. UA_OK when every user was visited; UA_ERR_IO when DynamoDB
 * failed (the line says which call); UA_ERR_NOMEM when out of memory. */
UA_WARN_UNUSED ua_status backfill_emails(const ddb_port *ddb, const char *table,
                                         const char *claims_table, int64_t call_timeout_ms,
                                         FILE *out, backfill_counts *counts);

#endif
