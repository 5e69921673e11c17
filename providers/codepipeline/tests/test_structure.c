/* Unit tests of the pipeline structure rules and default filling, without the server. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codepipeline/structure.h"

#define ROLE  "\"roleArn\":\"arn:aws:iam::000000000000:role/cp\""
#define STORE "\"artifactStore\":{\"type\":\"S3\",\"location\":\"artifacts-bucket\"}"
#define CC_SOURCE                                                                                  \
    "{\"name\":\"Src\",\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":"  \
    "\"CodeCommit\",\"version\":\"1\"},\"configuration\":{\"RepositoryName\":\"r\","               \
    "\"BranchName\":\"main\"},\"outputArtifacts\":[{\"name\":\"SourceOut\"}]}"
#define CB_BUILD                                                                                   \
    "{\"name\":\"Build\",\"actionTypeId\":{\"category\":\"Build\",\"owner\":\"AWS\",\"provider\":" \
    "\"CodeBuild\",\"version\":\"1\"},\"configuration\":{\"ProjectName\":\"p\"},"                  \
    "\"inputArtifacts\":[{\"name\":\"SourceOut\"}],\"outputArtifacts\":[{\"name\":\"BuildOut\"}]}"

static const struct cp_structure_ctx CTX = {"us-east-1", NULL, NULL};

/* Parses text, normalises it and validates it; returns the error (ERR_NONE when valid). */
static enum proto_err check_ctx(const char *text, const struct cp_structure_ctx *ctx,
                                struct cp_structure_error *e)
{
    struct json_object *raw = json_tokener_parse(text);
    cr_assert_not_null(raw, "test JSON does not parse: %s", text);
    struct json_object *n = cp_structure_normalise(raw, 1);
    int rc = cp_structure_validate(n, ctx, e);
    json_object_put(raw);
    json_object_put(n);
    return rc ? e->err : ERR_NONE;
}

static enum proto_err check(const char *text, struct cp_structure_error *e)
{
    return check_ctx(text, &CTX, e);
}

static char *pipeline(const char *stages)
{
    static char buf[16384];
    snprintf(buf, sizeof buf, "{\"name\":\"p\"," ROLE "," STORE ",\"stages\":[%s]}", stages);
    return buf;
}

static void expect(const char *text, enum proto_err err, const char *message)
{
    struct cp_structure_error e;
    enum proto_err got = check(text, &e);
    cr_assert_eq(got, err, "expected error %d, got %d (%s)", err, got, e.message);
    if (message) cr_assert_str_eq(e.message, message);
}

Test(cp_structure, accepts_a_source_and_build_pipeline)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}"),
           ERR_NONE, NULL);
}

Test(cp_structure, fills_aws_defaults_in_order)
{
    struct json_object *raw = json_tokener_parse(
        pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                 "{\"name\":\"Approve\",\"actions\":[{\"name\":\"Ok\",\"actionTypeId\":{"
                 "\"category\":\"Approval\",\"owner\":\"AWS\",\"provider\":\"Manual\","
                 "\"version\":\"1\"},\"bogus\":1}]}"));
    struct json_object *n = cp_structure_normalise(raw, 3);
    const char *s = json_object_to_json_string_ext(n, JSON_C_TO_STRING_PLAIN);
    cr_assert_not_null(strstr(s, "{\"name\":\"Ok\",\"actionTypeId\":{\"category\":\"Approval\","
                                 "\"owner\":\"AWS\",\"provider\":\"Manual\",\"version\":\"1\"},"
                                 "\"runOrder\":1,\"configuration\":{},\"outputArtifacts\":[],"
                                 "\"inputArtifacts\":[]}"),
                       "%s", s);
    cr_assert_not_null(strstr(s, "\"version\":3,\"executionMode\":\"SUPERSEDED\","
                                 "\"pipelineType\":\"V1\"}"),
                       "%s", s);
    cr_assert_null(strstr(s, "bogus"));
    json_object_put(raw);
    json_object_put(n);
}

Test(cp_structure, rejects_a_single_stage)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]}"), ERR_INVALID_STRUCTURE,
           "Pipeline has only 1 stage(s). There should be a minimum of 2 stages in a pipeline");
}

Test(cp_structure, rejects_more_than_50_stages)
{
    static char stages[200000];
    size_t o = (size_t)snprintf(stages, sizeof stages,
                                "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]}");
    for (int i = 0; i < 50; i++)
        o += (size_t)snprintf(stages + o, sizeof stages - o,
                              ",{\"name\":\"S%d\",\"actions\":[{\"name\":\"A\",\"actionTypeId\":{"
                              "\"category\":\"Approval\",\"owner\":\"AWS\",\"provider\":\"Manual\","
                              "\"version\":\"1\"}}]}",
                              i);
    char *text = malloc(o + 512);
    sprintf(text, "{\"name\":\"p\"," ROLE "," STORE ",\"stages\":[%s]}", stages);
    expect(text, ERR_INVALID_STRUCTURE,
           "Pipeline has 51 stages. There should be a maximum of 50 stages in a pipeline");
    free(text);
}

Test(cp_structure, rejects_a_first_stage_without_only_source_actions)
{
    expect(pipeline("{\"name\":\"Build\",\"actions\":[" CB_BUILD "]},"
                    "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]}"),
           ERR_INVALID_STRUCTURE,
           "Pipeline should start with a stage that only contains source actions");
}

Test(cp_structure, rejects_source_action_after_first_stage)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Build\",\"actions\":[" CB_BUILD "," CC_SOURCE "]}"),
           ERR_INVALID_STRUCTURE, NULL);
}

Test(cp_structure, rejects_duplicate_stage_names)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Source\",\"actions\":[" CB_BUILD "]}"),
           ERR_INVALID_STAGE_DECLARATION, NULL);
}

Test(cp_structure, rejects_duplicate_action_names_in_a_stage)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Build\",\"actions\":[" CB_BUILD "," CB_BUILD "]}"),
           ERR_INVALID_ACTION_DECLARATION, NULL);
}

Test(cp_structure, accepts_same_action_name_in_two_stages)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Build\",\"actions\":[" CB_BUILD "]},"
                    "{\"name\":\"Test\",\"actions\":[{\"name\":\"Build\",\"actionTypeId\":{"
                    "\"category\":\"Test\",\"owner\":\"AWS\",\"provider\":\"CodeBuild\","
                    "\"version\":\"1\"},\"configuration\":{\"ProjectName\":\"t\"},"
                    "\"inputArtifacts\":[{\"name\":\"BuildOut\"}]}]}"),
           ERR_NONE, NULL);
}

Test(cp_structure, rejects_an_empty_stage)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Build\",\"actions\":[]}"),
           ERR_INVALID_STAGE_DECLARATION, NULL);
}

Test(cp_structure, rejects_an_input_artifact_nobody_produces)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Deploy\",\"actions\":[{\"name\":\"D\",\"actionTypeId\":{"
                    "\"category\":\"Deploy\",\"owner\":\"AWS\",\"provider\":\"CodeDeploy\","
                    "\"version\":\"1\"},\"configuration\":{\"ApplicationName\":\"a\","
                    "\"DeploymentGroupName\":\"g\"},\"inputArtifacts\":[{\"name\":\"Nope\"}]}]}"),
           ERR_INVALID_STRUCTURE,
           "Input Artifact Bundle Nope in action D is not declared as an output of an action that "
           "runs before it.");
}

Test(cp_structure, rejects_an_input_produced_by_a_later_or_parallel_action)
{
    /* Deploy (runOrder 1) consumes BuildOut, which Build produces at the same runOrder. */
    const char *deploy = "{\"name\":\"D\",\"actionTypeId\":{\"category\":\"Deploy\",\"owner\":"
                         "\"AWS\",\"provider\":\"S3\",\"version\":\"1\"},\"configuration\":{"
                         "\"BucketName\":\"b\",\"Extract\":\"true\"},\"inputArtifacts\":[{"
                         "\"name\":\"BuildOut\"}]%s}";
    char same[1024], later[1024], stages[4096];
    snprintf(same, sizeof same, deploy, "");
    snprintf(stages, sizeof stages,
             "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},{\"name\":\"B\",\"actions\":["
             "%s," CB_BUILD "]}",
             same);
    expect(pipeline(stages), ERR_INVALID_STRUCTURE, NULL);
    snprintf(later, sizeof later, deploy, ",\"runOrder\":2");
    snprintf(stages, sizeof stages,
             "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},{\"name\":\"B\",\"actions\":["
             "%s," CB_BUILD "]}",
             later);
    expect(pipeline(stages), ERR_NONE, NULL);
}

Test(cp_structure, rejects_duplicate_output_artifact_names)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Build\",\"actions\":[{\"name\":\"B\",\"actionTypeId\":{"
                    "\"category\":\"Build\",\"owner\":\"AWS\",\"provider\":\"CodeBuild\","
                    "\"version\":\"1\"},\"configuration\":{\"ProjectName\":\"p\"},"
                    "\"inputArtifacts\":[{\"name\":\"SourceOut\"}],\"outputArtifacts\":[{"
                    "\"name\":\"SourceOut\"}]}]}"),
           ERR_INVALID_STRUCTURE,
           "Output Artifact Bundle name must be unique within the pipeline. SourceOut has been "
           "used more than once.");
}

Test(cp_structure, rejects_too_few_input_artifacts)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Build\",\"actions\":[{\"name\":\"B\",\"actionTypeId\":{"
                    "\"category\":\"Build\",\"owner\":\"AWS\",\"provider\":\"CodeBuild\","
                    "\"version\":\"1\"},\"configuration\":{\"ProjectName\":\"p\"}}]}"),
           ERR_INVALID_ACTION_DECLARATION,
           "Action B declares 0 input artifacts which is less than the minimum count (1)");
}

Test(cp_structure, rejects_too_many_output_artifacts)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[{\"name\":\"S\",\"actionTypeId\":{"
                    "\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":\"S3\","
                    "\"version\":\"1\"},\"configuration\":{\"S3Bucket\":\"b\",\"S3ObjectKey\":"
                    "\"k\"},\"outputArtifacts\":[{\"name\":\"A\"},{\"name\":\"B\"}]}]},"
                    "{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}"),
           ERR_INVALID_ACTION_DECLARATION,
           "Action S declares 2 output artifacts which is more than the maximum count (1)");
}

Test(cp_structure, rejects_missing_required_configuration)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[{\"name\":\"S\",\"actionTypeId\":{"
                    "\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":\"CodeCommit\","
                    "\"version\":\"1\"},\"configuration\":{\"RepositoryName\":\"r\"},"
                    "\"outputArtifacts\":[{\"name\":\"SourceOut\"}]}]},"
                    "{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}"),
           ERR_INVALID_ACTION_DECLARATION,
           "Action configuration for action 'S' is missing required configuration 'BranchName'");
}

Test(cp_structure, rejects_unknown_configuration_keys)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Build\",\"actions\":[{\"name\":\"B\",\"actionTypeId\":{"
                    "\"category\":\"Build\",\"owner\":\"AWS\",\"provider\":\"CodeBuild\","
                    "\"version\":\"1\"},\"configuration\":{\"ProjectName\":\"p\",\"Color\":"
                    "\"red\"},\"inputArtifacts\":[{\"name\":\"SourceOut\"}]}]}"),
           ERR_INVALID_ACTION_DECLARATION,
           "Action configuration for action 'B' contains unknown configuration 'Color'");
}

Test(cp_structure, requires_object_key_when_s3_deploy_does_not_extract)
{
    const char *fmt = "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                      "{\"name\":\"Deploy\",\"actions\":[{\"name\":\"D\",\"actionTypeId\":{"
                      "\"category\":\"Deploy\",\"owner\":\"AWS\",\"provider\":\"S3\","
                      "\"version\":\"1\"},\"configuration\":{\"BucketName\":\"b\",%s},"
                      "\"inputArtifacts\":[{\"name\":\"SourceOut\"}]}]}";
    char stages[4096];
    snprintf(stages, sizeof stages, fmt, "\"Extract\":\"false\"");
    expect(pipeline(stages), ERR_INVALID_ACTION_DECLARATION, NULL);
    snprintf(stages, sizeof stages, fmt, "\"Extract\":\"false\",\"ObjectKey\":\"app.zip\"");
    expect(pipeline(stages), ERR_NONE, NULL);
    snprintf(stages, sizeof stages, fmt, "\"ObjectKey\":\"app.zip\"");
    expect(pipeline(stages), ERR_INVALID_ACTION_DECLARATION,
           "Action configuration for action 'D' is missing required configuration 'Extract'");
}

Test(cp_structure, requires_codedeploy_application_and_group)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Deploy\",\"actions\":[{\"name\":\"D\",\"actionTypeId\":{"
                    "\"category\":\"Deploy\",\"owner\":\"AWS\",\"provider\":\"CodeDeploy\","
                    "\"version\":\"1\"},\"configuration\":{\"ApplicationName\":\"a\"},"
                    "\"inputArtifacts\":[{\"name\":\"SourceOut\"}]}]}"),
           ERR_INVALID_ACTION_DECLARATION,
           "Action configuration for action 'D' is missing required configuration "
           "'DeploymentGroupName'");
}

Test(cp_structure, rejects_a_provider_that_does_not_exist_for_the_category)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Build\",\"actions\":[{\"name\":\"B\",\"actionTypeId\":{"
                    "\"category\":\"Build\",\"owner\":\"AWS\",\"provider\":\"CodeDeploy\","
                    "\"version\":\"1\"},\"inputArtifacts\":[{\"name\":\"SourceOut\"}]}]}"),
           ERR_INVALID_ACTION_DECLARATION,
           "ActionType (Category: 'Build', Provider: 'CodeDeploy', Owner: 'AWS', Version: '1') "
           "in action 'B' is not available in region 'US_EAST_1'");
}

static struct json_object *lookup_jenkins(void *arg, const char *cat, const char *prov,
                                          const char *ver)
{
    (void)arg;
    if (strcmp(cat, "Build") || strcmp(prov, "Jenkins") || strcmp(ver, "1")) return NULL;
    return json_tokener_parse(
        "{\"actionConfigurationProperties\":[{\"name\":\"ProjectName\",\"required\":true,"
        "\"queryable\":true}],"
        "\"inputArtifactDetails\":{\"minimumCount\":0,\"maximumCount\":1},"
        "\"outputArtifactDetails\":{\"minimumCount\":0,\"maximumCount\":1}}");
}

Test(cp_structure, accepts_custom_action_types_that_exist)
{
    struct cp_structure_ctx ctx = {"us-east-1", lookup_jenkins, NULL};
    struct cp_structure_error e;
    const char *fmt = "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                      "{\"name\":\"Build\",\"actions\":[{\"name\":\"J\",\"actionTypeId\":{"
                      "\"category\":\"Build\",\"owner\":\"Custom\",\"provider\":\"Jenkins\","
                      "\"version\":\"%s\"},\"configuration\":{%s}}]}";
    char stages[4096];
    snprintf(stages, sizeof stages, fmt, "1", "\"ProjectName\":\"x\"");
    cr_assert_eq(check_ctx(pipeline(stages), &ctx, &e), ERR_NONE, "%s", e.message);
    snprintf(stages, sizeof stages, fmt, "2", "\"ProjectName\":\"x\"");
    cr_assert_eq(check_ctx(pipeline(stages), &ctx, &e), ERR_INVALID_ACTION_DECLARATION);
    snprintf(stages, sizeof stages, fmt, "1", "");
    cr_assert_eq(check_ctx(pipeline(stages), &ctx, &e), ERR_INVALID_ACTION_DECLARATION);
}

Test(cp_structure, custom_actions_accept_joblist_and_bound_queryable_values)
{
    struct cp_structure_ctx ctx = {"us-east-1", lookup_jenkins, NULL};
    struct cp_structure_error e;
    const char *fmt = "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                      "{\"name\":\"Build\",\"actions\":[{\"name\":\"J\",\"actionTypeId\":{"
                      "\"category\":\"Build\",\"owner\":\"Custom\",\"provider\":\"Jenkins\","
                      "\"version\":\"1\"},\"configuration\":{%s}}]}";
    char stages[4096];
    snprintf(stages, sizeof stages, fmt, "\"ProjectName\":\"job-1\",\"JobList\":\"a,b\"");
    cr_assert_eq(check_ctx(pipeline(stages), &ctx, &e), ERR_NONE, "%s", e.message);
    snprintf(stages, sizeof stages, fmt, "\"ProjectName\":\"has space\"");
    cr_assert_eq(check_ctx(pipeline(stages), &ctx, &e), ERR_INVALID_ACTION_DECLARATION);
    snprintf(stages, sizeof stages, fmt, "\"ProjectName\":\"abcdefghijklmnopqrstu\"");
    cr_assert_eq(check_ctx(pipeline(stages), &ctx, &e), ERR_INVALID_ACTION_DECLARATION);
    snprintf(stages, sizeof stages, fmt, "\"ProjectName\":\"abcdefghijklmnopqrst\"");
    cr_assert_eq(check_ctx(pipeline(stages), &ctx, &e), ERR_NONE, "%s", e.message);
}

Test(cp_structure, rejects_duplicate_namespaces)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[{\"name\":\"S\",\"namespace\":\"NS\","
                    "\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":"
                    "\"S3\",\"version\":\"1\"},\"configuration\":{\"S3Bucket\":\"b\","
                    "\"S3ObjectKey\":\"k\"},\"outputArtifacts\":[{\"name\":\"SourceOut\"}]}]},"
                    "{\"name\":\"Build\",\"actions\":[{\"name\":\"B\",\"namespace\":\"NS\","
                    "\"actionTypeId\":{\"category\":\"Build\",\"owner\":\"AWS\",\"provider\":"
                    "\"CodeBuild\",\"version\":\"1\"},\"configuration\":{\"ProjectName\":\"p\"},"
                    "\"inputArtifacts\":[{\"name\":\"SourceOut\"}]}]}"),
           ERR_INVALID_ACTION_DECLARATION,
           "Namespaces must be unique across the pipeline definition. The following occur more "
           "than once in the pipeline. StageName=[Build], ActionName=[B], Namespace=[NS]");
}

Test(cp_structure, rejects_a_namespace_named_like_an_artifact)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[{\"name\":\"S\",\"namespace\":"
                    "\"SourceOut\",\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\","
                    "\"provider\":\"S3\",\"version\":\"1\"},\"configuration\":{\"S3Bucket\":\"b\","
                    "\"S3ObjectKey\":\"k\"},\"outputArtifacts\":[{\"name\":\"SourceOut\"}]}]},"
                    "{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}"),
           ERR_INVALID_STRUCTURE, NULL);
}

Test(cp_structure, checks_variable_references_against_earlier_namespaces)
{
    const char *fmt =
        "{\"name\":\"Source\",\"actions\":[{\"name\":\"S\",\"namespace\":\"SourceVariables\","
        "\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":\"CodeCommit\","
        "\"version\":\"1\"},\"configuration\":{\"RepositoryName\":\"r\",\"BranchName\":\"main\"},"
        "\"outputArtifacts\":[{\"name\":\"SourceOut\"}]}]},"
        "{\"name\":\"Build\",\"actions\":[{\"name\":\"B\",\"actionTypeId\":{\"category\":"
        "\"Build\",\"owner\":\"AWS\",\"provider\":\"CodeBuild\",\"version\":\"1\"},"
        "\"configuration\":{\"ProjectName\":\"p\",\"EnvironmentVariables\":"
        "\"[{\\\"name\\\":\\\"C\\\",\\\"value\\\":\\\"#{%s}\\\"}]\"},\"inputArtifacts\":[{"
        "\"name\":\"SourceOut\"}]}]}";
    char stages[4096];
    snprintf(stages, sizeof stages, fmt, "SourceVariables.CommitId");
    expect(pipeline(stages), ERR_NONE, NULL);
    snprintf(stages, sizeof stages, fmt, "codepipeline.PipelineExecutionId");
    expect(pipeline(stages), ERR_NONE, NULL);
    snprintf(stages, sizeof stages, fmt, "Elsewhere.CommitId");
    expect(pipeline(stages), ERR_INVALID_ACTION_DECLARATION,
           "Action 'B' references variable namespace 'Elsewhere' which is not declared by an "
           "action that runs before it");
    snprintf(stages, sizeof stages, fmt, "variables.Undeclared");
    expect(pipeline(stages), ERR_INVALID_ACTION_DECLARATION, NULL);
}

Test(cp_structure, requires_exactly_one_of_artifact_store_and_stores)
{
    char text[8192];
    snprintf(text, sizeof text,
             "{\"name\":\"p\"," ROLE ",\"stages\":[{\"name\":\"Source\",\"actions\":[" CC_SOURCE
             "]},{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}]}");
    expect(text, ERR_INVALID_STRUCTURE, NULL);
    snprintf(text, sizeof text,
             "{\"name\":\"p\"," ROLE "," STORE
             ",\"artifactStores\":{\"us-east-1\":{\"type\":\"S3\","
             "\"location\":\"b\"}},\"stages\":[{\"name\":\"Source\",\"actions\":[" CC_SOURCE
             "]},{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}]}");
    expect(text, ERR_INVALID_STRUCTURE, NULL);
    snprintf(text, sizeof text,
             "{\"name\":\"p\"," ROLE ",\"artifactStores\":{\"us-east-1\":{\"type\":\"S3\","
             "\"location\":\"b\"}},\"stages\":[{\"name\":\"Source\",\"actions\":[" CC_SOURCE
             "]},{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}]}");
    expect(text, ERR_NONE, NULL);
}

Test(cp_structure, allows_queued_and_parallel_only_on_v2)
{
    char text[8192];
    const char *fmt =
        "{\"name\":\"p\"," ROLE "," STORE ",%s\"stages\":[{\"name\":\"Source\","
        "\"actions\":[" CC_SOURCE "]},{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}]}";
    snprintf(text, sizeof text, fmt, "\"executionMode\":\"QUEUED\",");
    expect(text, ERR_VALIDATION, NULL);
    snprintf(text, sizeof text, fmt, "\"executionMode\":\"PARALLEL\",\"pipelineType\":\"V1\",");
    expect(text, ERR_VALIDATION, NULL);
    snprintf(text, sizeof text, fmt, "\"executionMode\":\"PARALLEL\",\"pipelineType\":\"V2\",");
    expect(text, ERR_NONE, NULL);
}

Test(cp_structure, rejects_more_than_50_actions_in_a_stage)
{
    static char stages[65536];
    size_t o = (size_t)snprintf(stages, sizeof stages,
                                "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                                "{\"name\":\"Approve\",\"actions\":[");
    for (int i = 0; i < 51; i++)
        o += (size_t)snprintf(stages + o, sizeof stages - o,
                              "%s{\"name\":\"A%d\",\"actionTypeId\":{\"category\":\"Approval\","
                              "\"owner\":\"AWS\",\"provider\":\"Manual\",\"version\":\"1\"}}",
                              i ? "," : "", i);
    snprintf(stages + o, sizeof stages - o, "]}");
    char *text = malloc(sizeof stages + 512);
    sprintf(text, "{\"name\":\"p\"," ROLE "," STORE ",\"stages\":[%s]}", stages);
    expect(text, ERR_INVALID_STAGE_DECLARATION,
           "Stage Approve has 51 actions. There should be a maximum of 50 actions in a stage");
    free(text);
}

Test(cp_structure, rejects_run_order_out_of_range)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Approve\",\"actions\":[{\"name\":\"A\",\"runOrder\":1000,"
                    "\"actionTypeId\":{\"category\":\"Approval\",\"owner\":\"AWS\",\"provider\":"
                    "\"Manual\",\"version\":\"1\"}}]}"),
           ERR_VALIDATION, NULL);
}

Test(cp_structure, v2_parameters_make_a_pipeline_v2_unless_it_says_v1)
{
    struct json_object *raw = json_tokener_parse(
        "{\"name\":\"p\",\"variables\":[{\"name\":\"V\",\"defaultValue\":\"d\"}]}");
    struct json_object *n = cp_structure_normalise(raw, 1);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(n, "pipelineType")), "V2");
    json_object_put(raw);
    json_object_put(n);
    raw = json_tokener_parse("{\"name\":\"p\",\"variables\":[]}");
    n = cp_structure_normalise(raw, 1);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(n, "pipelineType")), "V1");
    json_object_put(raw);
    json_object_put(n);
}

Test(cp_structure, source_actions_stay_in_the_pipeline_region)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"name\":\"p\"," ROLE ",\"artifactStores\":{\"us-east-1\":{\"type\":\"S3\","
             "\"location\":\"a\"},\"us-west-2\":{\"type\":\"S3\",\"location\":\"b\"}},"
             "\"stages\":[{\"name\":\"Source\",\"actions\":[{\"name\":\"Src\",\"region\":"
             "\"us-west-2\",\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\","
             "\"provider\":\"CodeCommit\",\"version\":\"1\"},\"configuration\":{"
             "\"RepositoryName\":\"r\",\"BranchName\":\"main\"},\"outputArtifacts\":[{"
             "\"name\":\"SourceOut\"}]}]},{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}]}");
    expect(buf, ERR_INVALID_ACTION_DECLARATION,
           "Source action Src specifies region 'us-west-2'. Source actions must be in the "
           "pipeline's region 'us-east-1'");
}

Test(cp_structure, triggers_need_a_v2_pipeline)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"name\":\"p\"," ROLE "," STORE
             ",\"pipelineType\":\"V1\",\"triggers\":[{\"providerType\":"
             "\"CodeStarSourceConnection\",\"gitConfiguration\":{\"sourceActionName\":\"Src\","
             "\"push\":[{\"tags\":{\"includes\":[\"v*\"]}}]}}],\"stages\":["
             "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
             "{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}]}");
    expect(buf, ERR_INVALID_STRUCTURE, "Triggers on tag can only be used with V2 pipelines");
}

Test(cp_structure, rejects_a_trigger_that_names_no_connection_source)
{
    char text[8192];
    snprintf(
        text, sizeof text,
        "{\"name\":\"p\"," ROLE "," STORE ",\"pipelineType\":\"V2\",\"triggers\":[{"
        "\"providerType\":\"CodeStarSourceConnection\",\"gitConfiguration\":{"
        "\"sourceActionName\":\"Src\"}}],\"stages\":[{\"name\":\"Source\",\"actions\":[" CC_SOURCE
        "]},{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}]}");
    expect(text, ERR_INVALID_STRUCTURE,
           "Triggers for connection must reference a CodeStarSourceConnection action. Note that "
           "when you specify a trigger, you cant specify more than one trigger per source action.");
}

Test(cp_structure, requires_primary_source_with_several_inputs)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE ",{\"name\":\"S2\","
                    "\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":"
                    "\"S3\",\"version\":\"1\"},\"configuration\":{\"S3Bucket\":\"b\","
                    "\"S3ObjectKey\":\"k\"},\"outputArtifacts\":[{\"name\":\"Other\"}]}]},"
                    "{\"name\":\"Build\",\"actions\":[{\"name\":\"B\",\"actionTypeId\":{"
                    "\"category\":\"Build\",\"owner\":\"AWS\",\"provider\":\"CodeBuild\","
                    "\"version\":\"1\"},\"configuration\":{\"ProjectName\":\"p\"},"
                    "\"inputArtifacts\":[{\"name\":\"SourceOut\"},{\"name\":\"Other\"}]}]}"),
           ERR_INVALID_ACTION_DECLARATION, NULL);
}

Test(cp_structure, rejects_more_than_500_actions_in_a_pipeline)
{
    static char stages[400000];
    size_t o = (size_t)snprintf(stages, sizeof stages,
                                "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]}");
    for (int s = 0; s < 11; s++) {
        o += (size_t)snprintf(stages + o, sizeof stages - o, ",{\"name\":\"S%d\",\"actions\":[", s);
        for (int i = 0; i < 46; i++)
            o += (size_t)snprintf(stages + o, sizeof stages - o,
                                  "%s{\"name\":\"A%d\",\"actionTypeId\":{\"category\":\"Approval\","
                                  "\"owner\":\"AWS\",\"provider\":\"Manual\",\"version\":\"1\"}}",
                                  i ? "," : "", i);
        o += (size_t)snprintf(stages + o, sizeof stages - o, "]}");
    }
    char *text = malloc(o + 512);
    sprintf(text, "{\"name\":\"p\"," ROLE "," STORE ",\"stages\":[%s]}", stages);
    expect(text, ERR_INVALID_STRUCTURE,
           "Pipeline has 507 actions. There should be a maximum of 500 actions in a pipeline");
    free(text);
}

Test(cp_structure, keeps_v2_fields_when_normalising)
{
    struct json_object *raw = json_tokener_parse(
        "{\"name\":\"p\",\"pipelineType\":\"V2\",\"executionMode\":\"PARALLEL\",\"variables\":[{"
        "\"name\":\"V\",\"defaultValue\":\"d\"}],\"triggers\":[],\"stages\":[{\"name\":\"S\","
        "\"onFailure\":{\"result\":\"RETRY\"},\"beforeEntry\":{\"conditions\":[]},\"actions\":[]}]"
        "}");
    struct json_object *n = cp_structure_normalise(raw, 1);
    const char *s = json_object_to_json_string_ext(n, JSON_C_TO_STRING_PLAIN);
    cr_assert_str_eq(s, "{\"name\":\"p\",\"stages\":[{\"name\":\"S\",\"actions\":[],\"onFailure\":{"
                        "\"result\":\"RETRY\"},\"beforeEntry\":{\"conditions\":[]}}],\"version\":1,"
                        "\"executionMode\":\"PARALLEL\",\"pipelineType\":\"V2\",\"variables\":[{"
                        "\"name\":\"V\",\"defaultValue\":\"d\"}],\"triggers\":[]}");
    json_object_put(raw);
    json_object_put(n);
}

Test(cp_structure, refuses_commands_outside_compute_actions)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Build\",\"actions\":[{\"name\":\"B\",\"commands\":[\"make\"],"
                    "\"actionTypeId\":{\"category\":\"Build\",\"owner\":\"AWS\",\"provider\":"
                    "\"CodeBuild\",\"version\":\"1\"},\"configuration\":{\"ProjectName\":\"p\"},"
                    "\"inputArtifacts\":[{\"name\":\"SourceOut\"}]}]}"),
           ERR_INVALID_ACTION_DECLARATION,
           "The following action cannot contain a commands field: B. To use the commands field, "
           "use a compute action.");
    expect(pipeline("{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
                    "{\"name\":\"Build\",\"actions\":[{\"name\":\"C\",\"commands\":[\"make\"],"
                    "\"actionTypeId\":{\"category\":\"Compute\",\"owner\":\"AWS\",\"provider\":"
                    "\"Commands\",\"version\":\"1\"},\"inputArtifacts\":[{\"name\":\"SourceOut\"}],"
                    "\"outputArtifacts\":[{\"name\":\"Out\",\"files\":[\"dist/**\"]}]}]}"),
           ERR_NONE, NULL);
    expect(pipeline(
               "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},"
               "{\"name\":\"Build\",\"actions\":[{\"name\":\"C\",\"commands\":[],"
               "\"actionTypeId\":{\"category\":\"Compute\",\"owner\":\"AWS\",\"provider\":"
               "\"Commands\",\"version\":\"1\"},\"inputArtifacts\":[{\"name\":\"SourceOut\"}]}]}"),
           ERR_INVALID_ACTION_DECLARATION, "Action C must have a non-empty commands field");
}

Test(cp_structure, clone_ref_artifacts_go_only_to_codebuild)
{
    const char *fmt =
        "{\"name\":\"Source\",\"actions\":[{\"name\":\"S\",\"actionTypeId\":{\"category\":"
        "\"Source\",\"owner\":\"AWS\",\"provider\":\"CodeCommit\",\"version\":\"1\"},"
        "\"configuration\":{\"RepositoryName\":\"r\",\"BranchName\":\"main\","
        "\"OutputArtifactFormat\":\"%s\"},\"outputArtifacts\":[{\"name\":\"SourceOut\"}]}]},"
        "{\"name\":\"Deploy\",\"actions\":[{\"name\":\"D\",\"actionTypeId\":{\"category\":"
        "\"Deploy\",\"owner\":\"AWS\",\"provider\":\"CodeDeploy\",\"version\":\"1\"},"
        "\"configuration\":{\"ApplicationName\":\"a\",\"DeploymentGroupName\":\"g\"},"
        "\"inputArtifacts\":[{\"name\":\"SourceOut\"}]}]}";
    char stages[4096];
    snprintf(stages, sizeof stages, fmt, "CODEBUILD_CLONE_REF");
    expect(pipeline(stages), ERR_INVALID_ACTION_DECLARATION, NULL);
    snprintf(stages, sizeof stages, fmt, "CODE_ZIP");
    expect(pipeline(stages), ERR_NONE, NULL);
    snprintf(stages, sizeof stages, fmt, "TARBALL");
    expect(pipeline(stages), ERR_INVALID_ACTION_DECLARATION, NULL);
}

Test(cp_structure, boolean_configuration_values_are_true_or_false)
{
    expect(pipeline("{\"name\":\"Source\",\"actions\":[{\"name\":\"S\",\"actionTypeId\":{"
                    "\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":\"S3\",\"version\":"
                    "\"1\"},\"configuration\":{\"S3Bucket\":\"b\",\"S3ObjectKey\":\"k\","
                    "\"PollForSourceChanges\":\"sometimes\"},\"outputArtifacts\":[{\"name\":"
                    "\"SourceOut\"}]}]},{\"name\":\"Build\",\"actions\":[" CB_BUILD "]}"),
           ERR_INVALID_ACTION_DECLARATION,
           "Action configuration for action 'S' has an invalid value for "
           "'PollForSourceChanges'. Valid values are true and false");
}

#define CONN_SOURCE                                                                                \
    "{\"name\":\"Src\",\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":"  \
    "\"CodeStarSourceConnection\",\"version\":\"1\"},\"configuration\":{\"ConnectionArn\":"        \
    "\"arn:aws:codeconnections:us-east-1:000000000000:connection/x\",\"FullRepositoryId\":"        \
    "\"acme/app\",\"BranchName\":\"main\"},\"outputArtifacts\":[{\"name\":\"SourceOut\"}]}"

static char *v2_with_trigger(const char *git_configuration)
{
    static char text[8192];
    snprintf(text, sizeof text,
             "{\"name\":\"p\"," ROLE "," STORE ",\"pipelineType\":\"V2\",\"triggers\":[{"
             "\"providerType\":\"CodeStarSourceConnection\",\"gitConfiguration\":%s}],"
             "\"stages\":[{\"name\":\"Source\",\"actions\":[" CONN_SOURCE "]},{\"name\":\"Build\","
             "\"actions\":[" CB_BUILD "]}]}",
             git_configuration);
    return text;
}

Test(cp_structure, accepts_tag_and_branch_triggers_on_a_connection_source)
{
    expect(v2_with_trigger("{\"sourceActionName\":\"Src\",\"push\":[{\"tags\":{\"includes\":"
                           "[\"v*\"]}},{\"branches\":{\"includes\":[\"main\"]},\"filePaths\":"
                           "{\"includes\":[\"src/**\"]}}]}"),
           ERR_NONE, NULL);
}

Test(cp_structure, rejects_tags_and_branches_in_one_push_filter)
{
    expect(v2_with_trigger("{\"sourceActionName\":\"Src\",\"push\":[{\"tags\":{\"includes\":"
                           "[\"v*\"]},\"branches\":{\"includes\":[\"main\"]}}]}"),
           ERR_INVALID_STRUCTURE,
           "The trigger configuration for the source action is not valid. Make sure to choose "
           "valid filter combinations.");
}

#define BUILD_WITH(cond)                                                                           \
    "{\"name\":\"Source\",\"actions\":[" CC_SOURCE "]},{\"name\":\"Build\",\"actions\":[" CB_BUILD \
    "]," cond "}"
#define VARCHECK(op)                                                                               \
    "{\"name\":\"V\",\"ruleTypeId\":{\"category\":\"Rule\",\"owner\":\"AWS\",\"provider\":"        \
    "\"VariableCheck\",\"version\":\"1\"},\"configuration\":{\"Variable\":\"a\",\"Value\":\"b\","  \
    "\"Operator\":\"" op "\"}}"

Test(cp_structure, accepts_conditions_with_the_results_each_kind_allows)
{
    expect(pipeline(BUILD_WITH(
               "\"beforeEntry\":{\"conditions\":[{\"result\":\"SKIP\",\"rules\":[" VARCHECK(
                   "EQ") "]}]},\"onSuccess\":{\"conditions\":[{\"result\":\"ROLLBACK\",\"rules\":"
                         "[" VARCHECK("NE") "]}]}")),
           ERR_NONE, NULL);
}

Test(cp_structure, rejects_a_result_its_condition_kind_does_not_allow)
{
    expect(pipeline(BUILD_WITH(
               "\"beforeEntry\":{\"conditions\":[{\"result\":\"RETRY\",\"rules\":[" VARCHECK(
                   "EQ") "]}]}")),
           ERR_INVALID_STAGE_DECLARATION,
           "Result RETRY is not supported for beforeEntry conditions in stage Build");
}

Test(cp_structure, rejects_rules_of_unknown_types_and_bad_configuration)
{
    expect(pipeline(BUILD_WITH(
               "\"beforeEntry\":{\"conditions\":[{\"result\":\"FAIL\",\"rules\":[" VARCHECK(
                   "LIKE") "]}]}")),
           ERR_INVALID_STAGE_DECLARATION,
           "Rule V in stage Build: Unsupported operator LIKE: use EQ, NE, CONTAINS or MATCHES");
    expect(pipeline(BUILD_WITH(
               "\"beforeEntry\":{\"conditions\":[{\"result\":\"FAIL\",\"rules\":[{\"name\":\"W\","
               "\"ruleTypeId\":{\"category\":\"Rule\",\"owner\":\"AWS\",\"provider\":"
               "\"DeploymentWindow\",\"version\":\"1\"},\"configuration\":{\"Cron\":\"* * 9-17 ? "
               "* MON-FRI *\",\"Extra\":\"x\"}}]}]}")),
           ERR_INVALID_STAGE_DECLARATION,
           "Rule W in stage Build has unknown configuration property Extra for rule provider "
           "DeploymentWindow");
    expect(pipeline(BUILD_WITH(
               "\"onSuccess\":{\"conditions\":[{\"result\":\"ROLLBACK\",\"rules\":[{\"name\":\"X\","
               "\"ruleTypeId\":{\"category\":\"Rule\",\"owner\":\"AWS\",\"provider\":\"Nope\","
               "\"version\":\"1\"},\"configuration\":\"notamap\"}]}]}")),
           ERR_INVALID_STAGE_DECLARATION,
           "Rule X in stage Build has an invalid rule type: category=Rule, owner=AWS, "
           "provider=Nope, version=1");
}

Test(cp_structure, stage_conditions_make_a_pipeline_v2)
{
    struct json_object *raw = json_tokener_parse(pipeline(
        BUILD_WITH("\"beforeEntry\":{\"conditions\":[{\"result\":\"FAIL\",\"rules\":[" VARCHECK(
            "EQ") "]}]}")));
    struct json_object *n = cp_structure_normalise(raw, 1), *t = NULL;
    cr_assert(json_object_object_get_ex(n, "pipelineType", &t));
    cr_assert_str_eq(json_object_get_string(t), "V2");
    json_object_put(raw);
    json_object_put(n);
}
