/* The codedeploy operation table. */
#include "providers/codedeploy/codedeploy.h"

#include "protocol/model.h"
#include "providers/codedeploy/cd_internal.h"

/* Sorted by name, as the model lists them. */
static const struct proto_operation cd_ops[] = {
#define CD_OP_ROW(name, fn) {name, fn},
    CD_OPERATIONS(CD_OP_ROW)
#undef CD_OP_ROW
};

static int cd_start(struct store *st, const struct proto_service_config *cfg, char *err,
                    size_t errlen)
{
    return cd_agent_register(st, cfg->queue, cfg->build_sandbox, err, errlen);
}

static void cd_stop(double deadline)
{
    (void)deadline; /* the deployments ran on the queue, which has stopped */
    cd_agent_unregister();
}

const struct proto_service cd_service = {
    .name = "codedeploy",
    .target_prefix = "CodeDeploy_20141006",
    .protocol = PROTO_JSON_1_1,
    .ops = cd_ops,
    .n_ops = sizeof cd_ops / sizeof cd_ops[0],
    .model = &proto_model_codedeploy,
    .clock_skew_seconds = 300,
    .start = cd_start,
    .stop = cd_stop,
};
