/* The codebuild operation table. */
#include "providers/codebuild/codebuild.h"

#include "protocol/model.h"

static const struct proto_operation cb_ops[] = {
    {NULL, NULL},
};

const struct proto_service cb_service = {
    .name = "codebuild",
    .target_prefix = "CodeBuild_20161006",
    .protocol = PROTO_JSON_1_1,
    .ops = cb_ops,
    .n_ops = 0,
    .model = &proto_model_codebuild,
    .clock_skew_seconds = 300,
};
