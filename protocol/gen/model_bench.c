/* Micro-benchmark: validates a 4-stage CreatePipeline input repeatedly and prints µs per call. */
#include <json-c/json.h>
#include <stdio.h>
#include <time.h>

#include "protocol/model.h"

static const char *bench_input =
    "{\"pipeline\":{\"name\":\"bench-pipeline\",\"roleArn\":\"arn:aws:iam::000000000000:role/cp\","
    "\"artifactStore\":{\"type\":\"S3\",\"location\":\"artifacts-bucket\"},\"version\":1,"
    "\"pipelineType\":\"V2\",\"executionMode\":\"QUEUED\",\"stages\":["
    "{\"name\":\"Source\",\"actions\":[{\"name\":\"Src\",\"actionTypeId\":{\"category\":\"Source\","
    "\"owner\":\"AWS\",\"provider\":\"CodeCommit\",\"version\":\"1\"},\"configuration\":{"
    "\"RepositoryName\":\"repo\",\"BranchName\":\"main\"},\"outputArtifacts\":[{\"name\":\"src\"}],"
    "\"runOrder\":1}]},"
    "{\"name\":\"Build\",\"actions\":[{\"name\":\"Build\",\"actionTypeId\":{\"category\":\"Build\","
    "\"owner\":\"AWS\",\"provider\":\"CodeBuild\",\"version\":\"1\"},\"configuration\":{"
    "\"ProjectName\":\"proj\"},\"inputArtifacts\":[{\"name\":\"src\"}],\"outputArtifacts\":[{"
    "\"name\":\"bld\"}]}]},"
    "{\"name\":\"Approve\",\"actions\":[{\"name\":\"Approve\",\"actionTypeId\":{\"category\":"
    "\"Approval\",\"owner\":\"AWS\",\"provider\":\"Manual\",\"version\":\"1\"}}]},"
    "{\"name\":\"Deploy\",\"actions\":[{\"name\":\"Deploy\",\"actionTypeId\":{\"category\":"
    "\"Deploy\","
    "\"owner\":\"AWS\",\"provider\":\"S3\",\"version\":\"1\"},\"configuration\":{\"BucketName\":"
    "\"site\",\"Extract\":\"true\"},\"inputArtifacts\":[{\"name\":\"bld\"}],\"region\":\"us-east-"
    "1\"}]}"
    "]},\"tags\":[{\"key\":\"team\",\"value\":\"ci\"}]}";

int main(void)
{
    const int iters = 100000;
    if (proto_model_init() != 0) return 1;
    struct json_object *in = json_tokener_parse(bench_input);
    const struct proto_model_op *op =
        proto_model_find_op(&proto_model_codepipeline, "CreatePipeline");
    if (!in || !op) return 1;
    struct proto_req req = {0};
    req.arena = proto_arena_new();
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < iters; i++)
        if (proto_model_validate(&req, op, in) != 0) {
            fprintf(stderr, "unexpected error: %s\n", req.err_message);
            return 1;
        }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us =
        ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) / iters;
    printf("CreatePipeline (4 stages): %.3f us per validation over %d runs\n", us, iters);
    json_object_put(in);
    proto_arena_free(req.arena);
    return 0;
}
