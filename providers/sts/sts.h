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

#endif
