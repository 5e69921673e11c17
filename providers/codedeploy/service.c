/* The codedeploy operation table. */
#include "providers/codedeploy/codedeploy.h"

#include "protocol/model.h"

static const struct proto_operation cd_ops[] = {
    {NULL, NULL},
};

const struct proto_service cd_service = {
    .name = "codedeploy",
    .target_prefix = "CodeDeploy_20141006",
    .protocol = PROTO_JSON_1_1,
    .ops = cd_ops,
    .n_ops = 0,
    .model = &proto_model_codedeploy,
    .clock_skew_seconds = 300,
};
