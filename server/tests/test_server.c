/* Server tests: flags, routing, and the whole HTTP path of a server started in-process. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "protocol/model.h"
#include "protocol/strbuf.h"
#include "providers/codecommit/codecommit.h"
#include "providers/codepipeline/codepipeline.h"
#include "providers/connections/connections.h"
#include "providers/iam/iam.h"
#include "providers/s3/s3.h"
#include "providers/sts/sts.h"
#include "server/log.h"
#include "server/options.h"
#include "server/routes.h"
#include "server/server.h"

static int parse(struct srv_options *o, int argc, const char **argv)
{
    char err[256];
    srv_options_defaults(o);
    /* main's argv is writable; these literals are not, and the parser never writes */
    return srv_options_parse(argc, (char **)argv, o, err, sizeof(err));
}

Test(srv_options, defaults_match_the_contract)
{
    struct srv_options o;
    cr_assert_eq(parse(&o, 1, (const char *[]){"x", NULL}), 0);
    cr_assert_str_eq(o.host, "127.0.0.1");
    cr_assert_eq(o.port, 4566);
    cr_assert_str_eq(o.region, "us-east-1");
    cr_assert_str_eq(o.account_id, "000000000000");
    cr_assert_eq(o.auth_off, 0);
    cr_assert_eq(o.shutdown_grace, 5);
}

Test(srv_options, shutdown_grace_takes_whole_seconds_up_to_an_hour)
{
    struct srv_options o;
    cr_assert_eq(parse(&o, 3, (const char *[]){"x", "--shutdown-grace", "120", NULL}), 0);
    cr_assert_eq(o.shutdown_grace, 120);
    cr_assert_eq(parse(&o, 3, (const char *[]){"x", "--shutdown-grace", "3601", NULL}), -1);
    cr_assert_eq(parse(&o, 3, (const char *[]){"x", "--shutdown-grace", "1.5", NULL}), -1);
}

Test(srv_options, accepts_both_value_forms)
{
    struct srv_options o;
    const char *argv[] = {"x", "--port=5000", "--auth", "off", "--region", "eu-west-1", NULL};
    cr_assert_eq(parse(&o, 6, argv), 0);
    cr_assert_eq(o.port, 5000);
    cr_assert_eq(o.auth_off, 1);
    cr_assert_str_eq(o.region, "eu-west-1");
}

Test(srv_options, rejects_bad_values_and_unknown_flags)
{
    struct srv_options o;
    cr_assert_eq(parse(&o, 3, (const char *[]){"x", "--port", "65536", NULL}), -1);
    cr_assert_eq(parse(&o, 3, (const char *[]){"x", "--port", "-1", NULL}), -1);
    cr_assert_eq(parse(&o, 3, (const char *[]){"x", "--account-id", "12345", NULL}), -1);
    cr_assert_eq(parse(&o, 3, (const char *[]){"x", "--auth", "sigv2", NULL}), -1);
    cr_assert_eq(parse(&o, 3, (const char *[]){"x", "--region", "US EAST", NULL}), -1);
    cr_assert_eq(parse(&o, 2, (const char *[]){"x", "--bogus", NULL}), -1);
    cr_assert_eq(parse(&o, 2, (const char *[]){"x", "--port", NULL}), -1);
}

Test(srv_routes, the_service_table_is_services_def_with_each_model_in_order)
{
    static const struct {
        const char *name;
        const struct proto_model_service *model;
    } want[] = {
#define PROTO_SERVICE(name, provider) {#name, &proto_model_##name},
#include "protocol/services.def"
#undef PROTO_SERVICE
    };
    const struct proto_service *const *svc = srv_services();
    size_t n = 0;
    for (; svc[n]; n++) {
        cr_assert_lt(n, sizeof want / sizeof want[0]);
        char name[64]; /* the row's name: the signing name with '_' for '-' */
        snprintf(name, sizeof name, "%s", svc[n]->name);
        for (char *c = name; *c; c++)
            if (*c == '-') *c = '_';
        cr_assert_str_eq(name, want[n].name);
        cr_assert_eq(svc[n]->model, want[n].model, "%s", want[n].name);
    }
    cr_assert_eq(n, sizeof want / sizeof want[0]);
    cr_assert_str_eq(svc[0]->name, "s3"); /* started first: the others call it */
    cr_assert_str_eq(svc[n - 1]->name, "codepipeline");
}

static enum srv_route pick(const char *method, const char *path, const char *query,
                           const char *target, const char *scope, const char *ctype,
                           const struct proto_service **svc, const char **named)
{
    struct srv_route_input in = {.method = method,
                                 .path = path,
                                 .query = query,
                                 .target = target,
                                 .scope_service = scope,
                                 .content_type = ctype};
    return srv_route_pick(&in, svc, named);
}

#define FORM "application/x-www-form-urlencoded; charset=utf-8"

Test(srv_routes, target_prefix_picks_the_json_service)
{
    const struct proto_service *svc;
    const char *named;
    cr_assert_eq(pick("POST", "/", "", "CodePipeline_20150709.ListPipelines", "codepipeline", NULL,
                      &svc, &named),
                 SRV_ROUTE_JSON);
    cr_assert_eq(svc, &cp_service);
    cr_assert_eq(
        pick("POST", "/", "", "CodePipeline_20150709.ListPipelines", NULL, NULL, &svc, &named),
        SRV_ROUTE_JSON);
}

Test(srv_routes, a_dotted_prefix_also_matches_its_shape_name_alone)
{
    const struct proto_service *svc;
    const char *named;
    /* botocore's target and the Smithy SDKs' (Go v2, JavaScript v3) for the same call */
    cr_assert_eq(pick("POST", "/", "",
                      "com.amazonaws.codestar.connections.CodeStar_connections_20191201."
                      "CreateConnection",
                      "codestar-connections", NULL, &svc, &named),
                 SRV_ROUTE_JSON);
    cr_assert_eq(svc, &conn_codestar_service);
    svc = NULL;
    cr_assert_eq(pick("POST", "/", "", "CodeStar_connections_20191201.CreateConnection",
                      "codestar-connections", NULL, &svc, &named),
                 SRV_ROUTE_JSON);
    cr_assert_eq(svc, &conn_codestar_service);
    svc = NULL;
    cr_assert_eq(pick("POST", "/", "", "CodeConnections_20231201.ListConnections",
                      "codeconnections", NULL, &svc, &named),
                 SRV_ROUTE_JSON);
    cr_assert_eq(svc, &conn_codeconnections_service);
    /* the shape name must be whole */
    cr_assert_eq(pick("POST", "/", "", "Connections_20191201.CreateConnection",
                      "codestar-connections", NULL, &svc, &named),
                 SRV_ROUTE_UNKNOWN_TARGET);
}

Test(srv_routes, json_scope_without_target_is_an_unknown_operation)
{
    const struct proto_service *svc;
    const char *named;
    cr_assert_eq(pick("POST", "/", "", NULL, "codepipeline", NULL, &svc, &named),
                 SRV_ROUTE_UNKNOWN_TARGET);
    cr_assert_eq(pick("POST", "/", "", "CodePipeline_2099.X", "codepipeline", NULL, &svc, &named),
                 SRV_ROUTE_UNKNOWN_TARGET);
    cr_assert_eq(svc, &cp_service);
}

Test(srv_routes, s3_request_scoped_to_a_json_service_goes_to_s3)
{
    const struct proto_service *svc;
    const char *named;
    cr_assert_eq(pick("GET", "/bucket", "list-type=2", NULL, "codepipeline", NULL, &svc, &named),
                 SRV_ROUTE_REST);
    cr_assert_eq(svc, &s3_service);
    cr_assert_eq(pick("PUT", "/bucket/key", "", NULL, "codebuild", NULL, &svc, &named),
                 SRV_ROUTE_REST);
}

Test(srv_routes, sts_and_iam_are_served_on_aws_query)
{
    const struct proto_service *svc;
    const char *named;
    cr_assert_eq(pick("POST", "/", "", NULL, "sts", FORM, &svc, &named), SRV_ROUTE_QUERY);
    cr_assert_eq(svc, &sts_service);
    cr_assert_eq(
        pick("GET", "/", "Action=ListRoles&Version=2010-05-08", NULL, "iam", NULL, &svc, &named),
        SRV_ROUTE_QUERY);
    cr_assert_eq(svc, &iam_service);
}

Test(srv_routes, services_not_served_answer_in_their_protocol)
{
    const struct proto_service *svc;
    const char *named;
    cr_assert_eq(pick("POST", "/", "", NULL, "sns", FORM, &svc, &named),
                 SRV_ROUTE_NOT_SERVED_QUERY);
    cr_assert_null(svc);
    cr_assert_str_eq(named, "sns");
    cr_assert_eq(
        pick("GET", "/", "Action=ListTopics&Version=2010-03-31", NULL, "sns", NULL, &svc, &named),
        SRV_ROUTE_NOT_SERVED_QUERY);
    cr_assert_eq(pick("POST", "/", "", NULL, "somequeryservice", FORM, &svc, &named),
                 SRV_ROUTE_NOT_SERVED_QUERY);
    cr_assert_eq(pick("POST", "/", "", NULL, NULL, FORM, &svc, &named), SRV_ROUTE_NOT_SERVED_QUERY);
    cr_assert_null(named);
    cr_assert_eq(pick("POST", "/", "", "secretsmanager.ListSecrets", "secretsmanager",
                      "application/x-amz-json-1.1", &svc, &named),
                 SRV_ROUTE_NOT_SERVED_JSON);
    cr_assert_str_eq(named, "secretsmanager");
    cr_assert_eq(pick("POST", "/", "", "Logs_20140328.DescribeLogGroups", "logs",
                      "application/x-amz-json-1.1", &svc, &named),
                 SRV_ROUTE_JSON);
    cr_assert_str_eq(svc->name, "logs");
    cr_assert_eq(pick("POST", "/", "", "Nope_1.X", NULL, NULL, &svc, &named),
                 SRV_ROUTE_NOT_SERVED_JSON);
    cr_assert_eq(pick("GET", "/2015-03-31/functions/", "", NULL, "lambda", NULL, &svc, &named),
                 SRV_ROUTE_NOT_SERVED_JSON);
}

Test(srv_routes, everything_else_is_s3_git_or_internal)
{
    const struct proto_service *svc;
    const char *named;
    cr_assert_eq(pick("GET", "/bucket/key", "", NULL, "s3", NULL, &svc, &named), SRV_ROUTE_REST);
    cr_assert_eq(svc, &s3_service);
    cr_assert_eq(pick("GET", "/", "", NULL, NULL, NULL, &svc, &named), SRV_ROUTE_REST);
    cr_assert_eq(pick("POST", "/bucket", "delete", NULL, NULL, FORM, &svc, &named), SRV_ROUTE_REST);
    cr_assert_eq(pick("GET", "/v1/repos/app/info/refs", "", NULL, NULL, NULL, &svc, &named),
                 SRV_ROUTE_RAW);
    cr_assert_eq(svc, &cc_git_service);
    cr_assert_eq(pick("GET", "/_codepipeline-local/health", "", NULL, NULL, NULL, &svc, &named),
                 SRV_ROUTE_HEALTH);
}

/* ---- a live server ---- */

static srv *server;
static char data_dir[64];
static char base_url[64];

static void start_server(void)
{
    strcpy(data_dir, "/tmp/cpl-srv-test-XXXXXX");
    cr_assert_not_null(mkdtemp(data_dir));
    struct srv_options o;
    srv_options_defaults(&o);
    o.port = 0;
    o.data_dir = data_dir;
    o.threads = 2;
    o.max_body = 1 << 20;
    o.log_level = SRV_LOG_ERROR;
    char err[256];
    cr_assert_eq(srv_start(&o, &server, err, sizeof(err)), 0, "%s", err);
    snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u", srv_port(server));
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void stop_server(void)
{
    srv_stop(server);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", data_dir);
    cr_assert_eq(system(cmd), 0);
    curl_global_cleanup();
}

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    proto_sb_append(ud, p, sz * n);
    return sz * n;
}

/* Performs a request; returns the status and fills body and (optionally) headers. */
static long http(const char *method, const char *path, struct curl_slist *hdrs, const char *data,
                 long data_len, struct proto_sb *body, struct proto_sb *headers)
{
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof(url), "%s%s", base_url, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    if (headers) {
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, headers);
    }
    if (hdrs) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (data) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, data_len);
    }
    cr_assert_eq(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

TestSuite(srv_http, .init = start_server, .fini = stop_server, .timeout = 30);

Test(srv_http, health_answers_json_with_every_service)
{
    struct proto_sb body = PROTO_SB_INIT;
    cr_assert_eq(http("GET", "/_codepipeline-local/health", NULL, NULL, 0, &body, NULL), 200);
    const char *b = proto_sb_str(&body);
    cr_assert(strstr(b, "\"status\":\"running\""), "%s", b);
    cr_assert(strstr(b, "\"codepipeline\":"), "%s", b);
    cr_assert(strstr(b, "\"s3\":\"running\""), "%s", b);
    proto_sb_free(&body);
}

Test(srv_http, unsigned_json_call_is_missing_authentication_token)
{
    struct proto_sb body = PROTO_SB_INIT, hdr = PROTO_SB_INIT;
    struct curl_slist *h =
        curl_slist_append(NULL, "X-Amz-Target: CodePipeline_20150709.ListPipelines");
    h = curl_slist_append(h, "Content-Type: application/x-amz-json-1.1");
    cr_assert_eq(http("POST", "/", h, "{}", 2, &body, &hdr), 400);
    cr_assert(strstr(proto_sb_str(&body), "\"__type\":\"MissingAuthenticationTokenException\""),
              "%s", proto_sb_str(&body));
    cr_assert(strcasestr(proto_sb_str(&hdr), "x-amzn-RequestId: "), "%s", proto_sb_str(&hdr));
    curl_slist_free_all(h);
    proto_sb_free(&body);
    proto_sb_free(&hdr);
}

Test(srv_http, unknown_target_is_unknown_operation)
{
    struct proto_sb body = PROTO_SB_INIT;
    struct curl_slist *h = curl_slist_append(NULL, "X-Amz-Target: Nope_20200101.Do");
    cr_assert_eq(http("POST", "/", h, "{}", 2, &body, NULL), 400);
    cr_assert(strstr(proto_sb_str(&body), "UnknownOperationException"), "%s", proto_sb_str(&body));
    curl_slist_free_all(h);
    proto_sb_free(&body);
}

Test(srv_http, declared_body_over_the_limit_is_413_before_reading_it)
{
    struct proto_sb body = PROTO_SB_INIT;
    struct curl_slist *h =
        curl_slist_append(NULL, "X-Amz-Target: CodePipeline_20150709.ListPipelines");
    size_t n = (2 << 20);
    char *big = malloc(n);
    memset(big, ' ', n);
    cr_assert_eq(http("POST", "/", h, big, (long)n, &body, NULL), 413);
    cr_assert(strstr(proto_sb_str(&body), "RequestEntityTooLargeException"), "%s",
              proto_sb_str(&body));
    free(big);
    curl_slist_free_all(h);
    proto_sb_free(&body);
}

Test(srv_http, anonymous_s3_request_is_access_denied_xml)
{
    struct proto_sb body = PROTO_SB_INIT, hdr = PROTO_SB_INIT;
    cr_assert_eq(http("GET", "/some-bucket/key", NULL, NULL, 0, &body, &hdr), 403);
    cr_assert(strstr(proto_sb_str(&body), "<Code>AccessDenied</Code>"), "%s", proto_sb_str(&body));
    cr_assert(strcasestr(proto_sb_str(&hdr), "x-amz-request-id: "), "%s", proto_sb_str(&hdr));
    proto_sb_free(&body);
    proto_sb_free(&hdr);
}

Test(srv_http, unknown_internal_path_is_404)
{
    struct proto_sb body = PROTO_SB_INIT;
    cr_assert_eq(http("GET", "/_codepipeline-local/nope", NULL, NULL, 0, &body, NULL), 404);
    proto_sb_free(&body);
}
