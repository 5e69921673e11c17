/* The codecommit operation table. */
#include "providers/codecommit/codecommit.h"

#include "protocol/model.h"

static const struct proto_operation cc_ops[] = {
    {NULL, NULL, 0},
};

const struct proto_service cc_service = {
    .name = "codecommit",
    .target_prefix = "CodeCommit_20150413",
    .protocol = PROTO_JSON_1_1,
    .ops = cc_ops,
    .n_ops = 0,
    .model = &proto_model_codecommit,
    .clock_skew_seconds = 300,
};
