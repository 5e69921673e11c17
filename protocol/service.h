/* Service and operation tables: how the server finds a provider's handler for a request. */
#ifndef PROTO_SERVICE_H
#define PROTO_SERVICE_H

#include <stddef.h>

#include "protocol/request.h"

struct proto_model_service;
struct store;
struct rt_queue;
struct sigv4_creds;

/* Every handler: returns 0, or a negative proto_err set with proto_error(). */
typedef int (*proto_handler)(struct proto_req *req);

struct proto_operation {
    const char *name;      /* "CreatePipeline" */
    proto_handler handler; /* opens its own store transactions */
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

/* What the server hands every provider's start. Owned by the server and valid until every stop
 * has returned: keep the pointer, not copies, of the fields marked "at use". */
struct sigv4_creds;

struct proto_service_config {
    const char *data_dir;      /* --data-dir */
    const char *host;          /* --host: the name or address the server listens on */
    unsigned port;             /* at use: the bound port (with --port 0 it is known only once the
                                  server listens, which is after start and before any request) */
    char endpoint_url[320];    /* at use, like port: "http://127.0.0.1:4566", for links (a build's
                                  log deepLink) and for children (a build's AWS_ENDPOINT_URL) */
    const char *region;        /* --region: the default region */
    const char *account_id;    /* --account-id: the default account */
    int log_level;             /* --log-level (enum srv_log_level) */
    unsigned max_builds;       /* concurrent builds; 0: the core count */
    int build_sandbox;         /* --build-sandbox: 0 none, 1 bwrap */
    struct rt_queue *queue;    /* the durable work queue, shared: register kinds in start */
    struct sigv4_creds *creds; /* the credentials store (STS sets its resolver in start) */
};

struct proto_service {
    const char *name;          /* the SigV4 signing name: "codepipeline" */
    const char *target_prefix; /* JSON 1.1: "CodePipeline_20150709"; NULL for REST */
    enum proto_protocol protocol;
    const struct proto_operation *ops; /* JSON 1.1 operations */
    size_t n_ops;
    const struct proto_model_service *model; /* generated from the botocore model */
    const char *api_version; /* awsQuery: the Version every request must carry ("2011-06-15") */
    int clock_skew_seconds;  /* 300 for the JSON services, 900 for S3 */
    int json_1_0; /* JSON: answers are application/x-amz-json-1.0 (the model's jsonVersion) */
    /* REST: handles the whole request once the body is in (buffered or sunk). */
    proto_handler rest_dispatch;
    /* REST, optional: called after auth and before the body; may set req->sink to stream it. */
    proto_handler rest_begin;
    /* JSON 1.1, optional: the service's own input checks that AWS answers before the model's
     * constraints (CodeCommit: a repositoryName outside [\w.-]+ is InvalidRepositoryNameException,
     * not ValidationException). Runs after auth, before proto_model_validate, only for an
     * operation the service implements. Returns 0, or a negative proto_err set on req. */
    proto_handler prevalidate;
    /* JSON 1.1, optional: the code of the model's constraint errors when the service does not
     * use ValidationException (CloudWatch Logs answers InvalidParameterException). 0: default. */
    enum proto_err validation_error;
    /* Lifecycle, optional (NULL: nothing to do). The server calls every start in table order
     * after opening the store and before serving requests, on its main thread: register
     * listeners and queue kinds (which settles what a restart left unfinished), start threads.
     * Returns 0, or -1 with a one-line reason in err (the server then stops those started and
     * exits non-zero). st and cfg outlive the provider. */
    int (*start)(struct store *st, const struct proto_service_config *cfg, char *err,
                 size_t errlen);
    /* Called in reverse table order at shutdown, after requests drained and after the queue
     * stopped (its runs returned, or stay RT_RUNNING for the next start's settle). Ends the
     * provider's own threads by deadline (epoch seconds) and releases what start took. */
    void (*stop)(double deadline);
};

/* Returns the operation of svc named name, or NULL. */
const struct proto_operation *proto_service_find_op(const struct proto_service *svc,
                                                    const char *name);
/* Runs an authenticated JSON 1.1 request of req->service and req->operation (both set) the way
 * every such request runs: decode the body, find the operation, the service's prevalidate, the
 * model's checks, then the handler. The answer is left on req (output or err) for
 * proto_json_finish(). Returns 0, or the negative proto_err it set. The server and the dispatch
 * fuzzer share it, so the fuzzer exercises the path clients take. */
int proto_json_dispatch(struct proto_req *req);

#endif
