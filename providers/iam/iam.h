/* The IAM provider: roles, inline and managed policies, instance profiles (stored, not enforced),
 * and the in-process interface other providers use to check a role's trust policy. */
#ifndef IAM_IAM_H
#define IAM_IAM_H

#include "persistence/store.h"
#include "protocol/service.h"
#include "providers/runtime/errors.h"

/* The iam service: its awsQuery operation table and model. IAM is global: its records are keyed
 * by account only, whatever region signed the request. */
extern const struct proto_service iam_service;

/* Return codes (the IAM_E_BASE range of errors.h); 0 is success. */
#define IAM_ENOROLE (IAM_E_BASE - 1) /* no role with that ARN in this account */
#define IAM_EIO     (IAM_E_BASE - 2) /* store failure */

/* Whether the role role_arn (in account) trusts service (a principal such as
 * "codepipeline.amazonaws.com") to call sts:AssumeRole. Returns 1 (trusted), 0 (the role exists
 * and its trust policy does not allow it), IAM_ENOROLE (IAM here has never seen the role, or the
 * ARN is not a role ARN of account) or IAM_EIO. Opens its own read transaction: must not be called
 * inside one. Any thread. */
int iam_role_trusts(store *st, const char *account, const char *role_arn, const char *service);

#endif
