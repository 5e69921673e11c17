/* Control operations on running pipelines: StopPipelineExecution, Disable/EnableStageTransition,
 * RetryStageExecution. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/engine.h"

static const char *in_str(struct proto_req *req, const char *k)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(req->input, k, &v) || !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

static int in_bool(struct proto_req *req, const char *k)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(req->input, k, &v) && json_object_get_boolean(v);
}

/* Renders the engine's control codes as AWS's errors. */
static int control_error(struct proto_req *req, int rc, const char *pipeline, const char *stage,
                         const char *id)
{
    switch (rc) {
    case CP_ENOPIPELINE:
        return proto_error(req, ERR_PIPELINE_NOT_FOUND,
                           "Account '%s' does not have a pipeline with name '%s'",
                           req->caller.account_id, pipeline);
    case CP_ENOSTAGE:
        return proto_error(req, ERR_STAGE_NOT_FOUND, "Stage %s not found in the pipeline %s", stage,
                           pipeline);
    case CP_ENOTSTOPPABLE:
        return proto_error(req, ERR_PIPELINE_EXECUTION_NOT_STOPPABLE,
                           "Unable to stop pipeline execution %s of pipeline %s: it is not in "
                           "progress",
                           id, pipeline);
    case CP_EDUPSTOP:
        return proto_error(req, ERR_DUPLICATED_STOP_REQUEST,
                           "Pipeline execution %s is already being stopped. Stop and abandon it "
                           "instead, if it has not been abandoned already",
                           id);
    case CP_ENOTRETRYABLE:
        return proto_error(req, ERR_STAGE_NOT_RETRYABLE,
                           "Stage %s of pipeline execution %s cannot be retried: it has no failed "
                           "or stopped actions, or the pipeline structure changed since",
                           stage, id);
    case CP_ENOTLATEST:
        return proto_error(req, ERR_NOT_LATEST_PIPELINE_EXECUTION,
                           "Pipeline execution %s is not the latest execution in stage %s", id,
                           stage);
    case CP_ECONFLICT:
        return proto_error(req, ERR_CP_CONFLICT,
                           "Pipeline execution %s is still in progress; it cannot be retried", id);
    default:
        return cp_store_error(req, rc);
    }
}

int cp_op_stop_pipeline_execution(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "pipelineName"), *id = in_str(req, "pipelineExecutionId");
    int abandon = in_bool(req, "abandon");
    struct cp_kicks kicks = {0};
    static __thread struct cp_abandoned ab;
    ab.n = 0;
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    rc = cp_exec_stop_in(t, acct, region, name, id, abandon, in_str(req, "reason"), &ab, &kicks);
    if (rc) {
        store_txn_abort(t);
        return control_error(req, rc, name, "", id);
    }
    if ((rc = store_txn_commit(t))) return cp_store_error(req, rc);
    cp_kicks_run(&kicks);
    cp_abandoned_kill(acct, region, &ab);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "pipelineExecutionId", json_object_new_string(id));
    return 0;
}

static int set_transition(struct proto_req *req, int enabled)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "pipelineName"), *stage = in_str(req, "stageName");
    const char *by = proto_arena_printf(req->arena, "arn:aws:iam::%s:root", acct);
    struct cp_kicks kicks = {0};
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    rc = cp_transition_set_in(t, acct, region, name, stage, in_str(req, "transitionType"), enabled,
                              in_str(req, "reason"), by, &kicks);
    if (rc) {
        store_txn_abort(t);
        return control_error(req, rc, name, stage, "");
    }
    if ((rc = store_txn_commit(t))) return cp_store_error(req, rc);
    cp_kicks_run(&kicks);
    req->output = json_object_new_object();
    return 0;
}

int cp_op_disable_stage_transition(struct proto_req *req)
{
    return set_transition(req, 0);
}

int cp_op_enable_stage_transition(struct proto_req *req)
{
    return set_transition(req, 1);
}

int cp_op_retry_stage_execution(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "pipelineName"), *stage = in_str(req, "stageName");
    const char *id = in_str(req, "pipelineExecutionId");
    struct cp_kicks kicks = {0};
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    rc = cp_exec_retry_in(t, acct, region, name, stage, id, in_str(req, "retryMode"), &kicks);
    if (rc) {
        store_txn_abort(t);
        return control_error(req, rc, name, stage, id);
    }
    if ((rc = store_txn_commit(t))) return cp_store_error(req, rc);
    cp_kicks_run(&kicks);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "pipelineExecutionId", json_object_new_string(id));
    return 0;
}
