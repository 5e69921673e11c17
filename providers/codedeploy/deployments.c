/* Deployments: create, read, list, stop, and their targets. */
#include "providers/codedeploy/cd_internal.h"

#define STUB(fn)                                                                                   \
    int fn(struct proto_req *req)                                                                  \
    {                                                                                              \
        return proto_error(req, ERR_NOT_IMPLEMENTED, "not yet");                                   \
    }
STUB(cd_op_create_deployment)
STUB(cd_op_get_deployment)
STUB(cd_op_batch_get_deployments)
STUB(cd_op_list_deployments)
STUB(cd_op_stop_deployment)
STUB(cd_op_list_deployment_targets)
STUB(cd_op_batch_get_deployment_targets)
STUB(cd_op_get_deployment_target)
STUB(cd_op_list_deployment_instances)
STUB(cd_op_batch_get_deployment_instances)
STUB(cd_op_get_deployment_instance)
