/* Operation lookup in a service's table, and the one dispatch path of a JSON 1.1 request. */
#include "protocol/service.h"

#include <string.h>

#include "protocol/json.h"
#include "protocol/model.h"

const struct proto_operation *proto_service_find_op(const struct proto_service *svc,
                                                    const char *name)
{
    for (size_t i = 0; i < svc->n_ops; i++)
        if (strcmp(svc->ops[i].name, name) == 0) return &svc->ops[i];
    return NULL;
}

int proto_json_dispatch(struct proto_req *req)
{
    int rc = proto_json_decode(req);
    if (rc < 0) return rc;
    const struct proto_service *svc = req->service;
    const struct proto_model_op *model_op = proto_model_find_op(svc->model, req->operation);
    const struct proto_operation *op = proto_service_find_op(svc, req->operation);
    if (!model_op && !op)
        return proto_error(req, ERR_UNKNOWN_OPERATION, "Operation %s is not supported by %s.",
                           req->operation, svc->name);
    if (op && svc->prevalidate && (rc = svc->prevalidate(req)) < 0) return rc;
    if (model_op && (rc = proto_model_validate(req, model_op, req->input)) < 0) {
        if (svc->validation_error && req->err == ERR_VALIDATION) {
            req->err = svc->validation_error;
            rc = -(int)svc->validation_error;
        }
        return rc;
    }
    if (!op)
        return proto_error(req, ERR_NOT_IMPLEMENTED,
                           "Operation %s of %s is not implemented by codepipeline-local yet.",
                           req->operation, svc->name);
    rc = op->handler(req);
    if (rc < 0 && !req->err)
        return proto_error(req, ERR_INTERNAL_FAILURE,
                           "The request processing has failed because of an unknown error, "
                           "exception or failure.");
    return rc < 0 ? rc : 0;
}
