/* S3 REST dispatch. */
#include "providers/s3/s3.h"

#include "protocol/model.h"

static int s3_dispatch(struct proto_req *req)
{
    return proto_error(req, ERR_S3_NOT_IMPLEMENTED,
                       "A header you provided implies functionality that is not implemented");
}

const struct proto_service s3_service = {
    .name = "s3",
    .target_prefix = NULL,
    .protocol = PROTO_REST_XML,
    .model = &proto_model_s3,
    .clock_skew_seconds = 900,
    .rest_dispatch = s3_dispatch,
};
