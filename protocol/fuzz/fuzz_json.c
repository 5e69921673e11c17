/* libFuzzer target: decode a JSON body and validate it against several operations' models.
 * Build: cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCPL_FUZZ=ON -DCPL_TESTS=OFF
 *        cmake --build build-fuzz --target fuzz_json
 * Run:   build-fuzz/protocol/fuzz_json -max_total_time=60 -dict=protocol/fuzz/json.dict NEW_DIR \
 *          protocol/fuzz/corpus   (new inputs go to NEW_DIR; the seeds stay untouched)
 * The first input byte picks the operation; the rest is the body. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/json.h"
#include "protocol/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    const struct proto_model_service *svc;
    const char *op;
} fuzz_ops[] = {
    {&proto_model_codepipeline, "CreatePipeline"},
    {&proto_model_codepipeline, "UpdatePipeline"},
    {&proto_model_codepipeline, "PutJobSuccessResult"},
    {&proto_model_codepipeline, "StartPipelineExecution"},
    {&proto_model_codecommit, "CreateRepository"},
    {&proto_model_codecommit, "PutFile"},
    {&proto_model_codecommit, "CreateCommit"},
    {&proto_model_codebuild, "CreateProject"},
    {&proto_model_codebuild, "StartBuild"},
    {&proto_model_codedeploy, "CreateDeployment"},
    {&proto_model_codedeploy, "ListDeployments"},
    {&proto_model_s3, "PutBucketTagging"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (proto_model_init() != 0) abort();
        ready = 1;
    }
    if (size < 1) return 0;
    size_t which = data[0] % (sizeof(fuzz_ops) / sizeof(fuzz_ops[0]));
    char *body = malloc(size);
    if (!body) return 0;
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';

    struct proto_req req;
    memset(&req, 0, sizeof(req));
    req.arena = proto_arena_new();
    req.resp_fd = -1;
    req.http.body = body;
    req.http.body_len = size - 1;
    if (proto_json_decode(&req) == 0) {
        const struct proto_model_op *op =
            proto_model_find_op(fuzz_ops[which].svc, fuzz_ops[which].op);
        if (!op) abort();
        int rc = proto_model_validate(&req, op, req.input);
        if (rc != 0 && rc != -ERR_VALIDATION && rc != -ERR_SERIALIZATION) abort();
        if (rc != 0 && !req.err_message) abort();
    }
    proto_json_finish(&req);
    json_object_put(req.input);
    proto_sb_free(&req.body);
    proto_sb_free(&req.err_extra);
    proto_arena_free(req.arena);
    free(body);
    return 0;
}
