/* The codepipeline operation table. */
#include "providers/codepipeline/codepipeline.h"

#include "protocol/model.h"
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/engine.h"

static const struct proto_operation cp_ops[] = {
    {"AcknowledgeJob", cp_op_acknowledge_job},
    {"AcknowledgeThirdPartyJob", cp_op_acknowledge_third_party_job},
    {"CreateCustomActionType", cp_op_create_custom_action_type},
    {"CreatePipeline", cp_op_create_pipeline},
    {"DeleteCustomActionType", cp_op_delete_custom_action_type},
    {"DeletePipeline", cp_op_delete_pipeline},
    {"DeleteWebhook", cp_op_delete_webhook},
    {"DeregisterWebhookWithThirdParty", cp_op_deregister_webhook},
    {"DisableStageTransition", cp_op_disable_stage_transition},
    {"EnableStageTransition", cp_op_enable_stage_transition},
    {"GetActionType", cp_op_get_action_type},
    {"GetJobDetails", cp_op_get_job_details},
    {"GetPipeline", cp_op_get_pipeline},
    {"GetPipelineExecution", cp_op_get_pipeline_execution},
    {"GetPipelineState", cp_op_get_pipeline_state},
    {"GetThirdPartyJobDetails", cp_op_get_third_party_job_details},
    {"ListActionExecutions", cp_op_list_action_executions},
    {"ListActionTypes", cp_op_list_action_types},
    {"ListDeployActionExecutionTargets", cp_op_list_deploy_action_execution_targets},
    {"ListPipelineExecutions", cp_op_list_pipeline_executions},
    {"ListPipelines", cp_op_list_pipelines},
    {"ListTagsForResource", cp_op_list_tags_for_resource},
    {"ListWebhooks", cp_op_list_webhooks},
    {"PollForJobs", cp_op_poll_for_jobs},
    {"PollForThirdPartyJobs", cp_op_poll_for_third_party_jobs},
    {"PutActionRevision", cp_op_put_action_revision},
    {"PutApprovalResult", cp_op_put_approval_result},
    {"PutJobFailureResult", cp_op_put_job_failure_result},
    {"PutJobSuccessResult", cp_op_put_job_success_result},
    {"PutThirdPartyJobFailureResult", cp_op_put_third_party_job_failure_result},
    {"PutThirdPartyJobSuccessResult", cp_op_put_third_party_job_success_result},
    {"PutWebhook", cp_op_put_webhook},
    {"RegisterWebhookWithThirdParty", cp_op_register_webhook},
    {"RetryStageExecution", cp_op_retry_stage_execution},
    {"RollbackStage", cp_op_rollback_stage},
    {"StartPipelineExecution", cp_op_start_pipeline_execution},
    {"StopPipelineExecution", cp_op_stop_pipeline_execution},
    {"TagResource", cp_op_tag_resource},
    {"UntagResource", cp_op_untag_resource},
    {"UpdateActionType", cp_op_update_action_type},
    {"UpdatePipeline", cp_op_update_pipeline},
};

const struct proto_service cp_service = {
    .name = "codepipeline",
    .target_prefix = "CodePipeline_20150709",
    .protocol = PROTO_JSON_1_1,
    .ops = cp_ops,
    .n_ops = sizeof cp_ops / sizeof cp_ops[0],
    .model = &proto_model_codepipeline,
    .clock_skew_seconds = 300,
    .start = cp_engine_start,
    .stop = cp_engine_stop,
};
