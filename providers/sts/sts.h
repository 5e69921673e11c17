/* The STS provider: caller identity and temporary credentials, which sigv4/ accepts through the
 * resolver this provider sets on the credentials store. */
#ifndef STS_STS_H
#define STS_STS_H

#include <time.h>

#include "persistence/store.h"
#include "protocol/service.h"

/* The sts service: its awsQuery operation table and model. */
extern const struct proto_service sts_service;

/* Issues temporary credentials for account, as AssumeRole does, for in-process callers (a job
 * worker's artifact credentials, a build's environment). arn is the identity GetCallerIdentity
 * reports for them. Writes the key id (21 bytes), secret (41) and token (STS_TOKEN_MAX) and the
 * expiry. Returns 0, or a STORE_* code. Opens its own write transaction. */
#define STS_TOKEN_MAX 400
int sts_issue(store *st, const char *account, const char *arn, const char *user_id, long duration,
              char akid[21], char secret[41], char token[STS_TOKEN_MAX], time_t *expiration);
/* As sts_issue, written in t (a write transaction the caller commits): for callers that already
 * hold the store's one write transaction. Returns 0 or a STORE_* code. */
int sts_issue_in(store_txn *t, const char *account, const char *arn, const char *user_id,
                 long duration, char akid[21], char secret[41], char token[STS_TOKEN_MAX],
                 time_t *expiration);

/* What a service hands to work it runs for a role (a build's environment, a job worker's
 * artifactCredentials). */
struct sts_temp_creds {
    char access_key[21], secret[41], token[STS_TOKEN_MAX];
    time_t expiration;
};
/* Issues temporary credentials of account for role_arn, as the service assuming it would get them
 * from AssumeRole with RoleSessionName session: GetCallerIdentity then says
 * "arn:aws:sts::<account>:assumed-role/<role name>/<session>". The credentials are bound to
 * account (the account of the resource that runs the work) whatever account the role ARN names,
 * so that the work reaches its own resources here. A role_arn that is NULL or not a role ARN gives
 * the account's root identity. In t when t is not NULL (a write transaction the caller commits),
 * else in a transaction of its own on st. Returns 0 or a STORE_* code. */
int sts_issue_for_role(store *st, store_txn *t, const char *account, const char *role_arn,
                       const char *session, long duration, struct sts_temp_creds *out);

#endif
