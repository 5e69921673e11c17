/* Service and operation tables: how the server finds a provider's handler for a request. */
#ifndef PROTO_SERVICE_H
#define PROTO_SERVICE_H

#include <stddef.h>

#include "protocol/request.h"

struct proto_model_service;

/* Every handler: returns 0, or a negative proto_err set with proto_error(). */
typedef int (*proto_handler)(struct proto_req *req);

enum proto_op_flags {
    PROTO_OP_WRITE = 1 << 0, /* changes state */
};

struct proto_operation {
    const char *name; /* "CreatePipeline" */
    proto_handler handler;
    unsigned flags;
};

enum proto_protocol {
    PROTO_JSON_1_1,
    PROTO_REST_XML,
    PROTO_RAW_HTTP,  /* git smart HTTP: no SigV4; the handler authenticates and writes the body */
    PROTO_AWS_QUERY, /* form-encoded POST with Action=, XML answers (STS, IAM): routed by the
                      * credential scope's service; rest_dispatch handles the whole request */
};

/* A streaming request body (S3 uploads): write() gets the raw body bytes as they arrive. */
struct proto_body_sink {
    int (*write)(struct proto_req *req, const char *data, size_t len); /* 0 or -err */
    void (*abort)(struct proto_req *req); /* the request ended before the handler ran */
};

struct proto_service {
    const char *name;          /* the SigV4 signing name: "codepipeline" */
    const char *target_prefix; /* JSON 1.1: "CodePipeline_20150709"; NULL for REST */
    enum proto_protocol protocol;
    const struct proto_operation *ops; /* JSON 1.1 operations */
    size_t n_ops;
    const struct proto_model_service *model; /* generated from the botocore model */
    int clock_skew_seconds;                  /* 300 for the JSON services, 900 for S3 */
    /* REST: handles the whole request once the body is in (buffered or sunk). */
    proto_handler rest_dispatch;
    /* REST, optional: called after auth and before the body; may set req->sink to stream it. */
    proto_handler rest_begin;
    /* JSON 1.1, optional: the service's own input checks that AWS answers before the model's
     * constraints (CodeCommit: a repositoryName outside [\w.-]+ is InvalidRepositoryNameException,
     * not ValidationException). Runs after auth, before proto_model_validate, only for an
     * operation the service implements. Returns 0, or a negative proto_err set on req. */
    proto_handler prevalidate;
};

/* Returns the operation of svc named name, or NULL. */
const struct proto_operation *proto_service_find_op(const struct proto_service *svc,
                                                    const char *name);

#endif
