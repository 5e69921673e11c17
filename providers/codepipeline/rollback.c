/* Stage rollback and a stage's onFailure result: RollbackStage, the rules the engine applies to a
 * failed stage (FAIL, RETRY, ROLLBACK), and what a rollback execution inherits from its target. */
#include "providers/codepipeline/rollback.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/cp_json.h"

static int streq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

int cp_auto_rollback_allowed(const char *exec_type, unsigned mode)
{
    /* "stage rollback and ROLLBACK failure conditions are not available" in PARALLEL mode, and a
     * rollback is never the target of another. */
    return !streq(exec_type, "ROLLBACK") && mode != CP_MODE_PARALLEL;
}

enum cp_on_failure cp_on_failure_result(struct json_object *sd, struct json_object *st,
                                        const char *cond_result, const char *exec_type,
                                        unsigned mode, const char **retry_mode)
{
    struct json_object *of = jget(sd, "onFailure");
    /* The model's Condition.result is "the action to be done when the condition is met" (AWS's
     * examples declare onFailure ROLLBACK there, with no onFailure.result): it comes first. */
    const char *result = cond_result ? cond_result : jgets(of, "result");
    if (streq(result, "RETRY")) {
        struct json_object *meta = jget(st, "retryStageMetadata");
        if (jgeti(meta, "autoStageRetryAttempt", 0) >= CP_AUTO_RETRY_MAX) return CP_ONFAIL_FAIL;
        const char *rm = jgets(jget(of, "retryConfiguration"), "retryMode");
        if (retry_mode) *retry_mode = streq(rm, "ALL_ACTIONS") ? "ALL_ACTIONS" : "FAILED_ACTIONS";
        return CP_ONFAIL_RETRY;
    }
    if (streq(result, "ROLLBACK") && cp_auto_rollback_allowed(exec_type, mode))
        return CP_ONFAIL_ROLLBACK;
    return CP_ONFAIL_FAIL;
}

void cp_retry_count(struct json_object *st, int automatic)
{
    struct json_object *meta = jget(st, "retryStageMetadata");
    if (!meta) {
        meta = json_object_new_object();
        json_object_object_add(st, "retryStageMetadata", meta);
    }
    const char *k = automatic ? "autoStageRetryAttempt" : "manualStageRetryAttempt";
    json_object_object_add(meta, k, json_object_new_int(jgeti(meta, k, 0) + 1));
    json_object_object_add(
        meta, "latestRetryTrigger",
        json_object_new_string(automatic ? "AutomatedStageRetry" : "ManualStageRetry"));
}

int cp_is_rollback(struct json_object *e)
{
    return streq(jgets(e, "executionType"), "ROLLBACK");
}

enum cp_rollback_why cp_rollback_target_check(struct json_object *target, int si, int version)
{
    if (cp_is_rollback(target)) return CP_RB_ROLLBACK_TYPE;
    struct json_object *stages = jget(target, "_stages");
    struct json_object *st = stages && si >= 0 && (size_t)si < json_object_array_length(stages)
                                 ? json_object_array_get_idx(stages, (size_t)si)
                                 : NULL;
    if (!streq(jgets(st, "status"), "Succeeded")) return CP_RB_NOT_SUCCEEDED;
    if (jgeti(target, "pipelineVersion", 1) != version) return CP_RB_OUTDATED;
    return CP_RB_OK;
}

/* Replaces member k of to with a copy of from's, when from has it. */
static void inherit(struct json_object *to, struct json_object *from, const char *k)
{
    struct json_object *v = jget(from, k), *copy = NULL;
    if (!v || json_object_deep_copy(v, &copy, NULL)) return;
    json_object_object_add(to, k, copy);
}

void cp_rollback_seed(struct json_object *e, struct json_object *target, int si)
{
    json_object_object_add(e, "executionType", json_object_new_string("ROLLBACK"));
    struct json_object *meta = json_object_new_object();
    json_object_object_add(meta, "rollbackTargetPipelineExecutionId",
                           json_object_new_string(jgets(target, "pipelineExecutionId") ?: ""));
    json_object_object_add(e, "rollbackMetadata", meta);
    /* "CodePipeline will use the variables and artifacts from the execution to which it is
     * rolling back" (user guide, stage rollback). */
    const char *keys[] = {"_art", "_vars", "variables", "artifactRevisions", "sourceRevisions",
                          NULL};
    for (int i = 0; keys[i]; i++)
        inherit(e, target, keys[i]);
    json_object_object_add(e, "_stage", json_object_new_int(si));
}

/* ---- RollbackStage -------------------------------------------------------------------------- */

static const char *in_str(struct proto_req *req, const char *k)
{
    const char *s = jgets(req->input, k);
    return s ? s : "";
}

int cp_op_rollback_stage(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "pipelineName"), *stage = in_str(req, "stageName");
    const char *target = in_str(req, "targetPipelineExecutionId");
    const char *by = proto_arena_printf(req->arena, "arn:aws:iam::%s:root", acct);
    if (!cp_engine_queue())
        return proto_error(req, ERR_SERVICE_UNAVAILABLE, "The execution engine is not running");
    struct cp_kicks kicks = {0};
    store_txn *t = NULL;
    char id[37];
    const char *why = "";
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    rc = cp_exec_rollback_in(t, acct, region, name, stage, target, by, cp_request_endpoint(req), id,
                             &why, &kicks);
    if (rc) {
        store_txn_abort(t);
        switch (rc) {
        case CP_ENOPIPELINE:
            return proto_error(req, ERR_PIPELINE_NOT_FOUND,
                               "Account '%s' does not have a pipeline with name '%s'", acct, name);
        case CP_ENOSTAGE:
            return proto_error(req, ERR_STAGE_NOT_FOUND, "Stage %s not found in the pipeline %s",
                               stage, name);
        case CP_ENOEXECUTION:
            return proto_error(req, ERR_PIPELINE_EXECUTION_NOT_FOUND,
                               "Pipeline Execution with id: '%s' does not exist for pipeline "
                               "with name: '%s'",
                               target, name);
        case CP_EOUTDATED:
            return proto_error(req, ERR_PIPELINE_EXECUTION_OUTDATED,
                               "Pipeline execution %s ran an earlier version of pipeline %s; only "
                               "executions started in the current pipeline structure version can "
                               "be rollback targets",
                               target, name);
        case CP_ENOROLLBACK:
            return proto_error(req, ERR_UNABLE_TO_ROLLBACK_STAGE,
                               "Unable to roll back stage %s of pipeline %s to execution %s: %s",
                               stage, name, target, why);
        default:
            return cp_store_error(req, rc);
        }
    }
    if ((rc = store_txn_commit(t))) return cp_store_error(req, rc);
    cp_kicks_run(&kicks);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "pipelineExecutionId", json_object_new_string(id));
    return 0;
}
