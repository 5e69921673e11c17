/* sigv4's refusals as each protocol's error: the AWS code and HTTP status of every kind, and S3's
 * detail elements. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "protocol/authfail.h"
#include "protocol/json.h"
#include "protocol/service.h"
#include "sigv4/canonical.h"

static const struct proto_service s3_svc = {.name = "s3", .protocol = PROTO_REST_XML};
static const struct proto_service json_svc = {.name = "codepipeline", .protocol = PROTO_JSON_1_1};

static struct proto_req *new_req(const struct proto_service *svc)
{
    static struct proto_req req;
    memset(&req, 0, sizeof(req));
    req.arena = proto_arena_new();
    req.resp_fd = -1;
    strcpy(req.request_id, "11111111-2222-3333-4444-555555555555");
    req.http.query = "";
    req.service = svc;
    return &req;
}

static void free_req(struct proto_req *req)
{
    proto_sb_free(&req->body);
    proto_sb_free(&req->err_extra);
    proto_arena_free(req->arena);
}

/* Returns "Code status" of kind for S3 (header or presigned form) or the JSON services. */
static const char *answer(enum sigv4_fail_kind kind, int s3, int presigned)
{
    static char buf[128];
    struct sigv4_failure f = {.kind = kind, .presigned = presigned};
    enum proto_err e = proto_auth_err(&f, s3);
    snprintf(buf, sizeof buf, "%s %d", proto_err_code(e), proto_err_status(e));
    return buf;
}

Test(proto_authfail, every_kind_has_the_code_and_status_aws_answers)
{
    static const struct {
        enum sigv4_fail_kind kind;
        const char *s3_header, *s3_query, *json;
    } rows[] = {
        {SIGV4_F_MISSING_AUTH, "AccessDenied 403", "AccessDenied 403",
         "MissingAuthenticationTokenException 400"},
        {SIGV4_F_UNSUPPORTED_AUTH, "InvalidArgument 400", "InvalidArgument 400",
         "MissingAuthenticationTokenException 400"},
        {SIGV4_F_AMBIGUOUS_AUTH, "InvalidArgument 400", "InvalidArgument 400",
         "InvalidSignatureException 400"},
        {SIGV4_F_INCOMPLETE, "AccessDenied 403", "AccessDenied 403",
         "IncompleteSignatureException 400"},
        {SIGV4_F_MALFORMED, "AuthorizationHeaderMalformed 400",
         "AuthorizationQueryParametersError 400", "IncompleteSignatureException 400"},
        {SIGV4_F_NOT_IMPLEMENTED, "NotImplemented 501", "NotImplemented 501",
         "IncompleteSignatureException 400"},
        {SIGV4_F_BAD_SCOPE, "AuthorizationHeaderMalformed 400",
         "AuthorizationQueryParametersError 400", "InvalidSignatureException 400"},
        {SIGV4_F_EXPIRED, "AccessDenied 403", "AccessDenied 403", "InvalidSignatureException 400"},
        {SIGV4_F_SKEWED, "RequestTimeTooSkewed 403", "RequestTimeTooSkewed 403",
         "InvalidSignatureException 400"},
        {SIGV4_F_MISSING_PAYLOAD_HASH, "InvalidRequest 400", "InvalidRequest 400",
         "IncompleteSignatureException 400"},
        {SIGV4_F_BAD_PAYLOAD_HASH, "InvalidArgument 400", "InvalidArgument 400",
         "IncompleteSignatureException 400"},
        {SIGV4_F_HEADERS_NOT_SIGNED, "AccessDenied 403", "AccessDenied 403",
         "InvalidSignatureException 400"},
        {SIGV4_F_UNKNOWN_KEY, "InvalidAccessKeyId 403", "InvalidAccessKeyId 403",
         "UnrecognizedClientException 400"},
        {SIGV4_F_BAD_TOKEN, "InvalidToken 400", "InvalidToken 400",
         "UnrecognizedClientException 400"},
        {SIGV4_F_EXPIRED_TOKEN, "ExpiredToken 400", "ExpiredToken 400",
         "ExpiredTokenException 400"},
        {SIGV4_F_SIGNATURE_MISMATCH, "SignatureDoesNotMatch 403", "SignatureDoesNotMatch 403",
         "InvalidSignatureException 400"},
        {SIGV4_F_BAD_CHUNK, "IncompleteBody 400", "IncompleteBody 400",
         "SerializationException 400"},
        {SIGV4_F_INTERNAL, "InternalError 500", "InternalError 500", "InternalFailure 500"},
    };
    cr_assert_eq(sizeof rows / sizeof rows[0], SIGV4_F_INTERNAL, "one row per kind");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cr_expect_str_eq(answer(rows[i].kind, 1, 0), rows[i].s3_header, "kind %d", rows[i].kind);
        cr_expect_str_eq(answer(rows[i].kind, 1, 1), rows[i].s3_query, "kind %d", rows[i].kind);
        cr_expect_str_eq(answer(rows[i].kind, 0, 0), rows[i].json, "kind %d", rows[i].kind);
        cr_expect_str_eq(answer(rows[i].kind, 0, 1), rows[i].json, "kind %d", rows[i].kind);
    }
}

Test(proto_authfail, s3_gets_the_details_as_error_elements_in_order)
{
    struct sigv4_failure f = {0};
    sigv4_fail_detail(&f, "AWSAccessKeyId", "AK", 2, 0);
    sigv4_fail_detail(&f, "StringToSign", "a<b>&\"c'\r", 9, 0);
    sigv4_fail_detail(&f, "StringToSignBytes", "A\n\xff", 3, 1);
    sigv4_fail_detail(&f, "ArgumentValue", "", 0, 0);
    sigv4_fail(&f, SIGV4_F_SIGNATURE_MISMATCH, "%s", "no <match>");
    struct proto_req *req = new_req(&s3_svc);
    cr_expect_eq(proto_auth_error(req, &f), -ERR_S3_SIGNATURE_DOES_NOT_MATCH);
    sigv4_failure_free(&f);
    cr_expect_null(f.message, "freed and zeroed");
    cr_expect_str_eq(proto_sb_str(&req->err_extra),
                     "<AWSAccessKeyId>AK</AWSAccessKeyId>"
                     "<StringToSign>a&lt;b&gt;&amp;&quot;c&apos;&#13;</StringToSign>"
                     "<StringToSignBytes>41 0a ff</StringToSignBytes>"
                     "<ArgumentValue></ArgumentValue>");
    proto_xml_error_finish(req);
    cr_expect_eq(req->status, 403);
    cr_expect(strstr(proto_sb_str(&req->body),
                     "<Error><Code>SignatureDoesNotMatch</Code><Message>no &lt;match&gt;</Message>"
                     "<AWSAccessKeyId>AK</AWSAccessKeyId>"),
              "%s", proto_sb_str(&req->body));
    free_req(req);
}

Test(proto_authfail, json_services_get_the_message_alone)
{
    struct sigv4_failure f = {0};
    sigv4_fail_detail(&f, "AWSAccessKeyId", "AK", 2, 0);
    sigv4_fail(&f, SIGV4_F_UNKNOWN_KEY, "The security token included in the request is invalid.");
    struct proto_req *req = new_req(&json_svc);
    cr_expect_eq(proto_auth_error(req, &f), -ERR_UNRECOGNIZED_CLIENT);
    cr_expect_eq(req->err_extra.len, 0);
    cr_expect_str_eq(req->err_message, "The security token included in the request is invalid.");
    sigv4_failure_free(&f);
    /* no service (an unrouted request) answers as the JSON services do */
    req->service = NULL;
    f.kind = SIGV4_F_MISSING_AUTH;
    cr_expect_eq(proto_auth_error(req, &f), -ERR_MISSING_AUTH_TOKEN);
    cr_expect_str_eq(req->err_message, "");
    free_req(req);
}
