/* The codebuild operation table. */
#include "providers/codebuild/codebuild.h"

#include "protocol/model.h"
#include "providers/codebuild/internal.h"

/* Sorted by name, as proto_service_find_op expects of every table. */
static const struct proto_operation cb_ops[] = {
    {"BatchDeleteBuilds", cb_op_batch_delete_builds},
    {"BatchGetBuilds", cb_op_batch_get_builds},
    {"BatchGetProjects", cb_op_batch_get_projects},
    {"CreateFleet", cb_op_not_simulated},
    {"CreateProject", cb_op_create_project},
    {"CreateWebhook", cb_op_not_simulated},
    {"DeleteProject", cb_op_delete_project},
    {"ListBuilds", cb_op_list_builds},
    {"ListBuildsForProject", cb_op_list_builds_for_project},
    {"ListProjects", cb_op_list_projects},
    {"RetryBuild", cb_op_retry_build},
    {"RetryBuildBatch", cb_op_not_simulated},
    {"StartBuild", cb_op_start_build},
    {"StartBuildBatch", cb_op_not_simulated},
    {"StopBuild", cb_op_stop_build},
    {"UpdateProject", cb_op_update_project},
};

const struct proto_service cb_service = {
    .name = "codebuild",
    .target_prefix = "CodeBuild_20161006",
    .protocol = PROTO_JSON_1_1,
    .ops = cb_ops,
    .n_ops = sizeof cb_ops / sizeof cb_ops[0],
    .model = &proto_model_codebuild,
    .clock_skew_seconds = 300,
};
