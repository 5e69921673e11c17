/* The codecommit operation table. */
#include "providers/codecommit/codecommit.h"

#include "protocol/model.h"
#include "providers/codecommit/internal.h"

/* Sorted by name, as the model lists them. */
static const struct proto_operation cc_ops[] = {
#define CC_OP_ROW(name, fn, flags) {name, fn, flags},
    CC_OPERATIONS(CC_OP_ROW)
#undef CC_OP_ROW
};

const struct proto_service cc_service = {
    .name = "codecommit",
    .target_prefix = "CodeCommit_20150413",
    .protocol = PROTO_JSON_1_1,
    .ops = cc_ops,
    .n_ops = sizeof cc_ops / sizeof cc_ops[0],
    .model = &proto_model_codecommit,
    .clock_skew_seconds = 300,
};
