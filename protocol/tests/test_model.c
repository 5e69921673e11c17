/* Validation against the generated codepipeline, codecommit and s3 tables: AWS's codes and
 * messages. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "protocol/model.h"

static struct proto_req g_req;

static void setup(void)
{
    cr_assert_eq(proto_model_init(), 0);
    memset(&g_req, 0, sizeof(g_req));
    g_req.arena = proto_arena_new();
}

static void teardown(void)
{
    proto_arena_free(g_req.arena);
}

TestSuite(proto_model, .init = setup, .fini = teardown);

/* Validates body against svc's op; returns the result code. */
static int run(const struct proto_model_service *svc, const char *op, const char *body)
{
    const struct proto_model_op *o = proto_model_find_op(svc, op);
    cr_assert_not_null(o, "no operation %s", op);
    struct json_object *in = json_tokener_parse(body);
    cr_assert_not_null(in, "test body does not parse: %s", body);
    g_req.err = ERR_NONE;
    g_req.err_message = NULL;
    int rc = proto_model_validate(&g_req, o, in);
    json_object_put(in);
    return rc;
}

static void expect_ok(const struct proto_model_service *svc, const char *op, const char *body)
{
    int rc = run(svc, op, body);
    cr_assert_eq(rc, 0, "%s: unexpected %s", body, g_req.err_message ? g_req.err_message : "");
}

static void expect_validation(const struct proto_model_service *svc, const char *op,
                              const char *body, const char *msg)
{
    cr_assert_eq(run(svc, op, body), -ERR_VALIDATION, "%s", body);
    cr_assert_eq(g_req.err, ERR_VALIDATION);
    cr_assert_str_eq(g_req.err_message, msg);
}

static void expect_serialization(const struct proto_model_service *svc, const char *op,
                                 const char *body)
{
    cr_assert_eq(run(svc, op, body), -ERR_SERIALIZATION, "%s -> %s", body,
                 g_req.err_message ? g_req.err_message : "(no error)");
    cr_assert_eq(g_req.err, ERR_SERIALIZATION);
}

#define STAGE_OK                                                                                   \
    "{\"name\":\"Source\",\"actions\":[{\"name\":\"Src\",\"actionTypeId\":{\"category\":"          \
    "\"Source\","                                                                                  \
    "\"owner\":\"AWS\",\"provider\":\"S3\",\"version\":\"1\"},\"runOrder\":1,\"configuration\":"   \
    "{\"S3Bucket\":\"b\"}}]}"
#define ROLE "\"roleArn\":\"arn:aws:iam::000000000000:role/cp\""

Test(proto_model, finds_operations_and_rejects_unknown_ones)
{
    cr_assert_not_null(proto_model_find_op(&proto_model_codepipeline, "CreatePipeline"));
    cr_assert_not_null(proto_model_find_op(&proto_model_codepipeline, "UpdateActionType"));
    cr_assert_not_null(proto_model_find_op(&proto_model_codecommit, "CreateRepository"));
    cr_assert_not_null(proto_model_find_op(&proto_model_codebuild, "StartBuild"));
    cr_assert_not_null(proto_model_find_op(&proto_model_codedeploy, "CreateDeployment"));
    cr_assert_not_null(proto_model_find_op(&proto_model_s3, "PutObject"));
    cr_assert_null(proto_model_find_op(&proto_model_codepipeline, "CreatePipelines"));
    cr_assert_null(proto_model_find_op(&proto_model_codepipeline, ""));
}

Test(proto_model, accepts_a_valid_pipeline_and_ignores_unknown_members)
{
    expect_ok(&proto_model_codepipeline, "CreatePipeline",
              "{\"pipeline\":{\"name\":\"my-pipe.1@x_y\"," ROLE ",\"stages\":[" STAGE_OK "],"
              "\"version\":1,\"unknownThing\":[1,2,{}]},\"tags\":[{\"key\":\"k\",\"value\":\"\"}],"
              "\"extra\":true}");
    expect_ok(&proto_model_codepipeline, "ListPipelines", "{}");
}

Test(proto_model, required_missing_and_null_give_not_null_messages)
{
    expect_validation(&proto_model_codepipeline, "CreatePipeline", "{}",
                      "1 validation error detected: Value null at 'pipeline' failed to satisfy "
                      "constraint: Member must not be null");
    expect_validation(&proto_model_codepipeline, "GetPipeline", "{\"name\":null}",
                      "1 validation error detected: Value null at 'name' failed to satisfy "
                      "constraint: Member must not be null");
    expect_validation(&proto_model_codepipeline, "CreatePipeline",
                      "{\"pipeline\":{\"name\":\"p\"," ROLE "}}",
                      "1 validation error detected: Value null at 'pipeline.stages' failed to "
                      "satisfy constraint: Member must not be null");
}

Test(proto_model, pattern_violation_quotes_value_and_java_pattern)
{
    expect_validation(&proto_model_codepipeline, "GetPipeline", "{\"name\":\"bad name!\"}",
                      "1 validation error detected: Value 'bad name!' at 'name' failed to satisfy "
                      "constraint: Member must satisfy regular expression pattern: "
                      "[A-Za-z0-9.@\\-_]+");
    /* The whole value must match, not a prefix or a substring. */
    expect_validation(&proto_model_codepipeline, "GetPipeline", "{\"name\":\"ok\\nx\"}",
                      "1 validation error detected: Value 'ok\nx' at 'name' failed to satisfy "
                      "constraint: Member must satisfy regular expression pattern: "
                      "[A-Za-z0-9.@\\-_]+");
    expect_validation(
        &proto_model_codepipeline, "CreatePipeline",
        "{\"pipeline\":{\"name\":\"p\",\"roleArn\":\"xarn:aws:iam::000000000000:role/r\","
        "\"stages\":[" STAGE_OK "]}}",
        "1 validation error detected: Value 'xarn:aws:iam::000000000000:role/r' at "
        "'pipeline.roleArn' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: arn:aws(-[\\w]+)*:iam::[0-9]{12}:role/.*");
    expect_ok(&proto_model_codepipeline, "CreatePipeline",
              "{\"pipeline\":{\"name\":\"p\",\"roleArn\":\"arn:aws-cn:iam::000000000000:role/r\","
              "\"stages\":[" STAGE_OK "]}}");
}

Test(proto_model, java_classes_are_ascii_but_unicode_properties_work)
{
    /* codecommit's [\w\.-]+: Java's \w is ASCII. */
    expect_validation(
        &proto_model_codecommit, "CreateRepository", "{\"repositoryName\":\"r\xc3\xa9po\"}",
        "1 validation error detected: Value 'r\xc3\xa9po' at 'repositoryName' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [\\w\\.-]+");
    expect_ok(&proto_model_codecommit, "CreateRepository", "{\"repositoryName\":\"my_repo.v-2\"}");
    /* codebuild's tag values: ^([\p{L}\p{Z}\p{N}_.:/=@+\-]*)$ accepts any letter. */
    expect_ok(
        &proto_model_codebuild, "CreateProject",
        "{\"name\":\"proj\",\"source\":{\"type\":\"NO_SOURCE\"},\"artifacts\":{\"type\":"
        "\"NO_ARTIFACTS\"},\"environment\":{\"type\":\"LINUX_CONTAINER\",\"image\":\"i\","
        "\"computeType\":\"BUILD_GENERAL1_SMALL\"},\"serviceRole\":\"arn:aws:iam::1:role/r\","
        "\"tags\":[{\"key\":\"\xc3\xa9t\xc3\xa9\",\"value\":\"\xe6\x97\xa5\xe6\x9c\xac 1\"}]}");
}

Test(proto_model, string_length_counts_characters_not_bytes)
{
    char body[400];
    char name[220] = "";
    for (int i = 0; i < 100; i++)
        strcat(name, "a");
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    expect_ok(&proto_model_codepipeline, "GetPipeline", body);
    snprintf(body, sizeof(body), "{\"name\":\"%sa\"}", name);
    char msg[600];
    snprintf(msg, sizeof(msg),
             "1 validation error detected: Value '%sa' at 'name' failed to satisfy constraint: "
             "Member must have length less than or equal to 100",
             name);
    expect_validation(&proto_model_codepipeline, "GetPipeline", body, msg);
    expect_validation(&proto_model_codepipeline, "GetPipeline", "{\"name\":\"\"}",
                      "2 validation errors detected: Value '' at 'name' failed to satisfy "
                      "constraint: Member must have length greater than or equal to 1; Value '' at "
                      "'name' failed to satisfy constraint: Member must satisfy regular expression "
                      "pattern: [A-Za-z0-9.@\\-_]+");
    /* 1000 two-byte characters: 2000 bytes, but 1000 characters is within the description's max. */
    char desc[2001] = "";
    for (int i = 0; i < 1000; i++)
        strcat(desc, "\xc3\xa9");
    char body2[2100];
    snprintf(body2, sizeof(body2), "{\"repositoryName\":\"r\",\"repositoryDescription\":\"%s\"}",
             desc);
    expect_ok(&proto_model_codecommit, "CreateRepository", body2);
    /* Characters outside the BMP count twice, as Java's String.length() does: 129 emoji = 258 >
     * 256. */
    char emoji[129 * 4 + 1] = "";
    for (int i = 0; i < 129; i++)
        strcat(emoji, "\xf0\x9f\x98\x80");
    snprintf(body2, sizeof(body2), "{\"repositoryName\":\"r\",\"tags\":{\"k\":\"%s\"}}", emoji);
    cr_assert_eq(run(&proto_model_codecommit, "CreateRepository", body2), -ERR_VALIDATION);
    cr_assert(strstr(g_req.err_message, "' at 'tags' failed to satisfy constraint: Map value must "
                                        "satisfy constraint: [Member must have length less than or "
                                        "equal to 256, Member must have length greater than or "
                                        "equal to 0]") != NULL,
              "%s", g_req.err_message);
    snprintf(body2, sizeof(body2), "{\"repositoryName\":\"r\",\"tags\":{\"k\":\"%.512s\"}}", emoji);
    /* 128 emoji = 256 units: allowed */
    expect_ok(&proto_model_codecommit, "CreateRepository", body2);
}

Test(proto_model, number_ranges_quote_the_value)
{
    expect_validation(&proto_model_codepipeline, "ListPipelines", "{\"maxResults\":0}",
                      "1 validation error detected: Value '0' at 'maxResults' failed to satisfy "
                      "constraint: Member must have value greater than or equal to 1");
    expect_validation(&proto_model_codepipeline, "ListPipelines", "{\"maxResults\":1001}",
                      "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy "
                      "constraint: Member must have value less than or equal to 1000");
    expect_ok(&proto_model_codepipeline, "ListPipelines", "{\"maxResults\":1000}");
}

Test(proto_model, enum_lists_the_allowed_values)
{
    expect_validation(
        &proto_model_codepipeline, "CreatePipeline",
        "{\"pipeline\":{\"name\":\"p\"," ROLE ",\"stages\":[{\"name\":\"S\",\"actions\":[{\"name\":"
        "\"A\",\"actionTypeId\":{\"category\":\"Bogus\",\"owner\":\"AWS\",\"provider\":\"S3\","
        "\"version\":\"1\"}}]}]}}",
        "1 validation error detected: Value 'Bogus' at "
        "'pipeline.stages.1.member.actions.1.member.actionTypeId.category' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Source, Build, Deploy, Test, Invoke, "
        "Approval, Compute]");
}

Test(proto_model, nested_list_paths_are_one_based_and_errors_are_counted)
{
    expect_validation(
        &proto_model_codepipeline, "CreatePipeline",
        "{\"pipeline\":{\"name\":\"p p\"," ROLE ",\"stages\":[" STAGE_OK ",{\"name\":\"Build\","
        "\"actions\":["
        "{\"name\":\"ok\",\"actionTypeId\":{\"category\":\"Build\",\"owner\":\"AWS\","
        "\"provider\":\"CodeBuild\",\"version\":\"1\"}},{\"name\":\"b/d\",\"runOrder\":1000,"
        "\"actionTypeId\":{\"category\":\"Build\",\"owner\":\"AWS\",\"provider\":\"CodeBuild\","
        "\"version\":\"1\"}}]}]},\"tags\":[{\"key\":\"\"}]}",
        "5 validation errors detected: "
        "Value 'p p' at 'pipeline.name' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: [A-Za-z0-9.@\\-_]+; "
        "Value 'b/d' at 'pipeline.stages.2.member.actions.2.member.name' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [A-Za-z0-9.@\\-_]+; "
        "Value '1000' at 'pipeline.stages.2.member.actions.2.member.runOrder' failed to satisfy "
        "constraint: Member must have value less than or equal to 999; "
        "Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length "
        "greater than or equal to 1; "
        "Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be "
        "null");
}

Test(proto_model, map_values_report_the_value_shape_constraints)
{
    expect_validation(
        &proto_model_codepipeline, "CreatePipeline",
        "{\"pipeline\":{\"name\":\"p\"," ROLE ",\"stages\":[{\"name\":\"S\",\"actions\":[{\"name\":"
        "\"A\",\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":\"S3\","
        "\"version\":\"1\"},\"configuration\":{\"S3Bucket\":\"\"}}]}]}}",
        "1 validation error detected: Value '{S3Bucket=}' at "
        "'pipeline.stages.1.member.actions.1.member.configuration' failed to satisfy constraint: "
        "Map value must satisfy constraint: [Member must have length less than or equal to 1000, "
        "Member must have length greater than or equal to 1]");
    expect_validation(&proto_model_codecommit, "CreateRepository",
                      "{\"repositoryName\":\"r\",\"tags\":{\"\":\"v\"}}",
                      "1 validation error detected: Value '{=v}' at 'tags' failed to satisfy "
                      "constraint: Map keys must satisfy constraint: [Member must have length less "
                      "than or equal to 128, Member must have length greater than or equal to 1]");
}

Test(proto_model, list_length_constraints_render_the_list)
{
    /* codebuild BatchGetBuilds ids: min 1, max 100. */
    expect_validation(&proto_model_codebuild, "BatchGetBuilds", "{\"ids\":[]}",
                      "1 validation error detected: Value '[]' at 'ids' failed to satisfy "
                      "constraint: Member must have length greater than or equal to 1");
}

Test(proto_model, huge_integers_are_serialization_errors)
{
    expect_serialization(&proto_model_codepipeline, "ListPipelines",
                         "{\"maxResults\":99999999999999999999999}");
    cr_assert_str_eq(
        g_req.err_message,
        "Cannot deserialize the value at 'maxResults': number out of range for an integer");
    /* A timestamp beyond double range (json-c reads 1e400 as infinity). */
    expect_serialization(&proto_model_codedeploy, "ListDeployments",
                         "{\"createTimeRange\":{\"start\":1e400}}");
    expect_serialization(&proto_model_codepipeline, "ListPipelines", "{\"maxResults\":2147483648}");
    expect_serialization(&proto_model_codepipeline, "ListPipelines",
                         "{\"maxResults\":-99999999999999999999}");
    expect_serialization(&proto_model_codepipeline, "ListPipelines", "{\"maxResults\":1.5}");
    expect_validation(&proto_model_codepipeline, "ListPipelines", "{\"maxResults\":-2147483648}",
                      "1 validation error detected: Value '-2147483648' at 'maxResults' failed to "
                      "satisfy constraint: Member must have value greater than or equal to 1");
}

Test(proto_model, wrong_json_types_are_serialization_errors)
{
    expect_serialization(&proto_model_codepipeline, "CreatePipeline", "{\"pipeline\":\"p\"}");
    cr_assert_str_eq(g_req.err_message, "Cannot deserialize the value at 'pipeline': expected a "
                                        "structure, got a string");
    expect_serialization(&proto_model_codepipeline, "GetPipeline", "{\"name\":5}");
    expect_serialization(&proto_model_codepipeline, "CreatePipeline",
                         "{\"pipeline\":{\"name\":\"p\"," ROLE ",\"stages\":{}}}");
    expect_serialization(&proto_model_codepipeline, "ListPipelines", "{\"maxResults\":\"5\"}");
    expect_serialization(&proto_model_codecommit, "CreateRepository",
                         "{\"repositoryName\":\"r\",\"tags\":[]}");
    /* A type error wins over constraint violations found before it. */
    expect_serialization(&proto_model_codepipeline, "CreatePipeline",
                         "{\"pipeline\":{\"name\":\"\"," ROLE ",\"stages\":[],\"version\":true}}");
}

Test(proto_model, blobs_must_be_base64_and_timestamps_numbers)
{
    expect_ok(&proto_model_codecommit, "PutFile",
              "{\"repositoryName\":\"r\",\"branchName\":\"main\",\"fileContent\":\"aGVsbG8=\","
              "\"filePath\":\"a.txt\"}");
    expect_serialization(
        &proto_model_codecommit, "PutFile",
        "{\"repositoryName\":\"r\",\"branchName\":\"main\",\"fileContent\":\"***\","
        "\"filePath\":\"a.txt\"}");
    expect_serialization(
        &proto_model_codecommit, "PutFile",
        "{\"repositoryName\":\"r\",\"branchName\":\"main\",\"fileContent\":\"aGVsb\","
        "\"filePath\":\"a.txt\"}");
    /* codedeploy ListDeployments createTimeRange.start is a timestamp. */
    expect_ok(&proto_model_codedeploy, "ListDeployments",
              "{\"createTimeRange\":{\"start\":1700000000.5,\"end\":1700000001}}");
    expect_serialization(&proto_model_codedeploy, "ListDeployments",
                         "{\"createTimeRange\":{\"start\":\"yesterday\"}}");
    cr_assert_str_eq(g_req.err_message, "Cannot deserialize the value at 'createTimeRange.start': "
                                        "'yesterday' is not a timestamp (epoch seconds expected)");
}

Test(proto_model, s3_tables_check_required_members)
{
    expect_validation(&proto_model_s3, "GetObject", "{}",
                      "2 validation errors detected: Value null at 'Bucket' failed to satisfy "
                      "constraint: Member must not be null; Value null at 'Key' failed to satisfy "
                      "constraint: Member must not be null");
    expect_ok(&proto_model_s3, "GetObject", "{\"Bucket\":\"b\",\"Key\":\"k\"}");
    expect_validation(&proto_model_s3, "GetObject", "{\"Bucket\":\"b\",\"Key\":\"\"}",
                      "1 validation error detected: Value '' at 'Key' failed to satisfy "
                      "constraint: Member must have length greater than or equal to 1");
}

Test(proto_model, recursive_and_deep_input_is_bounded)
{
    /* Nested lists where a structure is expected: a serialization error, not a crash. */
    struct proto_sb sb = PROTO_SB_INIT;
    proto_sb_puts(&sb, "{\"pipeline\":");
    for (int i = 0; i < 25; i++)
        proto_sb_puts(&sb, "[");
    for (int i = 0; i < 25; i++)
        proto_sb_puts(&sb, "]");
    proto_sb_puts(&sb, "}");
    expect_serialization(&proto_model_codepipeline, "CreatePipeline", sb.buf);
    proto_sb_free(&sb);
}

Test(proto_model, many_errors_are_all_counted_and_the_first_hundred_listed)
{
    char key[130];
    memset(key, 'k', 129);
    key[129] = '\0';
    struct proto_sb sb = PROTO_SB_INIT;
    proto_sb_puts(&sb,
                  "{\"pipeline\":{\"name\":\"p\"," ROLE ",\"stages\":[" STAGE_OK "]},\"tags\":[");
    for (int i = 0; i < 150; i++)
        proto_sb_printf(&sb, "%s{\"key\":\"%s\",\"value\":\"v\"}", i ? "," : "", key);
    proto_sb_puts(&sb, "]}");
    cr_assert_eq(run(&proto_model_codepipeline, "CreatePipeline", sb.buf), -ERR_VALIDATION);
    cr_assert(strncmp(g_req.err_message, "150 validation errors detected: Value 'kkk", 42) == 0,
              "%s", g_req.err_message);
    char last[300];
    snprintf(last, sizeof(last),
             "; Value '%s' at 'tags.100.member.key' failed to satisfy constraint: Member must have "
             "length less than or equal to 128",
             key);
    const char *end = g_req.err_message + strlen(g_req.err_message) - strlen(last);
    cr_assert_str_eq(end, last);
    proto_sb_free(&sb);
}

Test(proto_model, structured_map_values_are_checked_at_map_dot_key)
{
    expect_validation(
        &proto_model_codepipeline, "CreatePipeline",
        "{\"pipeline\":{\"name\":\"p\"," ROLE ",\"stages\":[" STAGE_OK "],"
        "\"artifactStores\":{\"us-east-1\":{\"type\":\"S3\"},\"eu\":{\"type\":\"S3\","
        "\"location\":\"bkt\"}}}}",
        "2 validation errors detected: Value null at "
        "'pipeline.artifactStores.us-east-1.location' failed to satisfy constraint: "
        "Member must not be null; Value '{us-east-1={type=S3}, eu={type=S3, location=bkt}}' "
        "at 'pipeline.artifactStores' failed to satisfy constraint: Map keys must "
        "satisfy constraint: [Member must have length less than or equal to 30, Member "
        "must have length greater than or equal to 4]");
}

Test(proto_model, sensitive_values_are_not_echoed)
{
    expect_validation(&proto_model_codebuild, "ImportSourceCredentials",
                      "{\"token\":\"\",\"serverType\":\"GITHUB\",\"authType\":\"OAUTH\"}",
                      "1 validation error detected: Value at 'token' failed to satisfy constraint: "
                      "Member must have length greater than or equal to 1");
    expect_validation(&proto_model_codebuild, "ImportSourceCredentials",
                      "{\"token\":\"t\",\"serverType\":\"SVN\",\"authType\":\"OAUTH\"}",
                      "1 validation error detected: Value 'SVN' at 'serverType' failed to satisfy "
                      "constraint: Member must satisfy enum value set: [GITHUB, BITBUCKET, "
                      "GITHUB_ENTERPRISE, GITLAB, GITLAB_SELF_MANAGED]");
}

Test(proto_model, invalid_utf8_in_an_echoed_value_becomes_replacement_characters)
{
    expect_validation(&proto_model_codepipeline, "GetPipeline",
                      "{\"name\":\"a\xff"
                      "b\"}",
                      "1 validation error detected: Value 'a\xef\xbf\xbd"
                      "b' at 'name' failed to "
                      "satisfy constraint: Member must satisfy regular expression pattern: "
                      "[A-Za-z0-9.@\\-_]+");
}

Test(proto_model, null_structure_members_are_removed_as_absent_before_handlers_run)
{
    const struct proto_model_op *o =
        proto_model_find_op(&proto_model_codepipeline, "ListPipelines");
    struct json_object *in = json_tokener_parse("{\"nextToken\":null,\"maxResults\":null}");
    cr_assert_eq(proto_model_validate(&g_req, o, in), 0, "%s", g_req.err_message);
    cr_assert_eq(json_object_object_length(in), 0);
    json_object_put(in);

    /* nested structures and unknown members too */
    o = proto_model_find_op(&proto_model_codepipeline, "CreatePipeline");
    in = json_tokener_parse("{\"pipeline\":{\"name\":\"p\"," ROLE ",\"version\":null,"
                            "\"stages\":[" STAGE_OK ",{\"name\":\"B\",\"blockers\":null,"
                            "\"actions\":[{\"name\":\"A\",\"region\":null,\"actionTypeId\":{"
                            "\"category\":\"Build\",\"owner\":\"AWS\",\"provider\":\"CodeBuild\","
                            "\"version\":\"1\"},\"inputArtifacts\":null}]}]},\"x\":null}");
    cr_assert_not_null(in);
    cr_assert_eq(proto_model_validate(&g_req, o, in), 0, "%s", g_req.err_message);
    const char *s = json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN);
    cr_assert_null(strstr(s, "null"), "%s", s);
    json_object_put(in);
}

Test(proto_model, null_list_members_and_map_values_are_refused)
{
    expect_validation(&proto_model_codecommit, "UntagResource",
                      "{\"resourceArn\":\"arn:aws:codecommit:us-east-1:000000000000:r\","
                      "\"tagKeys\":[\"a\",null]}",
                      "1 validation error detected: Value null at 'tagKeys.2.member' failed to "
                      "satisfy constraint: Member must not be null");
    expect_validation(&proto_model_codecommit, "TagResource",
                      "{\"resourceArn\":\"arn:aws:codecommit:us-east-1:000000000000:r\","
                      "\"tags\":{\"k\":null}}",
                      "1 validation error detected: Value null at 'tags.k' failed to satisfy "
                      "constraint: Member must not be null");
    /* aggregated with the other violations of the same request */
    expect_validation(
        &proto_model_codepipeline, "CreatePipeline",
        "{\"pipeline\":{\"name\":\"p\"," ROLE ",\"stages\":[{\"name\":\"S\",\"actions\":[{\"name\":"
        "\"A\",\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":\"S3\","
        "\"version\":\"1\"},\"outputArtifacts\":[null]}]},null]}}",
        "2 validation errors detected: Value null at "
        "'pipeline.stages.1.member.actions.1.member.outputArtifacts.1.member' failed to satisfy "
        "constraint: Member must not be null; Value null at 'pipeline.stages.2.member' failed to "
        "satisfy constraint: Member must not be null");
}

Test(proto_model, a_null_character_in_a_string_is_refused_not_cut)
{
    /* where the pattern refuses it, AWS's pattern message */
    expect_validation(&proto_model_codepipeline, "GetPipeline", "{\"name\":\"ab\\u0000c\"}",
                      "1 validation error detected: Value 'ab\\u0000c' at 'name' failed to "
                      "satisfy constraint: Member must satisfy regular expression pattern: "
                      "[A-Za-z0-9.@\\-_]+");
    /* an enum value followed by a NUL is not the enum value */
    expect_validation(
        &proto_model_codepipeline, "CreatePipeline",
        "{\"pipeline\":{\"name\":\"p\"," ROLE ",\"stages\":[{\"name\":\"S\",\"actions\":[{\"name\":"
        "\"A\",\"actionTypeId\":{\"category\":\"Source\\u0000\",\"owner\":\"AWS\",\"provider\":"
        "\"S3\",\"version\":\"1\"}}]}]}}",
        "1 validation error detected: Value 'Source\\u0000' at "
        "'pipeline.stages.1.member.actions.1.member.actionTypeId.category' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Source, Build, Deploy, Test, Invoke, "
        "Approval, Compute]");
    /* where no constraint would, it is refused rather than stored cut short */
    expect_validation(&proto_model_codecommit, "CreateRepository",
                      "{\"repositoryName\":\"r\",\"repositoryDescription\":\"one\\u0000two\"}",
                      "1 validation error detected: Value 'one\\u0000two' at "
                      "'repositoryDescription' failed to satisfy constraint: Member must not "
                      "contain the null character");
    expect_ok(&proto_model_codecommit, "CreateRepository",
              "{\"repositoryName\":\"r\",\"repositoryDescription\":\"one\\\\u0000two\"}");
}
