/* The codepipeline operation table. */
#include "providers/codepipeline/codepipeline.h"

#include "protocol/model.h"
#include "providers/codepipeline/cp_internal.h"

static const struct proto_operation cp_ops[] = {
    {"ListPipelines", cp_op_list_pipelines, 0},
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
