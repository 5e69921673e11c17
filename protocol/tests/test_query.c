/* Unit tests of awsQuery: form decoding, the model-driven input builder, XML answers, dispatch
 * and the error document. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "protocol/model.h"
#include "protocol/query.h"
#include "protocol/service.h"

static struct proto_req *new_req(const char *method, const char *body, const char *query)
{
    static struct proto_req req;
    memset(&req, 0, sizeof(req));
    req.arena = proto_arena_new();
    req.resp_fd = -1;
    strcpy(req.request_id, "11111111-2222-3333-4444-555555555555");
    req.http.method = method;
    req.http.body = body;
    req.http.body_len = body ? strlen(body) : 0;
    req.http.query = query ? query : "";
    req.caller.account_id = "000000000000";
    return &req;
}

static void free_req(struct proto_req *req)
{
    json_object_put(req->input);
    json_object_put(req->output);
    proto_sb_free(&req->body);
    proto_sb_free(&req->err_extra);
    proto_arena_free(req->arena);
}

static int op_echo(struct proto_req *req)
{
    req->output = json_object_get(req->input);
    return 0;
}

static const struct proto_operation test_ops[] = {
    {"AssumeRole", op_echo},
    {"GetCallerIdentity", op_echo},
};

static const struct proto_service test_sts = {
    .name = "sts",
    .protocol = PROTO_AWS_QUERY,
    .ops = test_ops,
    .n_ops = 2,
    .model = &proto_model_sts,
    .api_version = "2011-06-15",
};

static void init(void)
{
    cr_assert_eq(proto_model_init(), 0);
}

Test(proto_query, form_names_and_values_are_percent_and_plus_decoded)
{
    struct proto_req *req = new_req("POST", NULL, NULL);
    struct proto_query_param *ps;
    const char *s = "Action=Get%41&x=a+b%2Bc&empty=&bare&&last=%E2%82%AC";
    int n = proto_query_parse(req->arena, s, strlen(s), &ps);
    cr_assert_eq(n, 5);
    cr_assert_str_eq(ps[0].name, "Action");
    cr_assert_str_eq(ps[0].value, "GetA");
    cr_assert_str_eq(ps[1].value, "a b+c");
    cr_assert_str_eq(ps[2].value, "");
    cr_assert_str_eq(ps[3].name, "bare");
    cr_assert_str_eq(ps[4].value, "\xe2\x82\xac");
    free_req(req);
}

Test(proto_query, malformed_escapes_and_non_utf8_bytes_are_refused)
{
    struct proto_req *req = new_req("POST", NULL, NULL);
    struct proto_query_param *ps;
    const char *bad[] = {"a=%", "a=%4", "a=%zz", "a=%ff", "%00=x", "a=\xc3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(proto_query_parse(req->arena, bad[i], strlen(bad[i]), &ps), -1, "%s", bad[i]);
    free_req(req);
}

/* Builds AssumeRole's input from body; returns its JSON text (static) or NULL with req's error. */
static const char *build(struct proto_req *req, const char *body)
{
    static char out[2048];
    struct proto_query_param *ps;
    int n = proto_query_parse(req->arena, body, strlen(body), &ps);
    cr_assert_geq(n, 0);
    struct json_object *in = NULL;
    const struct proto_model_op *op = proto_model_find_op(&proto_model_sts, "AssumeRole");
    cr_assert_not_null(op);
    if (proto_query_build_input(req, op, ps, n, &in) < 0) return NULL;
    snprintf(out, sizeof out, "%s", json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN));
    json_object_put(in);
    return out;
}

Test(proto_query, flattened_members_build_the_models_structure, .init = init)
{
    struct proto_req *req = new_req("POST", NULL, NULL);
    const char *got = build(req, "Action=AssumeRole&Version=2011-06-15&RoleArn=r&"
                                 "DurationSeconds=900&Tags.member.2.Key=b&Tags.member.2.Value=2&"
                                 "Tags.member.1.Key=a&PolicyArns.member.1.arn=p&Unknown=1&"
                                 "TransitiveTagKeys=");
    cr_assert_str_eq(got, "{\"RoleArn\":\"r\",\"DurationSeconds\":900,\"Tags\":[{\"Key\":\"a\"},"
                          "{\"Key\":\"b\",\"Value\":\"2\"}],\"PolicyArns\":[{\"arn\":\"p\"}],"
                          "\"TransitiveTagKeys\":[]}");
    free_req(req);
}

Test(proto_query, sparse_list_indexes_close_up, .init = init)
{
    struct proto_req *req = new_req("POST", NULL, NULL);
    const char *got = build(req, "TransitiveTagKeys.member.3=c&TransitiveTagKeys.member.1=a");
    cr_assert_str_eq(got, "{\"TransitiveTagKeys\":[\"a\",\"c\"]}");
    free_req(req);
}

Test(proto_query, wrong_types_and_indexes_are_invalid_parameter_values, .init = init)
{
    const char *bad[] = {"DurationSeconds=abc", "DurationSeconds=99999999999",
                         "DurationSeconds=", "Tags.member.0.Key=a", "Tags.member.1001.Key=a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct proto_req *req = new_req("POST", NULL, NULL);
        cr_assert_null(build(req, bad[i]), "%s", bad[i]);
        cr_assert_eq(req->err, ERR_QUERY_INVALID_PARAMETER_VALUE, "%s", bad[i]);
        free_req(req);
    }
}

Test(proto_query, names_that_do_not_fit_the_model_are_ignored, .init = init)
{
    struct proto_req *req = new_req("POST", NULL, NULL);
    const char *got = build(req, "RoleArn.x=1&Tags.item.1.Key=a&Tags.member.x.Key=a&"
                                 "Tags.member.1=a&Tags.member.1.Key.deeper=a&Tags.member=");
    cr_assert_str_eq(got, "{}");
    free_req(req);
}

Test(proto_query, xml_answers_list_members_and_escape_text)
{
    struct proto_sb sb = PROTO_SB_INIT;
    struct json_object *o = json_tokener_parse(
        "{\"A\":\"x<&>\",\"L\":[\"1\",{\"K\":true}],\"N\":12,\"E\":[],\"Z\":null}");
    proto_query_xml_value(&sb, o);
    cr_assert_str_eq(proto_sb_str(&sb), "<A>x&lt;&amp;&gt;</A><L><member>1</member><member><K>true"
                                        "</K></member></L><N>12</N><E></E>");
    json_object_put(o);
    proto_sb_free(&sb);
}

Test(proto_query, dispatch_wraps_the_result_in_the_actions_response, .init = init)
{
    struct proto_req *req = new_req("POST", "Action=GetCallerIdentity&Version=2011-06-15", NULL);
    req->service = &test_sts;
    cr_assert_eq(proto_query_dispatch(req), 0);
    cr_assert_eq(req->status, 200);
    cr_assert_str_eq(proto_sb_str(&req->body),
                     "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/"
                     "\"><GetCallerIdentityResult></GetCallerIdentityResult><ResponseMetadata>"
                     "<RequestId>11111111-2222-3333-4444-555555555555</RequestId>"
                     "</ResponseMetadata></GetCallerIdentityResponse>");
    free_req(req);
}

Test(proto_query, dispatch_reads_the_query_string_of_a_get, .init = init)
{
    struct proto_req *req = new_req("GET", "", "Action=GetCallerIdentity&Version=2011-06-15");
    req->service = &test_sts;
    cr_assert_eq(proto_query_dispatch(req), 0);
    free_req(req);
}

static void expect_error(const char *body, enum proto_err e, const char *code, int status)
{
    struct proto_req *req = new_req("POST", body, NULL);
    req->service = &test_sts;
    cr_assert_lt(proto_query_dispatch(req), 0, "%s", body);
    proto_query_error_finish(req);
    cr_assert_eq(req->err, e, "%s: %s", body, proto_err_code(req->err));
    cr_assert_eq(req->status, status, "%s", body);
    char want[128];
    snprintf(want, sizeof want, "<Code>%s</Code>", code);
    cr_assert(strstr(proto_sb_str(&req->body), want), "%s: %s", body, proto_sb_str(&req->body));
    free_req(req);
}

Test(proto_query, dispatch_errors_are_awsquerys, .init = init)
{
    expect_error("Version=2011-06-15", ERR_QUERY_MISSING_ACTION, "MissingAction", 400);
    expect_error("Action=GetCallerIdentity", ERR_QUERY_MISSING_PARAMETER, "MissingParameter", 400);
    expect_error("Action=GetCallerIdentity&Version=1", ERR_QUERY_INVALID_ACTION, "InvalidAction",
                 400);
    expect_error("Action=Nope&Version=2011-06-15", ERR_QUERY_INVALID_ACTION, "InvalidAction", 400);
    expect_error("Action=GetSessionToken&Version=2011-06-15", ERR_NOT_IMPLEMENTED,
                 "NotImplementedException", 501);
    expect_error("Action=%zz", ERR_QUERY_MALFORMED, "MalformedQueryString", 400);
    expect_error("Action=AssumeRole&Version=2011-06-15&RoleSessionName=ab", ERR_QUERY_VALIDATION,
                 "ValidationError", 400);
}

Test(proto_query, sigv4_errors_get_awsquerys_codes)
{
    static const struct {
        enum proto_err in;
        const char *code;
        int status;
    } cases[] = {
        {ERR_UNRECOGNIZED_CLIENT, "InvalidClientTokenId", 403},
        {ERR_EXPIRED_TOKEN, "ExpiredToken", 403},
        {ERR_INVALID_SIGNATURE, "SignatureDoesNotMatch", 403},
        {ERR_MISSING_AUTH_TOKEN, "MissingAuthenticationToken", 403},
        {ERR_INTERNAL_FAILURE, "InternalFailure", 500},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct proto_req *req = new_req("POST", "", NULL);
        proto_error(req, cases[i].in, "m<");
        proto_query_error_finish(req);
        char want[256];
        snprintf(want, sizeof want,
                 "<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>m&lt;</Message>"
                 "</Error><RequestId>11111111-2222-3333-4444-555555555555</RequestId>"
                 "</ErrorResponse>",
                 cases[i].status >= 500 ? "Receiver" : "Sender", cases[i].code);
        cr_assert_str_eq(proto_sb_str(&req->body), want);
        cr_assert_eq(req->status, cases[i].status);
        free_req(req);
    }
}
