/* Stage rollback and a stage's onFailure result: the rules (which result applies to a failed
 * stage, which execution a stage can roll back to, what a rollback run inherits) and the engine
 * calls behind RollbackStage. */
#ifndef CP_ROLLBACK_H
#define CP_ROLLBACK_H

#include "persistence/store.h"
#include "providers/codepipeline/engine.h"

struct json_object;

/* RollbackStage's return codes (their own part of the CP_E_BASE range). */
#define CP_ENOEXECUTION (CP_E_BASE - 40) /* no such target execution */
#define CP_EOUTDATED    (CP_E_BASE - 41) /* the target ran an older pipeline version */
#define CP_ENOROLLBACK  (CP_E_BASE - 42) /* the stage cannot be rolled back (reason given) */

/* Automatic retries of one stage run: "One attempt is allowed for automatic stage retry on
 * failure" (the model's RetryStageMetadata.autoStageRetryAttempt). */
#define CP_AUTO_RETRY_MAX 1

enum cp_on_failure { CP_ONFAIL_FAIL = 0, CP_ONFAIL_RETRY, CP_ONFAIL_ROLLBACK };

/* Returns 1 when a failed stage of an execution of exec_type ("STANDARD" or "ROLLBACK") under
 * mode (enum cp_exec_mode) may be rolled back automatically: a STANDARD execution outside
 * PARALLEL mode (rollbacks do not roll back). */
int cp_auto_rollback_allowed(const char *exec_type, unsigned mode);

/* The onFailure result that applies to the failed stage record st (of the execution's
 * "_stages") declared by sd, in an execution of exec_type under mode: cond_result (the result
 * of the stage's met onFailure condition, or NULL when it declares none) or else the declared
 * onFailure.result. RETRY while automatic attempts remain, with *retry_mode set to the
 * onFailure retryMode (FAILED_ACTIONS when none is given); ROLLBACK when
 * cp_auto_rollback_allowed(); FAIL otherwise. */
enum cp_on_failure cp_on_failure_result(struct json_object *sd, struct json_object *st,
                                        const char *cond_result, const char *exec_type,
                                        unsigned mode, const char **retry_mode);

/* Counts one retry of stage record st in its retryStageMetadata (automatic or manual) and
 * records it as the latest trigger. */
void cp_retry_count(struct json_object *st, int automatic);

/* Why an execution cannot be the target of a rollback of stage index si. */
enum cp_rollback_why {
    CP_RB_OK = 0,
    CP_RB_ROLLBACK_TYPE, /* the target is itself a rollback */
    CP_RB_NOT_SUCCEEDED, /* the target did not succeed in the stage */
    CP_RB_OUTDATED,      /* the target ran another version of the pipeline */
};
/* Checks target (a stored execution) as the rollback target of stage index si when the
 * pipeline is at version. */
enum cp_rollback_why cp_rollback_target_check(struct json_object *target, int si, int version);

/* Makes the new execution e a rollback of stage index si to target: executionType ROLLBACK, its
 * rollbackMetadata, and the target's artifacts, variables and revisions. */
void cp_rollback_seed(struct json_object *e, struct json_object *target, int si);

/* Returns 1 when execution e is a rollback run (it runs one stage and ends). */
int cp_is_rollback(struct json_object *e);

/* RollbackStage in t: a new ROLLBACK execution runs stage with the artifacts and variables of
 * execution target_id (trigger ManualRollback by caller). Writes its id. Returns 0,
 * CP_ENOPIPELINE, CP_ENOSTAGE, CP_ENOEXECUTION, CP_EOUTDATED, CP_ENOROLLBACK (with a static
 * reason in *why) or a store error code. */
int cp_exec_rollback_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                        const char *stage, const char *target_id, const char *caller,
                        const char *endpoint, char id[37], const char **why,
                        struct cp_kicks *kicks);

#endif
