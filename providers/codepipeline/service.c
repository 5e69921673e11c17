/* The codepipeline operation table. */
#include "providers/codepipeline/codepipeline.h"

#include "protocol/model.h"
#include "providers/codepipeline/cp_internal.h"

static const struct proto_operation cp_ops[] = {
    {"CreateCustomActionType", cp_op_create_custom_action_type, PROTO_OP_WRITE},
    {"CreatePipeline", cp_op_create_pipeline, PROTO_OP_WRITE},
    {"DeleteCustomActionType", cp_op_delete_custom_action_type, PROTO_OP_WRITE},
    {"DeletePipeline", cp_op_delete_pipeline, PROTO_OP_WRITE},
    {"DeleteWebhook", cp_op_delete_webhook, PROTO_OP_WRITE},
    {"DeregisterWebhookWithThirdParty", cp_op_deregister_webhook, PROTO_OP_WRITE},
    {"GetActionType", cp_op_get_action_type, 0},
    {"GetPipeline", cp_op_get_pipeline, 0},
    {"ListActionTypes", cp_op_list_action_types, 0},
    {"ListPipelines", cp_op_list_pipelines, 0},
    {"ListTagsForResource", cp_op_list_tags_for_resource, 0},
    {"ListWebhooks", cp_op_list_webhooks, 0},
    {"PutWebhook", cp_op_put_webhook, PROTO_OP_WRITE},
    {"RegisterWebhookWithThirdParty", cp_op_register_webhook, PROTO_OP_WRITE},
    {"TagResource", cp_op_tag_resource, PROTO_OP_WRITE},
    {"UntagResource", cp_op_untag_resource, PROTO_OP_WRITE},
    {"UpdateActionType", cp_op_update_action_type, PROTO_OP_WRITE},
    {"UpdatePipeline", cp_op_update_pipeline, PROTO_OP_WRITE},
};

const struct proto_service cp_service = {
    .name = "codepipeline",
    .target_prefix = "CodePipeline_20150709",
    .protocol = PROTO_JSON_1_1,
    .ops = cp_ops,
    .n_ops = sizeof cp_ops / sizeof cp_ops[0],
    .model = &proto_model_codepipeline,
    .clock_skew_seconds = 300,
};
